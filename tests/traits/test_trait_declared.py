"""Declared traits: every aggregate, window kind and filter op against a pandas reading."""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

import ibis
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from segmint.datamodel import ENTITIES
from segmint.engine import Engine, connect
from segmint.traits._base import customer_base
from segmint.traits._config import TraitDef, TraitsConfig, parse_traits_config

AS_OF = datetime(2026, 3, 15, 8, 30)
PEOPLE = [f"p{i}" for i in range(12)]
NAMES = ["Kaffe 50% off", "O'Brien's \"mug\"", "x'; DROP TABLE transactions; --", "Skål",
         "pan_1", None]  # fmt: skip
CASES: list[dict[str, Any]] = [
    {"name": "opens_30d", "from": "events", "aggregate": "count", "within": "30d",
     "where": [{"field": "event_type", "value": "email_open"}]},
    {"name": "not_sko_spend", "from": "transactions", "aggregate": "sum", "of": "amount",
     "between": ["365d", "90d"], "where": [{"field": "category", "op": "!=", "value": "Sko"}]},
    {"name": "big_avg", "from": "transactions", "aggregate": "avg", "of": "amount",
     "since": "2025-01-01", "where": [{"field": "amount", "op": ">", "value": 100}]},
    {"name": "small_min", "from": "transactions", "aggregate": "min", "of": "amount",
     "until": "2025-06-01", "where": [{"field": "amount", "op": "<=", "value": 50}]},
    {"name": "shop_max", "from": "transactions", "aggregate": "max", "of": "amount",
     "since": "2024-06-01", "until": "2025-06-01",
     "where": [{"field": "channel", "op": "in", "value": ["store", "app"]}]},
    {"name": "cats_12w", "from": "transactions", "aggregate": "count_distinct", "of": "category",
     "within": "12w", "where": [{"field": "channel", "op": "not_in", "value": ["store"]}]},
    {"name": "first_uncat", "from": "transactions", "aggregate": "first_time",
     "where": [{"field": "category", "op": "is_null"}]},
    {"name": "last_channel", "from": "transactions", "aggregate": "last_time", "of": "order_date",
     "where": [{"field": "channel", "op": "not_null"}]},
    {"name": "days_offer", "from": "transactions", "aggregate": "days_since_last",
     "where": [{"field": "product_name", "op": "contains", "value": "50%"}]},
    {"name": "days_obrien", "from": "transactions", "aggregate": "days_since_first",
     "where": [{"field": "product_name", "op": "starts_with", "value": "O'Brien"}]},
    {"name": "sko_share", "from": "transactions", "aggregate": "share", "of": "amount",
     "within": "365d", "where": [{"field": "category", "value": "Sko"}]},
    {"name": "click_share", "from": "events", "aggregate": "share",
     "where": [{"field": "event_type", "op": "in", "value": ["email_open", "email_click"]}]},
    {"name": "dated_qty", "from": "transactions", "aggregate": "sum", "of": "quantity",
     "where": [{"field": "order_date", "op": ">=", "value": date(2025, 1, 1)},
               {"field": "quantity", "op": "<", "value": 2.5}]},
    {"name": "text_number", "from": "transactions", "aggregate": "count",
     "where": [{"field": "amount", "op": ">=", "value": "100"}]},
    {"name": "hostile", "from": "transactions", "aggregate": "count",
     "where": [{"field": "product_name", "value": "x'; DROP TABLE transactions; --"}]},
    {"name": "lower_bound_equal", "from": "events", "aggregate": "count",
     "where": [{"field": "event_time", "op": "<=", "value": "2025-02-01T00:00:00"}]},
]  # fmt: skip


