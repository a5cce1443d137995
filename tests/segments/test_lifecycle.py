"""Lifecycle stages against plain pandas, with purchases exactly on every threshold."""

from __future__ import annotations

import itertools
import random
from datetime import date, datetime, timedelta

import ibis
import pandas as pd
import pyarrow as pa
import pytest

from segmint.engine import Engine, spark_sql
from segmint.exceptions import ConfigError
from segmint.segments._families_config import LifecycleSettings
from segmint.segments._lifecycle import STAGE_PRECEDENCE, lifecycle

AS_OF = datetime(2024, 7, 1)
SECOND = timedelta(seconds=1)


def ago(days: float) -> datetime:
    return AS_OF - timedelta(days=days)


def _orders(orders: dict[str, list[datetime]]) -> pd.DataFrame:
    rows = [(cid, t) for cid, times in orders.items() for t in times]
    return pd.DataFrame(rows, columns=["customer_id", "_time"]).astype({"_time": "datetime64[us]"})


def _base_from(orders: pd.DataFrame, customers: list[str], as_of: datetime) -> pd.DataFrame:
    """The traits a customer base would hold as of ``as_of`` (orders = distinct times)."""
    seen = orders[orders["_time"] < as_of]
    g = seen.groupby("customer_id")["_time"]
    base = pd.DataFrame({"customer_id": customers})
    base["first_purchase"] = base["customer_id"].map(g.min())
    base["last_purchase"] = base["customer_id"].map(g.max())
    base["frequency"] = base["customer_id"].map(g.nunique()).fillna(0).astype("int64")
    return base


def _write(engine: Engine, orders: pd.DataFrame, base: pd.DataFrame) -> None:
    engine.write("orders", pa.Table.from_pandas(orders, preserve_index=False))
    engine.write("base", pa.Table.from_pandas(base, preserve_index=False))


def pandas_lifecycle(
    base: pd.DataFrame, orders: pd.DataFrame, as_of: datetime, s: LifecycleSettings
) -> dict[str, str]:
    """The documented rules as a plain if-chain over pandas data."""
    seen = orders[orders["_time"] < as_of].sort_values(["customer_id", "_time"])
    times = {cid: list(g["_time"]) for cid, g in seen.groupby("customer_id")}
    new = timedelta(days=s.new_days)
    active = timedelta(days=s.active_days)
    lapsed = timedelta(days=s.lapsed_days)
    out = {}
    for row in base.itertuples():
        last, first = row.last_purchase, row.first_purchase
        ts = times.get(row.customer_id, [])
        returned = any(as_of - t <= active and t - p > lapsed for p, t in itertools.pairwise(ts))
        if pd.isna(last):
            stage = "prospect"
        elif as_of - last > lapsed:
            stage = "lapsed"
        elif as_of - last > active:
            stage = "at_risk"
        elif as_of - first <= new:
            stage = "new"
        elif returned:
            stage = "reactivated"
        elif row.frequency >= s.loyal_orders:
            stage = "loyal"
        else:
            stage = "active"
        out[row.customer_id] = stage
    return out


# Each customer sits on (or one second beside) a threshold; default settings 90/180/365/5.
CASES: dict[str, tuple[list[datetime], str]] = {
    "prospect": ([], "prospect"),
    "new_edge": ([ago(90)], "new"),
    "new_just_out": ([ago(90) - SECOND], "active"),
    "new_with_lines": ([ago(10), ago(10), ago(10)], "new"),
    "new_and_5_orders": ([ago(80), ago(60), ago(40), ago(20), ago(1)], "new"),
    "active_edge": ([ago(400), ago(300), ago(180)], "active"),
    "at_risk_just_in": ([ago(180) - SECOND], "at_risk"),
    "at_risk_edge": ([ago(365)], "at_risk"),
    "lapsed_just_in": ([ago(365) - SECOND], "lapsed"),
    "lapsed_long": ([ago(2000), ago(1500)], "lapsed"),
    "loyal_5": ([ago(d) for d in (500, 400, 300, 200, 100)], "loyal"),
    "active_4": ([ago(d) for d in (400, 300, 200, 100)], "active"),
    "reactivated": ([ago(800), ago(100)], "reactivated"),
    "gap_exactly_365": ([ago(465), ago(100)], "active"),
    "gap_365_and_a_second": ([ago(465) - SECOND, ago(100)], "reactivated"),
    "reactivated_loyal": (
        [ago(d) for d in (900, 880, 860, 840, 820, 810)] + [ago(5)],
        "reactivated",
    ),
    "return_on_active_edge": ([ago(700), ago(180)], "reactivated"),
    "return_before_window": ([ago(900), ago(200), ago(10)], "active"),
    "later_orders_ignored": ([ago(700), AS_OF, AS_OF + timedelta(days=3)], "lapsed"),
    # only orders since ago(180 + 365) are grouped: the gap before the window's first
    # order, from inside that slice, from just before it, and an older gap that is not it
    "gap_from_the_slice_start": ([ago(545), ago(179)], "reactivated"),
    "gap_exactly_365_from_the_slice_start": ([ago(545), ago(180)], "active"),
    "gap_from_just_before_the_slice": ([ago(545) - SECOND, ago(180)], "reactivated"),
    "no_gap_inside_the_slice": ([ago(544), ago(180)], "active"),
    "an_older_gap_is_not_a_return": ([ago(900), ago(400), ago(100)], "active"),
}


