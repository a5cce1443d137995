"""The CLV summary of a transactions table, computed in the engine.

Per customer: ``x`` repeat purchases, ``t_x`` time from the first to the last purchase,
``T`` time from the first purchase to the calibration end, ``monetary`` the mean value of
the repeat purchases, and the purchases (and spend) in the holdout period after the
calibration end.  A purchase is one order (with an order column) or one customer-day
(without): lines of one order, or several rows of one day, are one purchase.  Times are
whole days between purchase days, divided by 7 for ``unit="week"`` (days/7, not calendar
weeks: resampling to weeks changes the fit).

The fit needs far less than a row per customer: customers with identical
``(x, t_x, T)`` have identical likelihoods, so :func:`compress` collapses them to one row
with a weight (the count) and the sum of their holdout purchases; that is all BG/NBD,
Pareto/NBD and the holdout validation read.  Everything here is an Ibis expression, so
it runs where the data is (DuckDB by default, Spark for large projects).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Literal

import numpy as np

if TYPE_CHECKING:
    import ibis.expr.types as ir

Unit = Literal["day", "week"]
DAYS_PER_UNIT: dict[str, float] = {"day": 1.0, "week": 7.0}
#: share of the data window held out when no calibration end is given
DEFAULT_HOLDOUT_SHARE = 0.25


@dataclass(frozen=True)
class Window:
    """The dates a summary covers; purchases on ``calibration_end`` are in calibration."""

    first_purchase: date
    calibration_end: date
    observation_end: date
    unit: Unit = "day"

    @property
    def holdout_length(self) -> float:
        """Length of the holdout period in the time unit."""
        days = (self.observation_end - self.calibration_end).days
        return days / DAYS_PER_UNIT[self.unit]

    def to_dict(self) -> dict[str, str | float]:
        return {
            "first_purchase": self.first_purchase.isoformat(),
            "calibration_end": self.calibration_end.isoformat(),
            "observation_end": self.observation_end.isoformat(),
            "unit": self.unit,
            "holdout_length": self.holdout_length,
        }


def _as_date(value: object) -> date:
    if hasattr(value, "date") and callable(value.date):  # datetime, pandas Timestamp
        return value.date()  # type: ignore[no-any-return,unused-ignore]
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def purchases(
    table: ir.Table,
    *,
    customer: str,
    date: str,
    amount: str | None = None,
    order: str | None = None,
) -> ir.Table:
    """One row per purchase: ``customer_id``, ``day`` (a date), ``value``.

    ``order`` given: one purchase per distinct order (its first day, its summed amount);
    otherwise one per customer and day.
    """
    import ibis

    day = table[date].cast("date")
    # exact decimal sums: a float sum depends on the order a parallel engine adds in, and
    # the same data must give the same fit (and scores) on every run
    money = "decimal(38, 9)"
    value = table[amount].cast(money) if amount else ibis.literal(0, type=money)
    key = table[order].cast("string") if order else ibis.literal("")
    rows = table.select(
        customer_id=table[customer].cast("string"), day=day, value=value, order_key=key
    )
    rows = rows.filter(rows.customer_id.notnull() & rows.day.notnull())
    if order is None:
        return rows.group_by(["customer_id", "day"]).aggregate(value=rows.value.sum())
    per_order = rows.group_by(["customer_id", "order_key"]).aggregate(
        day=rows.day.min(), value=rows.value.sum()
    )
    return per_order.select("customer_id", "day", "value", "order_key")


def window_for(
    purchases_table: ir.Table,
    calibration_end: date | str | None = None,
    observation_end: date | str | None = None,
    unit: Unit = "day",
) -> Window:
    """The window: observation end defaults to the last purchase day, calibration end to
    the day that leaves the last quarter of the data window as holdout."""
    if unit not in DAYS_PER_UNIT:
        raise ValueError(f"unit must be 'day' or 'week', not {unit!r}")
    span = purchases_table.aggregate(lo=purchases_table.day.min(), hi=purchases_table.day.max())
    row = span.to_pyarrow().to_pylist()[0]
    if row["lo"] is None:
        raise ValueError("the transactions table has no purchases with a customer and a date")
    first, last = _as_date(row["lo"]), _as_date(row["hi"])
    obs = _as_date(observation_end) if observation_end is not None else last
    if calibration_end is None:
        held = round((obs - first).days * DEFAULT_HOLDOUT_SHARE)
        cal = obs - timedelta(days=held)
    else:
        cal = _as_date(calibration_end)
    if not first <= cal <= obs:
        raise ValueError(
            f"calibration end {cal} must lie between the first purchase {first} and the "
            f"observation end {obs}"
        )
    return Window(first, cal, obs, unit)


def customer_summary(purchases_table: ir.Table, window: Window) -> ir.Table:
    """Per-customer ``x, t_x_days, T_days, monetary, x_holdout, value_holdout``.

    Customers whose first purchase is after the calibration end are not in it (the
    models describe customers already acquired); times are in whole days.  One grouped
    pass over the purchases: each measure is filtered to the calibration or the holdout
    period, and the value of the first purchase (which ``monetary`` leaves out) is the
    value at the smallest ``(day, order_key)``, so no window function is needed.
    """
    import ibis

    p = purchases_table
    cal = ibis.literal(window.calibration_end)
    obs = ibis.literal(window.observation_end)
    in_cal = p.day <= cal
    in_hold = (p.day > cal) & (p.day <= obs)
    first_key = (
        ibis.struct({"day": p.day, "order_key": p.order_key}) if "order_key" in p.columns else p.day
    )
    per = p.group_by("customer_id").aggregate(
        n=p.count(where=in_cal),
        first=p.day.min(where=in_cal),
        last=p.day.max(where=in_cal),
        total=p.value.sum(where=in_cal),
        first_value=p.value.argmin(first_key, where=in_cal),
        x_holdout=p.count(where=in_hold),
        value_holdout=p.value.sum(where=in_hold),
    )
    per = per.filter(per.n > 0)
    x = per.n - 1
    return per.select(
        customer_id=per.customer_id,
        x=x,
        t_x_days=per.last.delta(per.first, unit="day"),
        T_days=cal.delta(per.first, unit="day"),
        monetary=ibis.ifelse(
            x > 0, (per.total - per.first_value).cast("float64") / x, ibis.null("float64")
        ),
        x_holdout=per.x_holdout,
        value_holdout=per.value_holdout.cast("float64").fill_null(0.0),
    )


def compress(summary: ir.Table) -> ir.Table:
    """Customers with identical ``(x, t_x_days, T_days)`` as one row with a ``weight``."""
    return summary.group_by(["x", "t_x_days", "T_days"]).aggregate(
        weight=summary.count(), x_holdout=summary.x_holdout.sum()
    )


@dataclass(frozen=True)
class Compressed:
    """The compressed summary as arrays, times in the window's unit."""

    x: np.ndarray
    t_x: np.ndarray
    T: np.ndarray
    weight: np.ndarray
    x_holdout: np.ndarray  # summed over the customers of the row
    window: Window

    @property
    def X(self) -> np.ndarray:  # noqa: N802 - scikit-learn's name for the design matrix
        return np.column_stack([self.x, self.t_x, self.T])

    @property
    def n_customers(self) -> int:
        return int(self.weight.sum())