def _frames(seed: int = 11) -> dict[str, pd.DataFrame]:
    rng = random.Random(seed)
    start = datetime(2024, 1, 1)
    span = int((AS_OF + timedelta(days=60) - start).total_seconds())
    tx, ev = [], []
    for i in range(400):
        when = start + timedelta(seconds=rng.randrange(span))
        if i % 50 == 0:  # exactly on window edges
            when = AS_OF - timedelta(days=rng.choice([30, 90, 365, 84]))
        tx.append(
            {
                "order_id": f"o{i}",
                "line_no": 1,
                "customer_id": rng.choice(PEOPLE),
                "order_date": when,
                "product_name": rng.choice(NAMES),
                "category": rng.choice(["Sko", "Sport", "Bolig", None]),
                "channel": rng.choice(["store", "app", "webshop", None]),
                "quantity": rng.choice([1.0, 2.0, 3.0, None]),
                "amount": rng.randint(0, 1200) / 4,
            }
        )
    for _ in range(500):
        ev.append(
            {"customer_id": rng.choice(PEOPLE),
             "event_time": start + timedelta(seconds=rng.randrange(span)),
             "event_type": rng.choice(["email_send", "email_open", "email_click", "web_visit"])}
        )  # fmt: skip
    ev.append({"customer_id": "p1", "event_time": datetime(2025, 2, 1), "event_type": "web_visit"})
    customers = pd.DataFrame({"customer_id": PEOPLE, "signup_date": [date(2023, 1, 1)] * 12})
    return {"customers": customers, "transactions": pd.DataFrame(tx), "events": pd.DataFrame(ev)}


def _arrow(name: str, df: pd.DataFrame) -> pa.Table:
    schema = pa.schema([ENTITIES[name].arrow_schema.field(c) for c in df.columns])
    data = {c: [None if _isna(v) else v for v in df[c].tolist()] for c in df.columns}
    return pa.table(data, schema=schema)


def _isna(v: Any) -> bool:
    return v is None or v is pd.NaT or (isinstance(v, float) and math.isnan(v))


@pytest.fixture(scope="module")
def frames() -> dict[str, pd.DataFrame]:
    return _frames()


@pytest.fixture(scope="module")
def engine(frames: dict[str, pd.DataFrame]) -> Iterator[Engine]:
    eng = connect("duckdb:///:memory:")
    for name, df in frames.items():
        eng.write(name, _arrow(name, df))
    try:
        yield eng
    finally:
        eng.close()


# -- the same in pandas ------------------------------------------------------------------


def _duration(text: str) -> timedelta:
    return timedelta(days=int(text[:-1]) * (7 if text[-1] == "w" else 1))


def _in_window(times: pd.Series, d: TraitDef) -> pd.Series:
    keep = times < AS_OF
    if d.within:
        keep &= times >= AS_OF - _duration(d.within)
    if d.between:
        keep &= (times >= AS_OF - _duration(d.between[0])) & (
            times < AS_OF - _duration(d.between[1])
        )
    if d.since:
        keep &= times >= pd.Timestamp(d.since)
    if d.until:
        keep &= times < pd.Timestamp(d.until)
    return keep


def _matches(df: pd.DataFrame, field: str, op: str, value: Any) -> pd.Series:
    col = df[field]
    if op == "is_null":
        return col.isna()
    if op == "not_null":
        return col.notna()
    if field.endswith(("_date", "_time")) and value is not None:
        value = pd.Timestamp(value)
    if field in ("amount", "quantity") and isinstance(value, str):
        value = float(value)
    present = col.notna()
    tests = {
        "=": lambda: col == value,
        "!=": lambda: col != value,
        "<": lambda: col < value,
        "<=": lambda: col <= value,
        ">": lambda: col > value,
        ">=": lambda: col >= value,
        "in": lambda: col.isin(value),
        "not_in": lambda: ~col.isin(value),
        "contains": lambda: col.str.contains(value, regex=False),
        "starts_with": lambda: col.str.startswith(value),
    }
    return present & tests[op]().astype("boolean").fillna(False).astype(bool)


