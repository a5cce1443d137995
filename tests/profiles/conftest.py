"""One small demo project with two runs (the second with churn scores), shared by the
profile and report tests."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from segmint import service
from segmint.profiles import SegmentCard, parse_group, profile_base, profiles
from segmint.project import Project


@pytest.fixture(scope="session")
def demo_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("profiles") / "demo"
    service.build_demo(root, customers=3000, seed=11)
    p = Project.open(root)
    try:
        service.run(p, as_of="2026-10-15")
    finally:
        p.close()
    fake_churn_scores(root / "store.duckdb")
    return root


def fake_churn_scores(store: Path) -> None:
    """Churn scores and a churn model card as a run with models.churn would store them.

    Fitting the churn model takes minutes on this machine; the profiles and the report
    only read its scores and card, so they are written here: a probability that grows with
    the days since the last order (null for customers who never bought, as outside the
    model's population), and a card with two drivers.
    """
    con = duckdb.connect(str(store))
    try:
        con.execute(
            "alter table customer_traits add column churn_probability double;"
            "update customer_traits set churn_probability = "
            "least(recency_days / 730.0, 1.0) where recency_days is not null"
        )
        run_id, as_of = con.execute(
            "select run_id, as_of from runs where status = 'succeeded' order by run_id desc"
        ).fetchone()  # type: ignore[misc]
        card = {
            "model": "churn: no purchase in 90 days",
            "drivers": [
                {"name": "recency_days", "label": "days since the last order", "importance": 0.2},
                {"name": "email_opens", "label": "email opens", "importance": 0.05},
            ],
        }
        con.execute(
            "insert into model_cards values (?, ?, ?, ?)",
            [run_id, as_of, card["model"], json.dumps(card)],
        )
    finally:
        con.close()


GROUPS = ("vip", "young_mobile", "rfm-champions", "tier-gold", "browse_then_buy",
          "active_danes", "lifecycle-new", "lifecycle-loyal", "lifecycle_stage=loyal")  # fmt: skip


@pytest.fixture(scope="session")
def cards(demo_root: Path) -> dict[str, SegmentCard]:
    """The cards of :data:`GROUPS`, computed together once."""
    p = Project.open(demo_root)
    try:
        with profile_base(p.engine) as pb:
            found = profiles(pb, [parse_group(g, pb) for g in GROUPS], p.config.profiles)
        return {**found.cards, "_base": found.base}
    finally:
        p.close()


@pytest.fixture
def demo(demo_root: Path) -> Iterator[Project]:
    p = Project.open(demo_root)
    try:
        yield p
    finally:
        p.close()
