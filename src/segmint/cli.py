"""The ``segmint`` command line: a thin Typer + Rich adapter over :mod:`segmint.service`.

Conventions for every command: ``--project DIR`` (default: the current folder), ``--json``
for scripts where results are printed, progress bars on stderr for long steps, exit code 0
on success, 1 on a user error (the message says what and where), 2 on usage errors.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from segmint import _cli_profiles, service
from segmint._cli_activation import register as register_activation
from segmint.exceptions import SegmintError

app = typer.Typer(
    name="segmint",
    help="Customer segments and scores that marketing and sales act on, kept fresh.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

ProjectOpt = Annotated[
    Path, typer.Option("--project", "-p", help="Project folder.", show_default=False)
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print results as JSON.")]


@contextlib.contextmanager
def _user_errors() -> Iterator[None]:
    """A segmint error is the user's to fix: print it plainly and exit 1."""
    try:
        yield
    except SegmintError as e:
        err.print(f"[bold red]error:[/] {e}", highlight=False)
        raise typer.Exit(1) from None


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


def _progress() -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,.0f} {task.fields[unit]}"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    )


@app.command()
def init(
    folder: Annotated[Path, typer.Argument(help="Folder for the new project.")],
    name: Annotated[str | None, typer.Option(help="Project name.")] = None,
    engine: Annotated[
        str | None, typer.Option(help="Engine URL (default: duckdb:///store.duckdb).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Create a new project: segmint.yaml, its JSON Schema and an empty store."""
    with _user_errors():
        project = service.init_project(folder, name=name, engine_url=engine)
        project.close()
    if as_json:
        _print_json({"project": str(project.root), "config": str(project.config_path)})
    else:
        out.print(f"Created project [bold]{project.config.name}[/] in {project.root}")
        out.print(f"Next: segmint load customers FILE --project {folder}")


def _parse_maps(maps: list[str]) -> dict[str, str]:
    parsed: dict[str, str] = {}
    for m in maps:
        col, sep, fld = m.rpartition("=")
        if not sep or not col or not fld:
            raise typer.BadParameter(f"{m!r}: write --map COLUMN=FIELD", param_hint="--map")
        parsed[col.strip()] = fld.strip()
    return parsed


@app.command()
def load(
    table: Annotated[str, typer.Argument(help="customers, transactions, events, ... or external.")],
    file: Annotated[
        str, typer.Argument(help="CSV, XLSX, Parquet or JSON-lines file, or a DB URL.")
    ],
    project: ProjectOpt = Path("."),
    maps: Annotated[
        list[str] | None,
        typer.Option("--map", help="COLUMN=FIELD, overrides the automatic mapping."),
    ] = None,
    sheet: Annotated[str | None, typer.Option(help="Excel sheet (default: the first).")] = None,
    source: Annotated[str | None, typer.Option(help="Source name (default: file name).")] = None,
    key: Annotated[
        str | None, typer.Option(help="Key columns (comma-separated) of a new external table.")
    ] = None,
    db_table: Annotated[
        str | None, typer.Option("--table", help="Table to read from a database URL.")
    ] = None,
    encoding: Annotated[str | None, typer.Option(help="Override the detected encoding.")] = None,
    delimiter: Annotated[str | None, typer.Option(help="Override the detected delimiter.")] = None,
    decimal: Annotated[str | None, typer.Option(help="Decimal mark: '.' or ','.")] = None,
    date_format: Annotated[
        str | None, typer.Option(help="strftime date format, e.g. %d-%m-%Y.")
    ] = None,
    country: Annotated[
        str | None, typer.Option(help="Country for phone numbers without +prefix (default DK).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Validated, atomic, idempotent load of FILE into TABLE; prints the load report."""
    mapping = _parse_maps(maps or [])
    if decimal not in (None, ".", ","):
        raise typer.BadParameter("use '.' or ','", param_hint="--decimal")
    with _user_errors():
        proj = service.open_project(project)
        read = {
            "sheet": sheet,
            "query_table": db_table,
            "encoding": encoding,
            "delimiter": delimiter,
            "decimal": decimal,
            "date_format": date_format,
            "default_country": country,
        }
        with _progress() as bar:
            task = bar.add_task(f"Loading {Path(file).name}", total=None, unit="rows")
            report = service.load(
                proj,
                table,
                file,
                source=source,
                mapping=mapping,
                read=read,
                key=[k.strip() for k in key.split(",")] if key else None,
                progress=lambda n: bar.update(task, completed=n),
            )
        proj.close()
    if as_json:
        _print_json(report.to_dict())
        return
    print_load_report(report)


def print_load_report(report: service.LoadReport) -> None:
    out.print(
        f"[bold]{report.table}[/] <- {Path(report.file).name} "
        f"({report.format}{', ' + report.encoding if report.encoding else ''}"
        f"{', delimiter ' + repr(report.delimiter) if report.delimiter else ''}"
        f"{', decimal ' + repr(report.decimal) if report.decimal else ''})"
    )
    out.print(
        f"  rows in {report.rows_in:,} = loaded {report.rows_loaded:,} "
        f"({report.rows_new:,} new, {report.rows_updated:,} updated) "
        f"+ quarantined {report.rows_quarantined:,}"
    )
    if report.reasons:
        t = Table("file", "row", "column", "value", "reason", title="Quarantined (examples)")
        for ex in report.examples:
            t.add_row(
                Path(str(ex["file"])).name,
                str(ex["row"]),
                str(ex["column"] or ""),
                str(ex["value"] or "")[:40],
                str(ex["reason"]),
            )
        out.print(t)
        out.print("  by reason: " + ", ".join(f"{k} {v:,}" for k, v in report.reasons.items()))
    if report.previously_erased:
        out.print(
            f"  [bold yellow]{report.previously_erased:,} row(s) belong to persons erased "
            f"with 'segmint forget'[/]: check the source still holds them lawfully"
        )


@app.command()
def demo(
    folder: Annotated[Path, typer.Argument(help="Folder for the demo project.")] = Path("demo"),
    customers: Annotated[int, typer.Option(min=100, help="Number of customers.")] = 50_000,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same data).")] = 0,
    b2b: Annotated[
        bool, typer.Option("--b2b", help="A B2B wholesaler instead of a retailer.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Build a synthetic Nordic project, load it through the real ingest path, and run it."""
    with _user_errors(), _progress() as bar:
        task = bar.add_task("Demo", total=None, unit="")

        def step(message: str) -> None:
            bar.update(task, description=message)
            if not err.is_terminal and not as_json:
                err.print(f"  {message}")

        summary = service.build_demo(
            folder, customers=customers, seed=seed, b2b=b2b, step=step, report=True
        )
    if as_json:
        _print_json(summary.to_dict())
        return
    print_demo_summary(summary)


def print_demo_summary(summary: service.DemoSummary) -> None:
    out.rule(f"segmint demo: {summary.project}")
    t = Table("table", "rows in", "loaded", "quarantined", "file", title="Loaded through ingest")
    for r in summary.loads:
        t.add_row(
            r.table,
            f"{r.rows_in:,}",
            f"{r.rows_loaded:,}",
            f"{r.rows_quarantined:,}",
            Path(r.file).name,
        )
    out.print(t)
    if summary.quarantine_reasons:
        q = Table("reason", "rows", title="Quarantined rows by reason")
        for reason, n in summary.quarantine_reasons.items():
            q.add_row(reason, f"{n:,}")
        out.print(q)
    ident = summary.identity
    out.print(
        f"Identity: {ident.customer_ids:,} customer ids from {ident.records:,} records resolve to "
        f"{ident.persons:,} persons ({ident.merged_customer_ids:,} ids merged; links by key: "
        + ", ".join(f"{k} {v:,}" for k, v in ident.links_by_key.items())
        + f"; {ident.skipped_values:,} shared values ignored)"
    )
    run = summary.run
    seg = Table(
        "segment",
        "members",
        title=f"Run {run.run_id} as of {run.as_of:%Y-%m-%d}: {run.customers:,} customers",
    )
    for name, res in run.segments.items():
        if not name.startswith(("rfm-", "lifecycle-", "tier-")):
            seg.add_row(name, f"{res.size:,}")
    out.print(seg)
    fam = Table("family", "cells (members)")
    for prefix in ("rfm-", "lifecycle-", "tier-"):
        cells = [
            f"{n.removeprefix(prefix)} {res.size:,}"
            for n, res in run.segments.items()
            if n.startswith(prefix)
        ]
        if cells:
            fam.add_row(prefix.rstrip("-"), ", ".join(cells))
    out.print(fam)
    out.print(f"Planted truth: {summary.truth_dir}")
    out.print(f"Store: {summary.store}")
    if summary.report:
        out.print(f"Report: [bold]{summary.report}[/] (open it in a browser)")
    out.print(
        f"Next: segmint segments list -p {summary.project}; segmint members active_danes "
        f"-p {summary.project}; segmint customer ID -p {summary.project}"
    )
    out.print(
        f"Web UI: segmint token create --role admin --name me -p {summary.project}; "
        f"segmint serve -p {summary.project} (then open http://127.0.0.1:8000/)"
    )


AsOfOpt = Annotated[
    str | None,
    typer.Option("--as-of", help="Evaluate as of this date (ISO), using only earlier data."),
]


@app.command("run")
def run_command(
    project: ProjectOpt = Path("."),
    as_of: AsOfOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Traits -> families -> segments -> snapshots and deltas, as one recorded run."""
    with _user_errors():
        proj = service.open_project(project)
        with _progress() as bar:
            task = bar.add_task("Run", total=None, unit="")
            result = service.run(
                proj, as_of=as_of, progress=lambda m: bar.update(task, description=m)
            )
        proj.close()
    if as_json:
        _print_json(result.to_dict())
        return
    out.print(
        f"Run [bold]{result.run_id}[/] as of {result.as_of:%Y-%m-%d %H:%M}: "
        f"{result.customers:,} customers, {len(result.segments)} segments, {result.seconds:.1f} s"
    )
    if result.traits:
        from segmint.traits._incremental import describe

        out.print(f"Customer base: {describe(result.traits)}")
    t = Table("segment", "size", "entered", "exited")
    for name, r in result.segments.items():
        t.add_row(name, f"{r.size:,}", f"{r.entered:,}", f"{r.exited:,}")
    out.print(t)
    for s in result.syncs:
        out.print(f"sync {s['segment']} -> {s['destination']}: {s['status']} {s['error'] or ''}")


segments_app = typer.Typer(help="Segment definitions and sizes.", no_args_is_help=True)
app.add_typer(segments_app, name="segments")


@segments_app.command("list")
def segments_list(project: ProjectOpt = Path("."), as_json: JsonOpt = False) -> None:
    """Every segment with its size, entered and exited at the last run."""
    with _user_errors():
        proj = service.open_project(project)
        infos = service.segments(proj)
        proj.close()
    if as_json:
        _print_json([i.to_dict() for i in infos])
        return
    t = Table("segment", "kind", "size", "entered", "exited", "description")
    for i in infos:
        t.add_row(
            i.name,
            i.kind,
            *(f"{v:,}" if v is not None else "-" for v in (i.size, i.entered, i.exited)),
            i.description,
        )
    out.print(t)


@segments_app.command("show")
def segments_show(
    name: Annotated[str, typer.Argument(help="Segment name.")],
    project: ProjectOpt = Path("."),
    as_json: JsonOpt = False,
) -> None:
    """A segment's definition and its size over time."""
    import yaml

    with _user_errors():
        proj = service.open_project(project)
        info = service.segment(proj, name)
        proj.close()
    if as_json:
        _print_json(info)
        return
    if info["definition"]:
        out.print(yaml.safe_dump(info["definition"], sort_keys=False, allow_unicode=True))
    t = Table("run", "as of", "size", "entered", "exited", title=f"{name} over time")
    for r in info["sizes"]:
        t.add_row(
            r["run_id"],
            str(r["as_of"])[:10],
            f"{r['size']:,}",
            f"{r['entered']:,}",
            f"{r['exited']:,}",
        )
    out.print(t)


@segments_app.command("movement")
def segments_movement(
    family: Annotated[str, typer.Argument(help="rfm, lifecycle or tiers.")],
    from_run: Annotated[
        str | None, typer.Option("--from", help="Earlier run id (default: the one before).")
    ] = None,
    to_run: Annotated[
        str | None, typer.Option("--to", help="Later run id (default: the last run).")
    ] = None,
    project: ProjectOpt = Path("."),
    as_json: JsonOpt = False,
) -> None:
    """How many customers moved from each cell of a family to each other, between two runs."""
    with _user_errors():
        proj = service.open_project(project)
        try:
            moved = service.movement(proj, family, from_run=from_run, to_run=to_run)
        finally:
            proj.close()
    if as_json:
        _print_json(moved.to_dict())
        return
    t = Table(
        "from ↓  to →",
        *moved.cells,
        title=f"{family}: run {moved.from_run} -> run {moved.to_run} (customers)",
    )
    for cell, row in moved.counts.items():
        t.add_row(cell, *(f"{row[c]:,}" for c in moved.cells))
    out.print(t)


@segments_app.command("preview")
def segments_preview(
    file: Annotated[Path, typer.Argument(help="YAML file with a segment or a rule.")],
    project: ProjectOpt = Path("."),
    as_of: AsOfOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Count a definition without saving it."""
    with _user_errors():
        if not file.exists():
            raise service.InputError("no such file", file=str(file))
        proj = service.open_project(project)
        result = service.preview(proj, file, as_of=as_of)
        proj.close()
    if as_json:
        _print_json(result.to_dict())
        return
    out.print(f"{result.count:,} customers as of {result.as_of:%Y-%m-%d}")
    if result.sample:
        out.print("e.g. " + ", ".join(result.sample[:10]))


@app.command()
def members(
    segment: Annotated[str, typer.Argument(help="Segment name.")],
    project: ProjectOpt = Path("."),
    limit: Annotated[int, typer.Option(min=1, help="At most this many.")] = 100,
    as_json: JsonOpt = False,
) -> None:
    """Who is in SEGMENT (as of the last run)."""
    with _user_errors():
        proj = service.open_project(project)
        ids = service.members(proj, segment, limit=limit)
        proj.close()
    if as_json:
        _print_json({"segment": segment, "customer_ids": ids})
        return
    for i in ids:
        out.print(i)


@app.command()
def customer(
    customer_id: Annotated[str, typer.Argument(help="Any customer id of the person.")],
    project: ProjectOpt = Path("."),
    as_json: JsonOpt = False,
) -> None:
    """One customer: records from every source, traits, segments and history."""
    with _user_errors():
        proj = service.open_project(project)
        view = service.customer(proj, customer_id)
        proj.close()
    if as_json:
        _print_json(view.to_dict())
        return
    out.rule(f"customer {view.customer_id}")
    for rec in view.records:
        shown = {k: v for k, v in rec.items() if v is not None and not k.startswith("_")}
        out.print(
            f"[bold]{rec.get('_source')}[/]: " + ", ".join(f"{k}={v}" for k, v in shown.items())
        )
    if view.traits:
        t = Table("trait", "value", title="Traits (last run)")
        for k, v in view.traits.items():
            if v is not None and k not in ("customer_id",):
                t.add_row(k, f"{v:,.2f}" if isinstance(v, float) else str(v))
        out.print(t)
    out.print("Segments: " + (", ".join(view.segments) or "none"))
    if view.history:
        h = Table("run", "as of", "segment", "change", title="History")
        for e in view.history:
            h.add_row(str(e["run_id"]), str(e["as_of"])[:10], e["segment"], e["change"])
        out.print(h)


clv_app = typer.Typer(help="Customer lifetime value models.", no_args_is_help=True)
app.add_typer(clv_app, name="clv")


@clv_app.command("fit")
def clv_fit(
    file: Annotated[Path, typer.Argument(help="Transaction file: CSV, XLSX, Parquet, JSONL.")],
    customer: Annotated[str, typer.Option(help="Customer id column.")],
    date: Annotated[str, typer.Option(help="Order date column.")],
    amount: Annotated[str, typer.Option(help="Amount column (for Gamma-Gamma).")],
    order: Annotated[
        str | None, typer.Option(help="Order id column: each order is a purchase.")
    ] = None,
    calibration_end: Annotated[
        str | None,
        typer.Option(help="Last calibration day (default: hold out the last quarter)."),
    ] = None,
    unit: Annotated[str, typer.Option(help="Time unit: day or week (days/7).")] = "day",
    model: Annotated[str, typer.Option(help="Purchase model: bgnbd or paretonbd.")] = "bgnbd",
    card: Annotated[
        Path | None, typer.Option(help="Also save the model cards as JSON here.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Fit BG/NBD (or Pareto/NBD) and Gamma-Gamma on any transaction file."""
    if unit not in ("day", "week"):
        raise typer.BadParameter("use day or week", param_hint="--unit")
    if model not in ("bgnbd", "paretonbd"):
        raise typer.BadParameter("use bgnbd or paretonbd", param_hint="--model")
    with _user_errors():
        result, data = service.fit_clv_file(
            file,
            customer=customer,
            date=date,
            amount=amount,
            order=order,
            calibration_end=calibration_end,
            unit=unit,  # type: ignore[arg-type]
            model=model,  # type: ignore[arg-type]
        )
    payload = {**result.to_dict(), "rows_in": data.rows_in, "rows_skipped": data.rows_skipped}
    if card is not None:
        card.write_text(json.dumps(payload, indent=2, default=str) + "\n", encoding="utf-8")
    if as_json:
        _print_json(payload)
        return
    w = result.window
    out.print(
        f"[bold]{file}[/]: {result.data.n_customers:,} customers, calibration "
        f"{w.first_purchase} to {w.calibration_end}, holdout to {w.observation_end} "
        f"({w.holdout_length:g} {w.unit}s); {data.rows_skipped:,} rows without customer or date"
    )
    for c in result.cards:
        t = Table("parameter", "estimate", "std. error", title=f"{c.model}")
        for k, v in c.parameters.items():
            t.add_row(k, f"{v:.6g}", f"{c.standard_errors[k]:.3g}")
        out.print(t)
        note = "" if c.converged else " [yellow](did not converge)[/]"
        out.print(f"log-likelihood {c.log_likelihood:,.3f}{note}")
    val = result.validation
    h = Table("purchases in calibration", "customers", "actual", "predicted", title="Holdout")
    for g in val.groups:
        h.add_row(g.label, f"{g.customers:,}", f"{g.actual_mean:.3f}", f"{g.predicted_mean:.3f}")
    out.print(h)
    out.print(
        f"holdout purchases: actual {val.actual_total:,.0f}, "
        f"predicted {val.predicted_total:,.1f} ({val.relative_error:+.1%})"
    )


from segmint._cli_discovery import discover_app  # noqa: E402

app.add_typer(discover_app, name="discover")
_cli_profiles.register(app)
register_activation(app)
from segmint._cli_actions import register  # noqa: E402
from segmint._cli_server import register as register_server  # noqa: E402

register(app)
register_server(app)


def main() -> None:
    """Entry point of the ``segmint`` script."""
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
