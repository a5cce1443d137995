"""Discovery use cases on a project: what ``segmint discover ...`` and the API call.

Clusters and macro segments are fitted on the customer base as of the last run (the
traits and attributes that run computed), with the project's settings unless overridden,
and shown without being stored: a run stores them when ``discovery.clusters.enabled`` /
``discovery.macro.enabled`` is set.  Lookalikes rank a table (or the customers outside the
seed) by similarity to a segment of the last run.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from segmint.exceptions import ConfigError

if TYPE_CHECKING:
    from segmint.discovery._lookalike import Lookalikes
    from segmint.project import Project


def _base(project: Project) -> tuple[pd.DataFrame, datetime]:
    """The customer base as of the last successful run, as pandas."""
    from segmint import runs
    from segmint.traits import customer_base

    eng = project.engine
    run_id = runs.last_successful_run(eng)
    if run_id is None:
        raise ConfigError("no run yet: run 'segmint run' first")
    r = eng.table(runs.RUNS)
    as_of = r.filter(r.run_id == run_id).as_of.to_pyarrow().to_pylist()[0]
    base = customer_base(eng, project.config.traits, as_of)
    return base.to_pyarrow().to_pandas(), as_of


def discover_clusters(
    project: Project, *, k: int | None = None, method: str | None = None
) -> dict[str, Any]:
    """Cluster the customers as of the last run; the card (k, criterion, groups, names)."""
    from segmint.discovery._clusters import fit_clusters
    from segmint.discovery._run import CLUSTERS, previous_card

    settings = project.config.discovery.clusters.model_copy()
    if k is not None:
        settings.k = k
    if method is not None:
        settings.method = method  # type: ignore[assignment]
    frame, _ = _base(project)
    found = fit_clusters(frame, settings, previous=previous_card(project.engine, CLUSTERS))
    return found.card.to_dict()


def discover_macro(project: Project, *, k: int | None = None) -> dict[str, Any]:
    """Latent classes of the survey answers, projected onto the customers; the card."""
    from segmint.discovery._macro import fit_macro
    from segmint.discovery._run import MACRO, previous_card
    from segmint.traits import survey_answers

    settings = project.config.discovery.macro.model_copy()
    if k is not None:
        settings.k = k
    frame, as_of = _base(project)
    answers = survey_answers(project.engine, as_of)
    if answers is None:
        raise ConfigError("no survey_responses in this project: load survey answers first")
    found = fit_macro(
        answers.to_pyarrow().to_pandas(),
        frame,
        settings,
        previous=previous_card(project.engine, MACRO),
    )
    return found.card.to_dict()


def find_lookalikes(
    project: Project,
    segment: str,
    *,
    prospects: str | None = None,
    key: list[str] | None = None,
    features: list[str] | None = None,
    count: str | None = None,
    out: Path | None = None,
) -> Lookalikes:
    """Rank ``prospects`` (a table of the store; None: the other customers) by similarity
    to ``segment``'s members at the last run; write the ranking to ``out`` (CSV/Parquet)."""
    from segmint import service
    from segmint.discovery._lookalike import lookalikes

    seed = service.members(project, segment, limit=None)
    if not seed:
        raise ConfigError(f"segment {segment!r} has no members at the last run")
    frame, _ = _base(project)
    table = None
    if prospects is not None:
        eng = project.engine
        if not eng.has_table(prospects):
            raise ConfigError(f"no table {prospects!r} in this project's store")
        table = eng.table(prospects).to_pyarrow().to_pandas()
        table = table[[c for c in table.columns if not c.startswith("_")]]
    if features is None and table is None:
        from segmint.discovery._config import DEFAULT_PROJECTION_FEATURES

        features = [f for f in DEFAULT_PROJECTION_FEATURES if f in frame.columns]
    found = lookalikes(frame, seed, prospects=table, key=key, features=features, count=count)
    if out is not None:
        if out.suffix == ".parquet":
            found.ranking.to_parquet(out, index=False)
        else:
            found.ranking.to_csv(out, index=False)
    return found
