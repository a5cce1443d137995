"""Churn and propensity scores as traits of a run: the same as fitting by hand, usable in rules."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pandas as pd
import pytest

from segmint import runs, service
from segmint.models import fit_churn, fit_propensity
from segmint.project import Project
from segmint.segments import parse_segments

AS_OF = datetime(2026, 10, 1)
H = timedelta(days=90)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Project]:
    root = tmp_path_factory.mktemp("scores") / "demo"
    service.build_demo(root, customers=3000, seed=8)
    p = Project.open(root)
    p.config.models.clv.enabled = False
    p.config.models.churn.enabled = True
    p.config.models.propensity.enabled = True
    p.config.segments = parse_segments(
        [{"name": "at_risk_now", "rule": {"field": "churn_probability", "op": ">=", "value": 0.6}}]
    )
    try:
        service.run(p, as_of=AS_OF)
        yield p
    finally:
        p.close()


def _traits(p: Project) -> pd.DataFrame:
    return p.engine.table("customer_traits").to_pandas().set_index("customer_id")


def test_churn_scores_equal_a_fit_by_hand(project: Project) -> None:
    fit = fit_churn(
        project.engine, project.config.traits, train_cutoff=AS_OF - 2 * H,
        test_cutoff=AS_OF - H, horizon_days=90, max_samples=200_000,
    )  # fmt: skip
    want = fit.scores(project.engine, project.config.traits, AS_OF).to_pandas()
    want = want.set_index("customer_id")
    traits = _traits(project)
    got = traits.loc[want.index]
    assert len(want) > 500
    # spend is summed exactly (traits._builtin.exact_sum), so the run and the fit by hand
    # see the same features whatever order the engine adds in: the same scores
    diff = (got["churn_probability"] - want["churn_probability"]).abs()
    assert diff.max() <= 1e-9
    assert (got["churn_reasons"] == want["churn_reasons"]).all()
    others = traits.index.difference(want.index)
    assert traits.loc[others, "churn_probability"].isna().all()  # outside the population
    at_risk = set(got.index[got["churn_probability"] >= 0.6])
    assert at_risk
    assert set(service.members(project, "at_risk_now", limit=None)) == at_risk


def test_propensities_equal_a_fit_by_hand(project: Project) -> None:
    fit = fit_propensity(
        project.engine, project.config.traits, train_cutoff=AS_OF - 2 * H,
        test_cutoff=AS_OF - H, horizon_days=90, max_samples=200_000,
    )  # fmt: skip
    want = fit.scores(project.engine, project.config.traits, AS_OF).to_pandas()
    want = want.set_index("customer_id")
    got = _traits(project).loc[want.index]
    columns = [c for c in want.columns if c.startswith("propensity_")]
    assert len(columns) >= 3
    # Spend and category shares are exact sums (traits._builtin.exact_sum): a float sum's
    # last bits would depend on the order the engine adds in, and a customer whose share
    # sits on a tree's bin edge would land in the neighbouring bin.  So: the same scores.
    for c in columns:
        diff = (got[c] - want[c]).abs()
        assert diff.max() <= 1e-9, c
    same = got["next_best_category"].fillna("") == want["next_best_category"].fillna("")
    assert same.all()


def test_the_cards_are_stored_with_the_run(project: Project) -> None:
    models = [c["model"] for c in runs.model_cards(project.engine)]
    assert any(m.startswith("churn") for m in models)
    assert any("propensity" in m for m in models)
