"""``segmint serve``, ``segmint token`` and ``segmint user``: the server and who may use it.

A thin Typer adapter over :mod:`segmint.api` and :mod:`segmint.serving`, registered in
:mod:`segmint.cli` with :func:`register`.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

_Project = Annotated[
    Path, typer.Option("--project", "-p", help="Project folder.", show_default=False)
]
_Json = Annotated[bool, typer.Option("--json", help="Print results as JSON.")]
_Role = Annotated[str, typer.Option("--role", help="viewer, analyst or admin.")]

token_app = typer.Typer(help="API tokens of the server.", no_args_is_help=True)
user_app = typer.Typer(help="Users of the web UI.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.add_typer(token_app, name="token")
    app.add_typer(user_app, name="user")


def _auth(project: Path):  # type: ignore[no-untyped-def]
    from segmint import service
    from segmint.api._auth import AuthStore

    return AuthStore(service.open_project(project).root)


def serve(
    project: _Project = Path("."),
    host: Annotated[str, typer.Option(help="Address to listen on (the machine only).")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="Worker processes (each reads the replica).")
    ] = 1,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "warning",
) -> None:
    """REST API + web UI of the project, on 127.0.0.1:8000 by default.

    Reads a serving replica that every run, load and erasure publishes, so it runs beside
    scheduled runs and shows a new run without a restart (docs/api.md).
    """
    import uvicorn

    from segmint import service, serving
    from segmint.api._app import PROJECT_ENV
    from segmint.cli import _user_errors, err

    with _user_errors():
        proj = service.open_project(project)
        root = proj.root
        published = serving.ensure_replica(proj, say=lambda m: err.print(m, highlight=False))
        proj.close()
    if published is not None:
        err.print(f"Published replica {published.path.name} in {published.seconds_total:.1f} s")
    if host not in ("127.0.0.1", "localhost", "::1"):
        err.print(f"[yellow]Listening on {host}: reachable from other machines[/]")
    err.print(f"segmint serves {root} on http://{host}:{port}/ (API docs: /docs)")
    if workers > 1:
        os.environ[PROJECT_ENV] = str(root)
        uvicorn.run(
            "segmint.api:app_from_env",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level=log_level,
            access_log=False,
        )
    else:
        from segmint.api import create_app

        with _user_errors():
            app = create_app(root)
        uvicorn.run(app, host=host, port=port, log_level=log_level, access_log=False)


@token_app.command("create")
def token_create(
    name: Annotated[str, typer.Option("--name", help="A name for the token (who uses it).")],
    role: _Role = "viewer",
    project: _Project = Path("."),
    as_json: _Json = False,
) -> None:
    """Create an API token; it is shown once (only its SHA-256 is kept)."""
    from segmint.cli import _print_json, _user_errors, err, out

    with _user_errors():
        token = _auth(project).create_token(name, role, created_by="cli")
    if as_json:
        _print_json({"name": name, "role": role, "token": token})
        return
    out.print(token, highlight=False)
    err.print(f"Token {name!r} ({role}): shown once, keep it safe.")


@token_app.command("list")
def token_list(project: _Project = Path("."), as_json: _Json = False) -> None:
    """Tokens with their roles and when they were last used."""
    from rich.table import Table

    from segmint.cli import _print_json, _user_errors, out

    with _user_errors():
        rows = _auth(project).tokens()
    if as_json:
        _print_json(rows)
        return
    t = Table("name", "role", "created", "last used", "revoked")
    for r in rows:
        t.add_row(r["name"], r["role"], r["created_at"], r["last_used_at"] or "-",
                  r["revoked_at"] or "")  # fmt: skip
    out.print(t)


@token_app.command("revoke")
def token_revoke(
    name: Annotated[str, typer.Argument(help="Token name.")], project: _Project = Path(".")
) -> None:
    """Revoke a token (a running server refuses it within seconds)."""
    from segmint.cli import _user_errors, out

    with _user_errors():
        _auth(project).revoke_token(name)
    out.print(f"Revoked token {name!r}")


@user_app.command("add")
def user_add(
    name: Annotated[str, typer.Argument(help="User name.")],
    role: _Role = "viewer",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    project: _Project = Path("."),
) -> None:
    """Add a user of the web UI (or change their role and password)."""
    from segmint.cli import _user_errors, out

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    with _user_errors():
        _auth(project).add_user(name, role, password)
    out.print(f"User {name!r} ({role}) can log in")


@user_app.command("list")
def user_list(project: _Project = Path("."), as_json: _Json = False) -> None:
    """Users and their roles."""
    from segmint.cli import _print_json, _user_errors, out

    with _user_errors():
        rows = _auth(project).users()
    if as_json:
        _print_json(rows)
        return
    for r in rows:
        out.print(f"{r['name']}\t{r['role']}\t{r['created_at']}")


@user_app.command("remove")
def user_remove(
    name: Annotated[str, typer.Argument(help="User name.")], project: _Project = Path(".")
) -> None:
    """Remove a user (their sessions end)."""
    from segmint.cli import _user_errors, out

    with _user_errors():
        _auth(project).remove_user(name)
    out.print(f"Removed user {name!r}")
