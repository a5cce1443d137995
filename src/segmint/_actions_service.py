"""Use cases of activation: owners, next best action plans, campaign measurement.

Beside :mod:`segmint.service` (and called the same way by the CLI and the API): plain
arguments in, plain data out.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from segmint.exceptions import ConfigError

if TYPE_CHECKING:
    from segmint.actions._measure import CampaignMeasurement
    from segmint.actions._nba import Plan
    from segmint.actions._owners import OwnerReport
    from segmint.project import Project


def assign_owners(project: Project) -> OwnerReport:
    """Assign owners to the accounts of the last run (``account_owners``)."""
    from segmint.actions import assign_account_owners
    from segmint.serving import publish_if_served

    report = assign_account_owners(project.engine, project.config)
    publish_if_served(project)
    return report


def account_owners(project: Project, owner: str | None = None) -> list[dict[str, Any]]:
    """The current owners, optionally of one salesperson, by customer id."""
    from segmint.actions import ACCOUNT_OWNERS

    eng = project.engine
    if not eng.has_table(ACCOUNT_OWNERS):
        raise ConfigError("no owners assigned yet: run 'segmint owners assign'")
    t = eng.table(ACCOUNT_OWNERS)
    if owner is not None:
        t = t.filter(t.owner == owner)
    return list(t.order_by("customer_id").to_pyarrow().to_pylist())


def plan_actions(project: Project, *, files: bool = True) -> Plan:
    """Plan the next best actions on the last run and write the plan files."""
    from segmint.actions._nba import plan_actions as plan
    from segmint.actions._nba import write_plan_files

    result = plan(project.engine, project.config)
    if files:
        folder = project.resolve(project.config.actions.next_best_action.out_dir)
        result.files = write_plan_files(result, folder)
    from segmint.serving import publish_if_served

    publish_if_served(project)
    return result


def measure_campaign(
    project: Project,
    campaign_id: str,
    *,
    segments: list[str] | None = None,
    model: bool = True,
    folds: int = 3,
    scores: Path | None = None,
) -> CampaignMeasurement:
    """Uplift per segment, and with ``model`` the uplift model's Qini and micro segments;
    ``scores`` writes each contacted customer's estimated uplift to a CSV file."""
    from segmint.actions._measure import measure_campaign as measure

    result = measure(
        project.engine, project.config, campaign_id, segments=segments, model=model, folds=folds
    )
    if scores is not None and result.uplift_scores is not None:
        result.uplift_scores.to_csv(scores, index=False)
    return result
