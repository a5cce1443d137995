"""CLV scores as traits: fitted on each run, checked against the closed form, usable in rules."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime

import numpy as np
import pytest

from segmint import runs, service
from segmint.models._wallet import WALLET_MODEL
from segmint.project import Project
from segmint.segments import parse_segments

AS_OF = datetime(2026, 7, 1)


@pytest.fixture(scope="module")
def scored(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Project]:
    root = tmp_path_factory.mktemp("clv") / "demo"
    service.build_demo(root, customers=3000, seed=5)
    project = Project.open(root)
    project.config.models.clv.enabled = True
    project.config.families.value_tiers.column = "clv"
    project.config.segments = parse_segments(
        [
            {"name": "valuable_alive", "rule": {"all": [
                {"field": "clv", "op": ">=", "value": 2000},
                {"field": "p_alive", "op": ">", "value": 0.5},
            ]}},
        ]
    )  # fmt: skip
    try:
        service.run(project, as_of=AS_OF)
        yield project
    finally:
        project.close()


def _traits(project: Project) -> dict[str, dict[str, object]]:
    rows = project.engine.table("customer_traits").to_pyarrow().to_pylist()
    return {str(r["customer_id"]): r for r in rows}


def test_p_alive_matches_the_bgnbd_closed_form(scored: Project) -> None:
    cards = {c["model"]: c for c in runs.model_cards(scored.engine)}
    # the B2C demo also estimates the share of wallet
    assert set(cards) - {"BG/NBD", "Gamma-Gamma"} == {WALLET_MODEL}
    p = cards["BG/NBD"]["parameters"]
    r, alpha, a, b = p["r"], p["alpha"], p["a"], p["b"]
    traits = _traits(scored)
    tx = scored.engine.table("transactions").to_pandas()
    ids = scored.engine.table("identities").to_pandas().set_index("customer_id")["person_id"]
    tx["person"] = tx["customer_id"].map(ids).fillna(tx["customer_id"])
    tx = tx[tx["order_date"] < AS_OF]
    checked = 0
    for person, rows in list(tx.groupby("person"))[:300]:
        orders = rows.groupby("order_id")["order_date"].min().dt.normalize()
        first, last = orders.min(), orders.max()
        x = len(orders) - 1
        week = 7.0
        t_x = (last - first).days / week
        big_t = (AS_OF - first).days / week - 1 / week  # the last day of data is as_of - 1
        # Fader, Hardie & Lee (2005), eq. (13)
        odds = 0.0 if x == 0 else a / (b + x - 1) * ((alpha + big_t) / (alpha + t_x)) ** (r + x)
        want = 1.0 / (1.0 + odds)
        got = traits[person]["p_alive"]
        assert got == pytest.approx(want, rel=1e-9, abs=1e-12), person
        # given alive, the rate is Gamma(r + x, alpha + T): the wait is Lomax, its median
        median_days = (alpha + big_t) * (2 ** (1 / (r + x)) - 1) * week
        assert traits[person]["days_to_next_order"] == pytest.approx(median_days, rel=1e-9)
        checked += 1
    assert checked == 300


def test_scores_are_traits_for_buyers_only(scored: Project) -> None:
    traits = _traits(scored)
    buyers = [t for t in traits.values() if t["frequency"]]
    prospects = [t for t in traits.values() if not t["frequency"]]
    assert buyers
    assert prospects
    for t in buyers:
        assert 0.0 <= t["p_alive"] <= 1.0
        assert t["expected_orders"] >= 0.0
        assert t["clv"] >= 0.0
        assert t["expected_order_value"] > 0.0
    assert all(t["clv"] is None and t["p_alive"] is None for t in prospects)
    # a customer more likely alive and buying more often is worth more, all else alike
    clv = np.array([t["clv"] for t in buyers])
    orders = np.array([t["expected_orders"] for t in buyers])
    assert np.corrcoef(clv, orders)[0, 1] > 0.5


def test_rules_and_value_tiers_use_the_scores(scored: Project) -> None:
    traits = _traits(scored)
    want = {
        cid for cid, t in traits.items()
        if t["clv"] is not None and t["clv"] >= 2000 and t["p_alive"] > 0.5
    }  # fmt: skip
    assert want
    assert set(service.members(scored, "valuable_alive", limit=None)) == want
    tiered = [t for t in traits.values() if t["value_tier"] is not None]
    gold = min(t["clv"] for t in tiered if t["value_tier"] == "gold")
    bronze = max(t["clv"] for t in tiered if t["value_tier"] == "bronze")
    assert gold >= bronze  # tiers by CLV, not by past spend
    preview = service.preview(scored, {"field": "clv", "op": ">=", "value": 2000}, as_of=AS_OF)
    assert preview.count == sum(1 for t in traits.values() if (t["clv"] or 0) >= 2000)


def test_the_cards_are_stored_with_the_run(scored: Project) -> None:
    cards = runs.model_cards(scored.engine)
    bg = next(c for c in cards if c["model"] == "BG/NBD")
    assert bg["data"]["observation_end"] == "2026-06-30"
    assert bg["data"]["unit"] == "week"
    assert bg["validation"]["groups"]
    assert json.loads(json.dumps(cards)) == cards  # plain JSON, nothing lost


def test_no_orders_before_as_of_gives_no_scores_and_no_cards() -> None:
    import ibis

    from segmint.config import ClvSettings
    from segmint.models._scores import CLV_SCORES, clv_scores

    schema = {"customer_id": "string", "_time": "timestamp", "amount": "float64",
              "order_id": "string"}  # fmt: skip
    empty = ibis.memtable(ibis.schema(schema).to_pyarrow().empty_table())
    scores, cards = clv_scores(empty, AS_OF, ClvSettings(enabled=True))
    assert scores.num_rows == 0
    assert scores.column_names == ["customer_id", *CLV_SCORES]
    assert cards == []
