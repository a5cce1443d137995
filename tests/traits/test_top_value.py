"""``top_value`` on ties and null spends, checked against plain pandas.

Person p3 is the case a pick with a nullable spend would get wrong on Spark only, where a
null inside a struct orders first (on DuckDB last).
"""

from __future__ import annotations

import random
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest

from segmint.engine import Engine
from segmint.traits._builtin import top_value

SCHEMA = pa.schema({"customer_id": pa.string(), "order_id": pa.string(),
                    "category": pa.string(), "amount": pa.float64()})  # fmt: skip
#: (customer_id, order_id, category, amount); every order here is one row unless noted
HAND_BUILT = [
    # p1: two orders each, the higher spend wins
    ("p1", "o1", "A", 10.0), ("p1", "o2", "A", 0.0), ("p1", "o3", "B", 20.0),
    ("p1", "o4", "B", 10.0),
    # p2: two orders and the same spend each, the first in alphabetical order wins
    ("p2", "o5", "B", 10.0), ("p2", "o6", "B", 10.0), ("p2", "o7", "A", 15.0),
    ("p2", "o8", "A", 5.0),
    # p3: a null spend (every amount null) comes after a negative one
    ("p3", "o9", "A", None), ("p3", "o10", "A", None), ("p3", "o11", "B", -5.0),
    ("p3", "o12", "B", 0.0),
    # p4: the only value has a null spend, which is returned as such
    ("p4", "o13", "A", None),
    # p5: more orders beat more spend; an order of two lines counts once
    ("p5", "o14", "A", 1.0), ("p5", "o15", "A", 1.0), ("p5", "o22", "A", 1.0),
    ("p5", "o16", "B", 50.0), ("p5", "o16", "B", 50.0), ("p5", "o17", "B", 0.5),
    # p6: no category at all, so no row
    ("p6", "o18", None, 5.0),
    # p7: two null spends, the first in alphabetical order wins
    ("p7", "o19", "B", None), ("p7", "o20", "A", None), ("p7", "o21", None, 9.0),
]  # fmt: skip
WANT = {
    "p1": ("B", 30.0, 2),
    "p2": ("A", 20.0, 2),
    "p3": ("B", -5.0, 2),
    "p4": ("A", None, 1),
    "p5": ("A", 3.0, 2),
    "p7": ("A", None, 2),
}


def _table(rows: list[tuple[Any, ...]]) -> pa.Table:
    df = pd.DataFrame(rows, columns=SCHEMA.names)
    return pa.Table.from_pandas(df, schema=SCHEMA, preserve_index=False)


def _random_rows(seed: int) -> list[tuple[Any, ...]]:
    """Few values, orders and amounts per person, so counts and spends often tie."""
    rng = random.Random(seed)
    rows = []
    for p in range(60):
        for o in range(rng.randint(0, 7)):
            order = f"p{p}-o{o}"
            for _ in range(rng.choice([1, 1, 2])):
                category = rng.choice(["a", "b", "c", "Ø", None])
                rows.append((f"p{p}", order, category, rng.choice([None, -2.5, 0.0, 2.5, 5.0])))
    return rows


def _expected(rows: list[tuple[Any, ...]], *, spend: bool) -> dict[str, tuple[Any, ...]]:
    df = pd.DataFrame(rows, columns=SCHEMA.names)
    df = df[df["category"].notna()]
    by = df.groupby(["customer_id", "category"])
    if spend:
        g = by.agg(n=("order_id", "nunique"), spend=("amount", lambda a: a.sum(min_count=1)))
        g = g.reset_index().sort_values(
            ["customer_id", "n", "spend", "category"],
            ascending=[True, False, False, True],
            na_position="last",
        )
    else:
        g = by.size().rename("n").reset_index()
        g = g.sort_values(["customer_id", "n", "category"], ascending=[True, False, True])
    out = {}
    for cid, mine in g.groupby("customer_id"):
        best = mine.iloc[0]
        value = None if not spend or pd.isna(best["spend"]) else float(best["spend"])
        out[str(cid)] = (best["category"], value, len(mine))
    return out


def _top(engine: Engine, rows: list[tuple[Any, ...]], *, spend: bool) -> dict[str, tuple[Any, ...]]:
    engine.write("transactions", _table(rows))
    got = top_value(
        engine.table("transactions"), "category", "top", spend=spend, distinct="distinct"
    )
    out = {}
    for r in got.to_pyarrow().to_pylist():
        value = r.get("top_spend")
        out[r["customer_id"]] = (r["top"], None if value is None else float(value), r["distinct"])
    return out


def test_ties_go_to_spend_then_to_the_value_and_null_spend_comes_last(engine: Engine) -> None:
    assert _expected(HAND_BUILT, spend=True) == WANT
    assert _top(engine, HAND_BUILT, spend=True) == WANT


@pytest.mark.parametrize("spend", [True, False])
@pytest.mark.parametrize("seed", range(3))
def test_matches_pandas_on_random_ties(engine: Engine, seed: int, *, spend: bool) -> None:
    rows = _random_rows(seed)
    assert _top(engine, rows, spend=spend) == _expected(rows, spend=spend)