def expected(frames: dict[str, pd.DataFrame], d: TraitDef) -> dict[str, Any]:
    time_col = {"transactions": "order_date", "events": "event_time"}[d.source]
    df = frames[d.source].copy()
    df["_time"] = pd.to_datetime(df[time_col])
    window = _in_window(df["_time"], d)
    rows = window.copy()
    for f in d.where:
        rows &= _matches(df, f.field, f.op, f.value)
    out: dict[str, Any] = {}
    for person in PEOPLE:
        mine = df["customer_id"] == person
        r, w = df[rows & mine], df[window & mine]
        values = r[d.of] if d.of else r["_time"]
        agg = d.aggregate
        if agg == "count":
            out[person] = len(r)
        elif agg == "sum":
            out[person] = float(values.sum())
        elif agg == "count_distinct":
            out[person] = values.nunique()
        elif agg == "share":
            if d.of:
                total = w[d.of].sum()
                out[person] = float(values.sum()) / total if len(w) and total else None
            else:
                out[person] = len(r) / len(w) if len(w) else None
        elif values.dropna().empty:
            out[person] = None
        elif agg in ("avg", "min", "max"):
            out[person] = {"avg": values.mean, "min": values.min, "max": values.max}[agg]()
        elif agg in ("first_time", "last_time"):
            out[person] = values.min() if agg == "first_time" else values.max()
        else:
            stamp = values.max() if agg == "days_since_last" else values.min()
            out[person] = (AS_OF.date() - stamp.date()).days
    return out


def _same(got: Any, want: Any) -> bool:
    if _isna(got) or _isna(want):
        return _isna(got) and _isna(want)
    if isinstance(want, float):
        return math.isclose(float(got), want, rel_tol=1e-9, abs_tol=1e-9)
    if isinstance(want, datetime):
        return pd.Timestamp(got) == pd.Timestamp(want)
    return bool(got == want)


# -- tests -------------------------------------------------------------------------------


def test_every_aggregate_window_and_op(engine: Engine, frames: dict[str, pd.DataFrame]) -> None:
    config = parse_traits_config(CASES)
    got = {
        r["customer_id"]: r for r in customer_base(engine, config, AS_OF).to_pyarrow().to_pylist()
    }

    assert set(got) == set(PEOPLE)
    wrong = []
    for d in config.declared:
        want = expected(frames, d)
        wrong += [
            (d.name, p, got[p][d.name], want[p])
            for p in PEOPLE
            if not _same(got[p][d.name], want[p])
        ]
        # each case selects something for someone, so it is really tested
        assert any(v not in (0, None) for v in want.values()), d.name
    assert not wrong, wrong[:10]
    assert engine.count("transactions") == len(frames["transactions"])  # nothing was dropped


def test_declared_traits_add_no_pass(engine: Engine) -> None:
    def group_bys(config: TraitsConfig) -> int:
        return ibis.to_sql(customer_base(engine, config, AS_OF)).upper().count("GROUP BY")

    assert group_bys(parse_traits_config(CASES)) == group_bys(TraitsConfig())


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    texts=st.lists(
        st.one_of(
            st.sampled_from([n for n in NAMES if n]),
            st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=12),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_any_text_is_a_value(
    engine: Engine, frames: dict[str, pd.DataFrame], texts: list[str]
) -> None:
    defs = []
    for i, text in enumerate(texts):
        for op in ("=", "contains", "starts_with"):
            where = [{"field": "product_name", "op": op, "value": text}]
            name = f"n{i}_{op.replace('=', 'eq')}"
            defs.append(
                {"name": name, "from": "transactions", "aggregate": "count", "where": where}
            )
    config = parse_traits_config(defs)
    got = customer_base(engine, config, AS_OF).to_pandas().set_index("customer_id")

    for d in config.declared:
        want = expected(frames, d)
        assert {p: int(got.loc[p, d.name]) for p in PEOPLE} == want, d.where[0].value
