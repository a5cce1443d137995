"""``segmint discover clusters | macro | lookalike``: a thin adapter over discovery's service."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

discover_app = typer.Typer(
    help="Segments the data finds: clusters, survey macro segments, lookalikes.",
    no_args_is_help=True,
)
out = Console(soft_wrap=True)

ProjectOpt = Annotated[
    Path, typer.Option("--project", "-p", help="Project folder.", show_default=False)
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print results as JSON.")]


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


def _open(project: Path) -> Any:
    from segmint import service

    return service.open_project(project)


def _errors() -> Any:
    from segmint.cli import _user_errors

    return _user_errors()


@discover_app.command("clusters")
def clusters(
    k: Annotated[int | None, typer.Option(help="Number of clusters (default: chosen).")] = None,
    method: Annotated[str | None, typer.Option(help="kmeans or gmm.")] = None,
    project: ProjectOpt = Path("."),
    as_json: JsonOpt = False,
) -> None:
    """Behavioural clusters of the customers as of the last run (shown, not stored)."""
    from segmint.discovery._service import discover_clusters

    if method not in (None, "kmeans", "gmm"):
        raise typer.BadParameter("use kmeans or gmm", param_hint="--method")
    with _errors():
        p = _open(project)
        try:
            card = discover_clusters(p, k=k, method=method)
        finally:
            p.close()
    if as_json:
        _print_json(card)
        return
    if card["candidates"]:
        c = Table("k", card["criterion"], title="Choosing k")
        for row in card["candidates"]:
            c.add_row(str(row["k"]), f"{row['value']:.4g}")
        out.print(c)
    t = Table("label", "name", "customers", "share", title=f"{card['k']} clusters")
    for g in card["groups"]:
        t.add_row(str(g["label"]), g["name"], f"{g['size']:,}", f"{g['share']:.1%}")
    out.print(t)


@discover_app.command("macro")
def macro(
    k: Annotated[int | None, typer.Option(help="Number of classes (default: by BIC).")] = None,
    project: ProjectOpt = Path("."),
    as_json: JsonOpt = False,
) -> None:
    """Needs-based macro segments from survey answers, projected onto every customer."""
    from segmint.discovery._service import discover_macro

    with _errors():
        p = _open(project)
        try:
            card = discover_macro(p, k=k)
        finally:
            p.close()
    if as_json:
        _print_json(card)
        return
    b = Table("classes", "BIC", title="Choosing the number of classes")
    for row in card["bic"]:
        b.add_row(str(row["k"]), f"{row['bic']:,.1f}")
    out.print(b)
    t = Table("label", "name", "respondents", "customers", title=f"{card['k']} macro segments")
    for c in card["classes"]:
        t.add_row(str(c["label"]), c["name"], f"{c['respondents']:,.0f}", f"{c['customers']:,}")
    out.print(t)
    pr = card["projection"]
    out.print(
        f"projection onto non-respondents: accuracy {pr['accuracy']:.1%} on {pr['held_out']:,} "
        f"held-out respondents (majority class alone: {pr['majority_baseline']:.1%})"
    )


@discover_app.command("lookalike")
def lookalike(
    segment: Annotated[str, typer.Argument(help="Seed segment (members at the last run).")],
    prospects: Annotated[
        str | None, typer.Option(help="Table to rank (default: the other customers).")
    ] = None,
    key: Annotated[list[str] | None, typer.Option(help="Key column(s) of the table.")] = None,
    feature: Annotated[
        list[str] | None, typer.Option(help="Attribute to compare on (repeat; default: shared).")
    ] = None,
    count: Annotated[
        str | None, typer.Option(help="Count column (households): adds expected twins.")
    ] = None,
    top: Annotated[int, typer.Option(help="Rows to print.")] = 20,
    out_file: Annotated[Path | None, typer.Option("--out", help="Write the ranking here.")] = None,
    project: ProjectOpt = Path("."),
    as_json: JsonOpt = False,
) -> None:
    """Rank prospects by similarity to a segment, with a holdout check (AUC)."""
    from segmint.discovery._service import find_lookalikes

    with _errors():
        p = _open(project)
        try:
            found = find_lookalikes(
                p, segment, prospects=prospects, key=key, features=feature, count=count,
                out=out_file,
            )  # fmt: skip
        finally:
            p.close()
    head = found.ranking.head(top)
    if as_json:
        _print_json({"check": found.check, "top": head.to_dict(orient="records")})
        return
    ch = found.check
    out.print(
        f"seed {segment}: {ch['seed_members']:,} members; holdout AUC {ch['auc']:.3f}, "
        f"top decile finds {ch['top_decile_recall']:.1%} of held-out members "
        f"(lift {ch['top_decile_lift']:.1f})"
    )
    t = Table(*[str(c) for c in head.columns], title=f"Top {len(head)} lookalikes")
    for row in head.itertuples(index=False):
        t.add_row(*[f"{v:.4f}" if isinstance(v, float) else str(v) for v in row])
    out.print(t)