def test_every_threshold_case_gets_its_stage(engine: Engine) -> None:
    orders = _orders({cid: times for cid, (times, _) in CASES.items()})
    base = _base_from(orders, list(CASES), AS_OF)
    _write(engine, orders, base)
    got = lifecycle(engine.table("base"), engine.table("orders"), AS_OF).to_pandas()
    assert len(got) == len(CASES)
    assert dict(zip(got["customer_id"], got["lifecycle_stage"], strict=True)) == {
        cid: stage for cid, (_, stage) in CASES.items()
    }
    assert pandas_lifecycle(base, orders, AS_OF, LifecycleSettings()) == {
        cid: stage for cid, (_, stage) in CASES.items()
    }
    assert set(got["lifecycle_stage"]) == set(STAGE_PRECEDENCE)


def test_a_date_as_of_means_its_midnight(engine: Engine) -> None:
    orders = _orders({cid: times for cid, (times, _) in CASES.items()})
    _write(engine, orders, _base_from(orders, list(CASES), AS_OF))
    by_date = lifecycle(engine.table("base"), engine.table("orders"), date(2024, 7, 1))
    by_time = lifecycle(engine.table("base"), engine.table("orders"), AS_OF)
    a = by_date.to_pandas().sort_values("customer_id").reset_index(drop=True)
    b = by_time.to_pandas().sort_values("customer_id").reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)


def _random_orders(n: int, seed: int) -> dict[str, list[datetime]]:
    rng = random.Random(seed)
    start = datetime(2021, 1, 1)
    out: dict[str, list[datetime]] = {}
    for i in range(n):
        k = rng.choice([0, 0, 1, 2, 3, 5, 8])
        # whole days and a few exact repeats, so thresholds and order lines are hit
        out[f"c{i:04d}"] = sorted(start + timedelta(days=rng.randrange(0, 1400)) for _ in range(k))
    return out


@pytest.mark.parametrize(
    ("as_of", "settings"),
    [
        (datetime(2024, 7, 1), LifecycleSettings()),
        (datetime(2023, 3, 15), LifecycleSettings()),
        (
            datetime(2024, 1, 1),
            LifecycleSettings(new_days=30, active_days=60, lapsed_days=120, loyal_orders=3),
        ),
        (datetime(2022, 6, 1), LifecycleSettings(new_days=180, active_days=180, lapsed_days=181)),
    ],
)
def test_random_histories_match_pandas(
    engine: Engine, as_of: datetime, settings: LifecycleSettings
) -> None:
    orders = _orders(_random_orders(400, seed=as_of.toordinal()))
    customers = sorted(set(orders["customer_id"]) | {f"c{i:04d}" for i in range(400)})
    base = _base_from(orders, customers, as_of)
    _write(engine, orders, base)
    got = lifecycle(engine.table("base"), engine.table("orders"), as_of, settings).to_pandas()
    assert got["customer_id"].is_unique
    assert dict(zip(got["customer_id"], got["lifecycle_stage"], strict=True)) == (
        pandas_lifecycle(base, orders, as_of, settings)
    )


def test_thresholds_must_be_ordered() -> None:
    with pytest.raises(ValueError, match="new_days <= active_days < lapsed_days"):
        LifecycleSettings(new_days=200)
    with pytest.raises(ValueError, match="new_days <= active_days < lapsed_days"):
        LifecycleSettings(active_days=365)
    with pytest.raises(ValueError, match="extra"):
        LifecycleSettings.model_validate({"new_dyas": 30})


def test_missing_columns_are_named() -> None:
    base = ibis.memtable({"customer_id": ["a"], "last_purchase": [AS_OF], "frequency": [1]})
    orders = ibis.memtable({"customer_id": ["a"], "order_date": [AS_OF]})
    with pytest.raises(ConfigError, match="'first_purchase'"):
        lifecycle(base, orders, AS_OF)
    full = base.mutate(first_purchase=base.last_purchase)
    with pytest.raises(ConfigError, match=r"lifecycle \(orders\) needs column\(s\) '_time'"):
        lifecycle(full, orders, AS_OF)


def test_lifecycle_compiles_for_spark() -> None:
    base = ibis.table(
        {
            "customer_id": "string",
            "first_purchase": "timestamp",
            "last_purchase": "timestamp",
            "frequency": "int64",
        },
        name="base",
    )
    orders = ibis.table({"customer_id": "string", "_time": "timestamp"}, name="orders")
    sql = spark_sql(lifecycle(base, orders, AS_OF))
    assert "OVER" not in sql  # one aggregate per customer, no window over all orders
    assert "GROUP BY" in sql
    assert "INTERVAL '365' DAY" in sql