def collect(compressed: ir.Table, window: Window) -> Compressed:
    """Fetch a :func:`compress` result as arrays (sorted, so results are reproducible)."""
    t = compressed.order_by(["x", "t_x_days", "T_days"]).to_pyarrow()
    per_unit = DAYS_PER_UNIT[window.unit]

    def col(name: str) -> np.ndarray:
        return np.asarray(t.column(name).to_numpy(), dtype=float)

    return Compressed(
        x=col("x"),
        t_x=col("t_x_days") / per_unit,
        T=col("T_days") / per_unit,
        weight=col("weight"),
        x_holdout=col("x_holdout"),
        window=window,
    )


def spend_summary(summary: ir.Table) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(x, monetary, weight)`` of repeat buyers with a positive mean spend, for
    Gamma-Gamma (identical pairs collapse, which is rare with money amounts)."""
    s = summary.filter((summary.x > 0) & (summary.monetary > 0))
    t = (
        s.group_by(["x", "monetary"])
        .aggregate(weight=s.count())
        .order_by(["x", "monetary"])
        .to_pyarrow()
    )
    return (
        np.asarray(t.column("x").to_numpy(), dtype=float),
        np.asarray(t.column("monetary").to_numpy(), dtype=float),
        np.asarray(t.column("weight").to_numpy(), dtype=float),
    )
