"""The customer base of a generated demo store agrees with pandas on the raw tables."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from segmint import service
from segmint.engine import Engine, connect
from segmint.traits._base import customer_base
from segmint.traits._config import TraitsConfig


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Engine, datetime]]:
    root = tmp_path_factory.mktemp("traits-demo") / "demo"
    service.build_demo(root, customers=1500, seed=3)
    window = json.loads((root / "truth" / "truth.json").read_text("utf-8"))["window"]
    end = date.fromisoformat(window["observation_end"])
    assert end == date(2026, 9, 30)
    # the observation window ends with the end date: as of the next midnight
    as_of = datetime(end.year, end.month, end.day) + timedelta(days=1)
    engine = connect("duckdb:///store.duckdb", base_dir=Path(root))
    try:
        yield engine, as_of
    finally:
        engine.close()


def test_frequency_and_monetary_match_pandas(demo: tuple[Engine, datetime]) -> None:
    engine, as_of = demo
    base = customer_base(engine, TraitsConfig(), as_of).to_pandas().set_index("customer_id")

    tx = engine.table("transactions").to_pandas()
    ids = engine.table("identities").to_pandas()
    person = dict(zip(ids["customer_id"], ids["person_id"], strict=True))
    tx["person"] = tx["customer_id"].map(lambda c: person.get(c, c))
    tx = tx[tx["order_date"] < as_of]
    want = tx.groupby("person").agg(frequency=("order_id", "nunique"), monetary=("amount", "sum"))

    buyers = base[base["frequency"] > 0]
    assert len(buyers) > 1000
    assert set(buyers.index) == set(want.index)
    assert (buyers["frequency"] == want.loc[buyers.index, "frequency"]).all()
    assert buyers["monetary"].to_numpy() == pytest.approx(
        want.loc[buyers.index, "monetary"].to_numpy(), rel=1e-9
    )
    # merged persons: fewer rows than customer ids, one row per person
    assert base.index.is_unique
    assert len(base) == ids["person_id"].nunique()
    assert (base.loc[base["frequency"] == 0, "monetary"] == 0).all()
