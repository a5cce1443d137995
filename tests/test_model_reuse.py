"""Runs re-use a recent fit (``refit_days``) instead of refitting, and store fits atomically."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pandas as pd
import pytest

from segmint import runs, service
from segmint.fits import FITS
from segmint.models import fit_churn
from segmint.project import Project

#: five runs, each fitting churn: about 2 minutes on a quiet machine
pytestmark = pytest.mark.slow

T = datetime(2026, 7, 1)
H = timedelta(days=90)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Project]:
    root = tmp_path_factory.mktemp("reuse") / "demo"
    service.build_demo(root, customers=2000, seed=4)
    p = Project.open(root)
    p.config.models.clv.enabled = False
    p.config.models.wallet.enabled = False
    p.config.models.churn.enabled = True
    p.config.models.churn.refit_days = 30
    try:
        yield p
    finally:
        p.close()


def _fits(p: Project) -> pd.DataFrame:
    if not p.engine.has_table(FITS):
        return pd.DataFrame(columns=["run_id", "model", "as_of"])
    return p.engine.table(FITS).select("run_id", "model", "as_of").to_pandas()


def _churn_card(p: Project) -> dict[str, object]:
    return next(c for c in runs.model_cards(p.engine) if str(c["model"]).startswith("churn"))


def test_a_run_reuses_a_recent_fit_and_refits_an_old_one(project: Project) -> None:
    first = service.run(project, as_of=T)
    fits = _fits(project)
    assert list(fits.run_id) == [first.run_id]
    assert "reused_fit_as_of" not in _churn_card(project)

    # 14 days later: the fit made as of T is re-used, nothing new is stored
    later = T + timedelta(days=14)
    service.run(project, as_of=later)
    assert list(_fits(project).run_id) == [first.run_id]
    card = _churn_card(project)
    assert card["reused_fit_as_of"] == T.isoformat()
    # and its scores are those of the fit as of T applied to the data as of T + 14 days
    fit = fit_churn(
        project.engine, project.config.traits, train_cutoff=T - 2 * H, test_cutoff=T - H,
        horizon_days=90, max_samples=200_000,
    )  # fmt: skip
    want = fit.scores(project.engine, project.config.traits, later).to_pandas()
    want = want.set_index("customer_id")
    got = project.engine.table("customer_traits").to_pandas().set_index("customer_id")
    got = got.loc[want.index]
    diff = (got.churn_probability - want.churn_probability).abs()
    assert len(want) > 300
    assert (diff <= 1e-9).mean() >= 0.995  # float spend sums: see test_model_scores_in_run
    assert diff.max() < 0.02

    # 45 days after T: the fit is too old, a new one is made and stored
    third = service.run(project, as_of=T + timedelta(days=45))
    fits = _fits(project)
    assert list(fits.sort_values("as_of").run_id) == [first.run_id, third.run_id]
    assert "reused_fit_as_of" not in _churn_card(project)


def test_other_settings_never_reuse_a_fit(project: Project) -> None:
    before = len(_fits(project))
    project.config.models.churn.horizon_days = 60
    try:
        service.run(project, as_of=T + timedelta(days=46))
    finally:
        project.config.models.churn.horizon_days = 90
    assert len(_fits(project)) == before + 1
    assert "reused_fit_as_of" not in _churn_card(project)


def test_a_failed_run_stores_no_fit(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    before = _fits(project)

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(runs.snapshots, "publish", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        service.run(project, as_of=T + timedelta(days=80))  # 35 days after the last fit
    pd.testing.assert_frame_equal(_fits(project), before)
