"""Figures per group against the whole base, and the index (100 = the base average).

For a numeric trait the index is ``100 * mean in the group / mean in the base``; for a
yes/no trait and for each value of a categorical trait it is ``100 * share in the group /
share in the base``.  Means and shares are over the customers whose value is known
(nulls are left out, as SQL's ``AVG`` and pandas' ``mean`` / ``value_counts`` do).  An
index is undefined (None) where the base figure is zero or negative.

All groups are computed together: one pass over the membership table joined to the
profile base for the numeric and yes/no traits, one per categorical trait.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import ibis.expr.types as ir
import pandas as pd

from segmint.profiles._base import ProfileBase
from segmint.profiles._groups import BASE

#: the value traits whose totals give a group's share of revenue and of lifetime value
VALUE_TOTALS = ("monetary", "spend_365d", "clv")


@dataclass
class GroupStats:
    """Per group (rows; the base is :data:`BASE`): size, means, totals, category shares."""

    sizes: pd.Series  # group -> customers
    means: pd.DataFrame  # group x numeric/boolean field -> mean (share true for booleans)
    totals: pd.DataFrame  # group x value field -> sum
    counts: dict[str, pd.DataFrame]  # field -> group x value -> customers with that value

    @property
    def base_size(self) -> int:
        return int(self.sizes.get(BASE, 0))

    def shares(self, field: str) -> pd.DataFrame:
        """Share of each value among the group's customers whose ``field`` is known."""
        c = self.counts[field]
        return c.div(c.sum(axis=1).replace(0, float("nan")), axis=0)


def index(value: float | None, base: float | None) -> float | None:
    """``100 * value / base``; None when either is missing or the base is not positive."""
    if value is None or base is None or _nan(value) or _nan(base) or base <= 0:
        return None
    return 100.0 * float(value) / float(base)


def _nan(x: float) -> bool:
    return isinstance(x, float) and math.isnan(x)


def group_stats(pb: ProfileBase, members: ir.Table) -> GroupStats:
    """Every figure the cards need, for every group in ``members`` (and the base)."""
    t = pb.table
    m = members.rename(_mcid="customer_id")
    j = m.join(t, m._mcid == t.customer_id)
    aggs: dict[str, ir.Value] = {"_size": j.count()}
    for c in pb.numeric:
        aggs[f"mean__{c}"] = j[c].cast("float64").mean()
    for c in pb.boolean:
        aggs[f"mean__{c}"] = j[c].cast("float64").mean()
    totals = [c for c in VALUE_TOTALS if c in pb.numeric]
    for c in totals:
        aggs[f"sum__{c}"] = j[c].cast("float64").sum()
    wide = j.group_by("group").aggregate(**aggs).to_pandas().set_index("group")
    sizes = wide["_size"].astype("int64")
    means = wide[[f"mean__{c}" for c in (*pb.numeric, *pb.boolean)]]
    means.columns = [*pb.numeric, *pb.boolean]
    sums = wide[[f"sum__{c}" for c in totals]]
    sums.columns = totals
    counts: dict[str, pd.DataFrame] = {}
    for c in pb.categorical:
        known = j.filter(j[c].notnull())
        per = known.group_by(["group", c]).aggregate(n=known.count()).to_pandas()
        table = per.pivot_table(index="group", columns=c, values="n", aggfunc="sum", fill_value=0)
        counts[c] = table.reindex(index=sizes.index, fill_value=0).astype("int64")
    return GroupStats(sizes=sizes, means=means.astype("float64"), totals=sums, counts=counts)


def index_rows(stats: GroupStats, group: str, pb: ProfileBase) -> list[dict[str, object]]:
    """Every profiled figure of ``group`` with the base's and the index, one row each.

    Rows: ``{field, value, kind, group, base, index}``; ``value`` is None for numeric
    and yes/no fields (the figure is the mean or share) and the category otherwise.
    """
    rows: list[dict[str, object]] = []
    for c in (*pb.numeric, *pb.boolean):
        g = _float(stats.means.at[group, c]) if group in stats.means.index else None
        b = _float(stats.means.at[BASE, c])
        kind = "numeric" if c in pb.numeric else "boolean"
        rows.append(
            {"field": c, "value": None, "kind": kind, "group": g, "base": b, "index": index(g, b)}
        )
    for c in pb.categorical:
        shares = stats.shares(c)
        for v in shares.columns:
            g = _float(shares.at[group, v]) if group in shares.index else None
            b = _float(shares.at[BASE, v])
            rows.append(
                {
                    "field": c,
                    "value": str(v),
                    "kind": "categorical",
                    "group": g,
                    "base": b,
                    "index": index(g, b),
                }
            )
    return rows


def distinguishing(
    rows: list[dict[str, object]], *, top: int = 10, min_share: float = 0.05
) -> list[dict[str, object]]:
    """The rows furthest from 100 (by ratio, either way), most distinguishing first.

    A category must hold at least ``min_share`` of the group or of the base to count, so
    that a value two customers have does not top the list.
    """
    keep = []
    for r in rows:
        idx = r["index"]
        if not isinstance(idx, float) or idx <= 0:
            continue
        if r["kind"] == "categorical":
            g, b = r["group"] or 0.0, r["base"] or 0.0
            if max(float(g), float(b)) < min_share:  # type: ignore[arg-type]
                continue
        keep.append(r)
    keep.sort(key=lambda r: (-abs(math.log(float(r["index"]) / 100.0)), str(r["field"])))  # type: ignore[arg-type]
    return keep[:top]


def cell(frame: pd.DataFrame, row: str, column: str) -> float:
    """One figure of a frame as a float (NaN when the row is missing)."""
    if row not in frame.index:
        return float("nan")
    value: Any = frame.at[row, column]
    return float(value)


def _float(x: object) -> float | None:
    if x is None:
        return None
    f = float(x)  # type: ignore[arg-type]
    return None if math.isnan(f) else f
