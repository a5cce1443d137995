"""Category propensity on the demo's planted truth: better than popularity, finds favourites.

The demo (8,000 customers, seed 4) plants a favourite category per customer that gets 40%
of their orders (the rest follow their group's category mix).  Models are fitted as of
2025-10-01 on purchases in the next 90 days and backtested on 2026-04-01.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from segmint import service
from segmint.demo import generate
from segmint.models import (
    PropensityFit,
    TraitClassifier,
    category_labels,
    category_slug,
    fit_propensity,
    propensity_frame,
)
from segmint.project import Project

T0, T1, HORIZON = datetime(2025, 10, 1), datetime(2026, 4, 1), 90


@pytest.fixture(scope="module", autouse=True)
def _one_thread() -> Iterator[None]:
    """One OpenMP thread: on a shared 2-core machine, spinning threads waste more than they win."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        yield


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Project, pd.Series]]:
    data = generate(8_000, seed=4)
    project = service.init_project(tmp_path_factory.mktemp("propensity") / "demo")
    for name, table in data.tables.items():
        project.engine.write(name, table)
    favourite = data.customer_truth.to_pandas().set_index("customer_id").favourite_category
    try:
        yield project, favourite
    finally:
        project.close()


@pytest.fixture(scope="module")
def fit(demo: tuple[Project, pd.Series]) -> PropensityFit:
    # fewer boosting rounds than the default: eight categories, and the test must be quick
    model = TraitClassifier(max_iter=50, learning_rate=0.15)
    return fit_propensity(
        demo[0].engine, None, train_cutoff=T0, test_cutoff=T1, horizon_days=HORIZON, model=model
    )


def test_labels_are_the_categories_bought_in_the_window(demo: tuple[Project, pd.Series]) -> None:
    eng = demo[0].engine
    tx = eng.table("transactions").select("customer_id", "order_date", "category")
    tx = tx.to_pyarrow().to_pandas()
    index = pd.Index(sorted(tx.customer_id.unique())[:500], name="customer_id")
    cats = sorted(tx.category.unique())
    got = category_labels(eng, T0, HORIZON, cats, index)
    window = tx[(tx.order_date >= T0) & (tx.order_date < T0 + timedelta(days=HORIZON))]
    pairs = set(zip(window.customer_id, window.category, strict=True))
    expected = [[int((c, k) in pairs) for k in cats] for c in index]
    assert got.to_numpy().tolist() == expected
    assert got.to_numpy().sum() > 50  # the window has purchases to check


def test_propensity_beats_popularity(fit: PropensityFit) -> None:
    """Tolerances from a measured run (pooled AUC 0.91 vs 0.67; top hit 0.39 vs 0.21): the
    margins are ten times the sampling error of ~3,400 test customers."""
    b = fit.backtest
    assert len(fit.categories) == 8
    assert b.pooled_auc > b.baseline_pooled_auc + 0.2
    assert b.top_hit_rate > b.baseline_top_hit_rate + 0.08
    assert min(b.auc.values()) > 0.75
    card = fit.card.to_dict()
    assert card["metrics"]["pooled_auc"] == b.pooled_auc
    assert card["data"]["categories"] == fit.categories


def test_top_category_finds_the_planted_favourite(
    demo: tuple[Project, pd.Series], fit: PropensityFit
) -> None:
    project, favourite = demo
    X = propensity_frame(project.engine, None, T1, fit.categories, 365)
    scores = fit.score_frame(X).to_pandas().set_index("customer_id")
    fav = favourite.reindex(scores.index)
    cols = [f"propensity_{category_slug(c)}" for c in fit.categories]
    assert list(scores.columns[: len(cols)]) == cols
    top = np.array(fit.categories)[scores[cols].to_numpy().argmax(axis=1)]
    chance = fav.value_counts(normalize=True).max()  # always guessing the commonest favourite
    # the favourites lean by customer group (each group to its own category), so the
    # commonest is right a third of the time: measured 0.64 vs 0.31
    assert (top == fav.to_numpy()).mean() > chance + 0.25

    # the next best category is a cross- or up-sell by construction
    shares = X[[f"share_of_{category_slug(c)}" for c in fit.categories]]
    shares.columns = fit.categories
    has = scores.next_best_category.notna()
    picked = [shares.at[c, k] for c, k in scores.next_best_category[has].items()]
    assert max(picked) < fit.rare_share
    assert set(scores.next_best_kind[has]) == {"cross-sell", "up-sell"}


def test_category_slugs_are_trait_names() -> None:
    assert category_slug("Kaffe & kantine") == "kaffe_kantine"
    assert category_slug("Børnetøj") == "boernetoej"
    assert category_slug("Skønhed") == "skoenhed"
    assert category_slug("IT-udstyr") == "it_udstyr"
