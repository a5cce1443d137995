"""``segmint owners``, ``segmint actions`` and ``segmint campaign``: activation commands.

A thin Typer adapter over :mod:`segmint._actions_service`, registered in :mod:`segmint.cli`
with :func:`register`; it follows the CLI's conventions (``--project``, ``--json``, exit 1
on a user error).
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
from rich.table import Table

from segmint.exceptions import SegmintError

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)
ProjectOpt = Annotated[
    Path, typer.Option("--project", "-p", help="Project folder.", show_default=False)
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print results as JSON.")]

owners_app = typer.Typer(help="Owners of B2B accounts.", no_args_is_help=True)
actions_app = typer.Typer(help="Next best actions and campaign plans.", no_args_is_help=True)
campaign_app = typer.Typer(help="Campaign measurement: uplift.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add the activation commands to the ``segmint`` app."""
    app.add_typer(owners_app, name="owners")
    app.add_typer(actions_app, name="actions")
    app.add_typer(campaign_app, name="campaign")


@contextlib.contextmanager
def _project(folder: Path) -> Iterator[Any]:
    """Open the project; a segmint error is the user's to fix: print it and exit 1."""
    from segmint import service

    try:
        project = service.open_project(folder)
        try:
            yield project
        finally:
            project.close()
    except SegmintError as e:
        err.print(f"[bold red]error:[/] {e}", highlight=False)
        raise typer.Exit(1) from None


def _json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


@owners_app.command("assign")
def owners_assign(project: ProjectOpt = Path("."), as_json: JsonOpt = False) -> None:
    """Assign owners to the accounts of the last run (also done by every run when enabled)."""
    from segmint import _actions_service as svc

    with _project(project) as proj:
        report = svc.assign_owners(proj)
    if as_json:
        _json(report.to_dict())
        return
    t = Table(
        "owner", "accounts", title=f"{report.accounts:,} accounts, {report.changed:,} changed"
    )
    for name, n in report.by_owner.items():
        t.add_row(name, f"{n:,}")
    if report.unassigned:
        t.add_row("(unassigned)", f"{report.unassigned:,}")
    out.print(t)
    out.print("by rule: " + ", ".join(f"{k} {v:,}" for k, v in report.by_rule.items()))


@owners_app.command("list")
def owners_list(
    owner: Annotated[str | None, typer.Option(help="Only this salesperson's accounts.")] = None,
    project: ProjectOpt = Path("."),
    as_json: JsonOpt = False,
) -> None:
    """Every account with its owner, the rule that assigned it and when."""
    from segmint import _actions_service as svc

    with _project(project) as proj:
        rows = svc.account_owners(proj, owner)
    if as_json:
        _json(rows)
        return
    t = Table("customer_id", "owner", "rule", "assigned_at")
    for r in rows:
        t.add_row(r["customer_id"], r["owner"] or "-", r["rule"], str(r["assigned_at"])[:19])
    out.print(t)


@actions_app.command("plan")
def actions_plan(
    project: ProjectOpt = Path("."),
    no_files: Annotated[bool, typer.Option("--no-files", help="Store the plan only.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Plan the next best actions on the last run: a table and one file per channel."""
    from segmint import _actions_service as svc

    with _project(project) as proj:
        plan = svc.plan_actions(proj, files=not no_files)
    if as_json:
        _json(plan.to_dict())
        return
    t = Table(
        "action", "channel", "eligible", "treated", "control", "no consent", "capped",
        "taken by another", title=f"Plan {plan.plan_id} as of {plan.as_of:%Y-%m-%d}",
    )  # fmt: skip
    for a in plan.actions:
        t.add_row(
            a.action, a.channel,
            *(f"{v:,}" for v in (a.eligible, a.treated, a.control, a.no_consent, a.capped,
                                 a.taken)),
        )  # fmt: skip
    out.print(t)
    for f in plan.files:
        out.print(f"  {f}")


@campaign_app.command("measure")
def campaign_measure(
    campaign_id: Annotated[str, typer.Argument(help="Campaign id in campaign_contacts.")],
    segment: Annotated[
        list[str] | None, typer.Option("--segment", "-s", help="Only these segments.")
    ] = None,
    no_model: Annotated[
        bool, typer.Option("--no-model", help="Uplift per segment only, no uplift model.")
    ] = False,
    folds: Annotated[int, typer.Option(min=2, max=10, help="Cross-fitting folds.")] = 3,
    scores: Annotated[
        Path | None, typer.Option(help="Write each customer's estimated uplift to this CSV.")
    ] = None,
    project: ProjectOpt = Path("."),
    as_json: JsonOpt = False,
) -> None:
    """Response rate and uplift per segment (95 % Newcombe intervals), and the uplift
    model's Qini curve and persuadable micro segments."""
    from segmint import _actions_service as svc

    with _project(project) as proj:
        m = svc.measure_campaign(
            proj, campaign_id, segments=segment, model=not no_model, folds=folds, scores=scores
        )
    if as_json:
        _json(m.to_dict())
        return
    when = "after the campaign (!)" if m.segments_after_campaign else "before the campaign"
    out.print(f"[bold]{campaign_id}[/]: {m.contacts:,} customers; segments of run "
              f"{m.segments_run} ({when})")  # fmt: skip
    t = Table("segment", "treated", "control", "rate T", "rate C", "uplift", "95 % CI", "p")
    for s in m.by_segment:
        t.add_row(s.segment, f"{s.treated:,}", f"{s.control:,}", *_rates(s.to_dict()))
    out.print(t)
    out.print(m.method)
    if m.qini_coefficient is not None:
        out.print(f"Uplift model (X-learner, cross-fitted): Qini coefficient "
                  f"{m.qini_coefficient:.5f} (random targeting: 0)")  # fmt: skip
        q = Table("top share", "incremental responders", title="Qini curve")
        for p in m.qini_curve:
            q.add_row(f"{p['fraction']:.0%}", f"{p['incremental_responders']:,.1f}")
        out.print(q)
        ms = Table("micro segment", "customers", "predicted", "measured", "95 % CI",
                   title="Persuadable micro segments (best first)")  # fmt: skip
        for x in m.micro_segments:
            r = _rates(x.measured.to_dict())
            ms.add_row(x.rule, f"{x.customers:,}", f"{x.predicted_uplift:+.3f}", r[2], r[3])
        out.print(ms)


def _rates(s: dict[str, Any]) -> list[str]:
    def pct(v: float | None) -> str:
        return "-" if v is None else f"{v:.1%}"

    ci = "-" if s["ci_low"] is None else f"[{s['ci_low']:+.1%}, {s['ci_high']:+.1%}]"
    p = "-" if s["p_value"] is None else f"{s['p_value']:.3g}"
    up = "-" if s["uplift"] is None else f"{s['uplift']:+.1%}"
    return [pct(s["treated_rate"]), pct(s["control_rate"]), up, ci, p]
