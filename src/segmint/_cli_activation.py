"""``segmint export``, ``segmint exports`` and ``segmint forget``: thin adapters over
:mod:`segmint.activation`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer

_Project = Annotated[
    Path, typer.Option("--project", "-p", help="Project folder.", show_default=False)
]
_Json = Annotated[bool, typer.Option("--json", help="Print results as JSON.")]
_Actor = Annotated[
    str | None, typer.Option(help="Who exports, for the audit log (default: the OS user).")
]


def register(app: typer.Typer) -> None:
    app.command("export")(export)
    app.command("exports")(exports)
    app.command("forget")(forget)


def export(
    segment: Annotated[str, typer.Argument(help="Segment to export.")],
    to: Annotated[str | None, typer.Option("--to", help="Destination from segmint.yaml.")] = None,
    fmt: Annotated[
        str | None, typer.Option("--format", help="Ad hoc file: csv, xlsx or parquet.")
    ] = None,
    out_file: Annotated[Path | None, typer.Option("--out", help="Ad hoc file path.")] = None,
    channel: Annotated[
        list[str] | None,
        typer.Option(help="Ad hoc: consent channel(s) members must have (email, sms, ...)."),
    ] = None,
    mode: Annotated[
        str | None, typer.Option(help="full or delta (default: the destination's).")
    ] = None,
    actor: _Actor = None,
    project: _Project = Path("."),
    as_json: _Json = False,
) -> None:
    """Export a segment's members to a destination, consent and suppression enforced."""
    from segmint import service
    from segmint.activation import DestinationConfig, export_segment
    from segmint.cli import _print_json, _user_errors, out

    if (to is None) == (fmt is None):
        raise typer.BadParameter("give --to DESTINATION, or --format and --out", param_hint="--to")
    if mode not in (None, "full", "delta"):
        raise typer.BadParameter("full or delta", param_hint="--mode")
    with _user_errors():
        proj = service.open_project(project)
        try:
            dest: str | DestinationConfig
            if to is not None:
                dest = to
            else:
                if out_file is None or fmt not in ("csv", "xlsx", "parquet"):
                    raise typer.BadParameter("--format csv|xlsx|parquet needs --out FILE")
                dest = DestinationConfig.model_validate(
                    {
                        "name": f"adhoc-{fmt}",
                        "kind": fmt,
                        "path": str(out_file.resolve()),
                        "channels": channel,
                    }
                )
            chosen: Literal["full", "delta"] | None = mode  # type: ignore[assignment]
            report = export_segment(proj, segment, dest, mode=chosen, actor=actor)
        finally:
            proj.close()
    if as_json:
        _print_json(report.to_dict())
        return
    out.print(
        f"{report.segment} -> {report.destination} ({report.kind}, {report.mode}): "
        f"{report.rows_sent:,} rows to {report.location}"
    )
    out.print(
        f"  members {report.members:,}, suppressed {report.suppressed:,}"
        + (
            f", entered {report.entered:,}, exited {report.exited:,}"
            if report.mode == "delta"
            else ""
        )
    )
    for reason, n in report.suppressed_by_reason.items():
        out.print(f"    {reason}: {n:,}")


def exports(
    limit: Annotated[int, typer.Option(help="How many, newest first.")] = 20,
    project: _Project = Path("."),
    as_json: _Json = False,
) -> None:
    """The audit log: every export, when, by whom, with counts and suppressions."""
    from rich.table import Table

    from segmint import service
    from segmint.activation import export_log
    from segmint.cli import _print_json, _user_errors, out

    with _user_errors():
        proj = service.open_project(project)
        rows = export_log(proj.engine, limit)
        proj.close()
    if as_json:
        _print_json(rows)
        return
    t = Table("when", "segment", "destination", "mode", "actor", "sent", "suppressed", "status")
    for r in rows:
        t.add_row(
            f"{r['exported_at']:%Y-%m-%d %H:%M}", r["segment"], r["destination"], r["mode"],
            r["actor"], f"{r['rows_sent']:,}", f"{r['suppressed']:,}", r["status"],
        )  # fmt: skip
    out.print(t)


def forget(
    customer_id: Annotated[str, typer.Argument(help="Customer (or contact) id of the person.")],
    actor: _Actor = None,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
    project: _Project = Path("."),
    as_json: _Json = False,
) -> None:
    """Erase one person from every table of the store, and log it without personal data."""
    from segmint import service
    from segmint.activation import forget as erase
    from segmint.activation._audit import default_actor
    from segmint.cli import _print_json, _user_errors, out

    if not yes and not typer.confirm(
        f"Erase customer {customer_id} everywhere? This cannot be undone"
    ):
        raise typer.Exit(1)
    with _user_errors():
        proj = service.open_project(project)
        try:
            plans = proj.resolve(proj.config.actions.next_best_action.out_dir)
            report = erase(
                proj.engine, customer_id, actor=actor or default_actor(), folders=[plans]
            )
            from segmint.serving import publish_if_served

            publish_if_served(proj, erase_older=True)  # the person leaves every replica too
        finally:
            proj.close()
    if as_json:
        _print_json(report.to_dict())
        return
    out.print(
        f"Erased {report.customer_ids} customer id(s) of {customer_id}: "
        + ", ".join(f"{t} {n:,}" for t, n in sorted(report.rows_removed.items()))
    )
    if report.files_scrubbed:
        files = sorted(report.files_scrubbed.items())
        out.print("  Plan files: " + ", ".join(f"{proj.relative(f)} {n:,}" for f, n in files))
    if report.destinations:
        out.print(
            "  Destinations that received this person (tell them separately): "
            + ", ".join(report.destinations)
        )
