"""Hostile strings in rule values are data, never code (hypothesis).

Quotes, SQL fragments, backslashes, LIKE wildcards and arbitrary unicode in ``=``, ``in``,
``contains`` and ``starts_with`` conditions (on a customer field and on an activity column)
give exactly the pandas result, leave the store's tables untouched, and reach the Spark SQL
as string literals that read back as the same value.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import ibis
import pandas as pd
import pyarrow as pa
import pytest
import sqlglot
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from segmint.engine import Engine, connect
from segmint.segments._compile import RuleContext, compile_segment
from segmint.segments._parse import (
    parse_rule,
)

AS_OF = datetime(2024, 6, 1)
HOSTILE = [
    "'",
    "''",
    '"',
    "'; DROP TABLE customers; --",
    "x' OR '1'='1",
    "\\",
    "\\'",
    "a\\'b",
    "%",
    "_",
    "%_%",
    "Ørsted & Søn",
    "🙂 emoji",
    "line\nbreak",
    "tab\there",
    "$1 ${x} {0}",
    "",
    " ",
    "NULL",
    "*/ SELECT 1; /*",
]
TEXT = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(
        alphabet=st.characters(exclude_characters="\x00", exclude_categories=["Cs"]), max_size=20
    ),
)


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    eng = connect("duckdb:///:memory:")
    eng.write("customers", pa.table({"customer_id": ["k1", "k2"], "name": ["keep", "me"]}))
    write_data(eng, [])
    yield eng
    eng.close()


def spark_literals(expr: ibis.Table) -> set[str]:
    from ibis.backends.pyspark import Backend

    if ibis.options.pyspark is None:
        Backend.register_options()
    sql = str(ibis.to_sql(expr, dialect="pyspark"))
    tree = sqlglot.parse_one(sql, read="spark")
    return {lit.this for lit in tree.find_all(sqlglot.exp.Literal) if lit.is_string}


def write_data(engine: Engine, names: list[str | None]) -> None:
    ids = [f"p{i}" for i in range(len(names))]
    engine.write(
        "fuzz_base",
        pa.table({"customer_id": pa.array(ids, pa.string()), "name": pa.array(names, pa.string())}),
    )
    engine.write(
        "fuzz_events",
        pa.table(
            {
                "customer_id": pa.array(ids, pa.string()),
                "label": pa.array(names, pa.string()),
                "_time": pa.array([AS_OF - timedelta(days=1)] * len(ids), pa.timestamp("us")),
            }
        ),
    )


def run(
    engine: Engine, names: list[str | None], rule: dict[str, Any]
) -> tuple[set[str], ibis.Table]:
    write_data(engine, names)
    ctx = RuleContext(
        base=engine.table("fuzz_base"),
        activity=lambda n: engine.table("fuzz_events") if n == "events" else None,
        as_of=AS_OF,
        members=lambda n: engine.table("fuzz_base").limit(0),
        fields={"name": "string"},
    )
    expr = compile_segment(parse_rule(rule), ctx)
    return set(expr.to_pyarrow().column("customer_id").to_pylist()), expr


def oracle(names: list[str | None], op: str, value: Any) -> set[str]:
    s = pd.Series(names, dtype="object")
    present = s.notna()
    text = s.fillna("")
    if op == "=":
        hit = present & (text == value)
    elif op == "in":
        hit = present & text.isin(value)
    elif op == "contains":
        hit = present & text.map(lambda x: value in x)
    else:
        hit = present & text.map(lambda x: x.startswith(value))
    return {f"p{i}" for i, h in enumerate(hit) if h}


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    value=TEXT,
    others=st.lists(st.one_of(TEXT, st.none()), max_size=4),
    op=st.sampled_from(["=", "in", "contains", "starts_with"]),
    on_activity=st.booleans(),
)
def test_hostile_values_are_matched_as_data(
    engine: Engine, value: str, others: list[str | None], op: str, on_activity: bool
) -> None:
    # the value itself, values around it, and unrelated ones
    names: list[str | None] = [value, value + "x", "x" + value, value[:-1] or None, *others]
    cond: dict[str, Any] = {"op": op, "value": [value, "zz"] if op == "in" else value}
    if on_activity:
        rule: dict[str, Any] = {"performed": "events", "where": [{"field": "label", **cond}]}
    else:
        rule = {"field": "name", **cond}
    tables = set(engine.con.list_tables())

    got, expr = run(engine, names, rule)

    assert got == oracle(names, op, cond["value"])
    assert set(engine.con.list_tables()) == tables
    assert (
        engine.table("customers")
        .to_pyarrow()
        .equals(pa.table({"customer_id": ["k1", "k2"], "name": ["keep", "me"]}))
    )
    assert value in spark_literals(expr)
