"""Sizing: how many households or companies like a segment's exist, and its penetration.

The market table counts households (or companies) per cell, e.g. region x age band.  Every
customer falls in one cell through the configured keys.  In a cell ``c`` the customers are
``customers_c`` of ``market_c`` households, so each customer there stands for
``market_c / customers_c`` households: the cell's households split evenly over its
customers (the usual expansion weight of a survey sample).  A segment's market, the
households *like its members*, is the sum of its members' weights::

    market(S)      = sum over cells c of  members_c * market_c / customers_c
    penetration(S) = members(S) / market(S)
    headroom(S)    = market(S) - members(S)

A segment spread like the base has the base's penetration; one concentrated where the
company has few customers has a low penetration and a large headroom.  For the whole base
the market is the households of every cell that has customers.  A segment is flagged
*too narrow* when its market is below ``min_market_share`` of the whole market or it has
fewer than ``min_customers`` members: the canvas's warning about spending time on a
segment that is too small.  Customers whose keys are unknown or match no cell are counted
as ``unmatched`` and left out of the figures.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from segmint.exceptions import ConfigError
from segmint.profiles._base import ProfileBase
from segmint.profiles._config import MarketConfig, ProfilesConfig
from segmint.profiles._groups import BASE

_BAND = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d+)|\+)\s*$")


@dataclass
class Sizing:
    """One group's market, penetration and headroom (see the module docstring)."""

    group: str
    members: int
    matched: int
    market: float
    penetration: float | None
    headroom: float
    market_share: float | None
    narrow: bool
    reasons: list[str]
    cells: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def no_members(group: str, settings: ProfilesConfig) -> Sizing:
    """The sizing of a group without customers: no market, too narrow."""
    reasons = ["market_share"] + (["customers"] if settings.min_customers > 0 else [])
    return Sizing(group, 0, 0, 0.0, None, 0.0, 0.0, True, reasons, [])


def parse_bands(values: list[str]) -> list[tuple[str, int, int | None]] | None:
    """``["18-29", "75+"]`` -> ``[("18-29", 18, 29), ("75+", 75, None)]``; None if not bands."""
    bands: list[tuple[str, int, int | None]] = []
    for v in values:
        m = _BAND.match(str(v))
        if m is None:
            return None
        lo = int(m.group(1))
        bands.append((str(v), lo, int(m.group(2)) if m.group(2) else None))
    return sorted(bands, key=lambda b: b[1])


def _cell_keys(pb: ProfileBase, market: MarketConfig, table: pd.DataFrame) -> dict[str, ir.Value]:
    """Customer field -> the market column's value, per market key."""
    t = pb.table
    keys: dict[str, ir.Value] = {}
    for column, field in market.keys.items():
        if field not in t.columns:
            raise ConfigError(
                f"profiles.market.keys.{column}: no customer field {field!r} in the last run"
            )
        value = t[field]
        bands = parse_bands([str(v) for v in table[column].dropna().unique()])
        if value.type().is_numeric() and bands:
            lows = sorted(bands, key=lambda b: b[1])
            cases = [
                ((value >= lo) & (value <= hi) if hi is not None else value >= lo, name)
                for name, lo, hi in lows
            ]
            # below the first band's floor (an 17-year-old, a 0-employee firm) is that band
            cases.insert(0, (value < lows[0][1], lows[0][0]))
            keys[column] = ibis.cases(*cases, else_=ibis.null("string"))
        else:
            keys[column] = value.cast("string")
    return keys


def market_table(pb: ProfileBase, market: MarketConfig) -> pd.DataFrame:
    """The market table's keys (as text) and size, summed per cell."""
    eng = pb.engine
    if not eng.has_table(market.table):
        raise ConfigError(
            f"profiles.market.table: no table {market.table!r} in the store; load it with "
            f"segmint load {market.table} FILE --key {','.join(market.keys)}"
        )
    m = eng.table(market.table)
    missing = [c for c in (*market.keys, market.size) if c not in m.columns]
    if missing:
        raise ConfigError(f"profiles.market: table {market.table!r} has no column {missing[0]!r}")
    df = m.select(*market.keys, market.size).to_pandas()
    for c in market.keys:
        df[c] = df[c].astype("string")
    return df.groupby(list(market.keys), as_index=False, dropna=True)[market.size].sum()


def sizing(pb: ProfileBase, members: ir.Table, settings: ProfilesConfig) -> dict[str, Sizing]:
    """The sizing of every group in ``members`` (the base under :data:`BASE`)."""
    market = settings.market
    if market is None:
        return {}
    table = market_table(pb, market)
    keys = list(market.keys)
    t = pb.table
    cells = t.select("customer_id", **_cell_keys(pb, market, table))
    m = members.rename(_mcid="customer_id")
    j = m.join(cells, m._mcid == cells.customer_id)
    per = j.group_by(["group", *keys]).aggregate(n=j.count()).to_pandas()
    for c in keys:
        per[c] = per[c].astype("string")
    base = per[per["group"] == BASE].rename(columns={"n": "customers"}).drop(columns="group")
    found = per.merge(base, on=keys, how="left").merge(table, on=keys, how="left")
    found["matched"] = found[keys].notna().all(axis=1) & found[market.size].notna()
    ok = found[found["matched"]].copy()
    ok["weight"] = ok[market.size] / ok["customers"]
    ok["market_like"] = ok["n"] * ok["weight"]
    total_market = float(table[market.size].sum())
    out: dict[str, Sizing] = {}
    for group, rows in found.groupby("group", sort=False):
        mine = ok[ok["group"] == group]
        members_n = int(rows["n"].sum())
        matched = int(mine["n"].sum())
        like = float(mine["market_like"].sum())
        reasons = []
        share = like / total_market if total_market > 0 else None
        if share is not None and share < settings.min_market_share:
            reasons.append("market_share")
        if members_n < settings.min_customers:
            reasons.append("customers")
        top = mine.assign(headroom=mine["market_like"] - mine["n"]).sort_values(
            ["headroom", *keys], ascending=[False, *([True] * len(keys))]
        )
        out[str(group)] = Sizing(
            group=str(group),
            members=members_n,
            matched=matched,
            market=like,
            penetration=matched / like if like > 0 else None,
            headroom=like - matched,
            market_share=share,
            narrow=bool(reasons) and group != BASE,
            reasons=reasons if group != BASE else [],
            cells=[
                {
                    **{k: r[k] for k in keys},
                    "members": int(r["n"]),
                    "customers": int(r["customers"]),
                    "market": float(r[market.size]),
                    "market_like": float(r["market_like"]),
                    "penetration": float(r["customers"] / r[market.size]),
                }
                for _, r in top.head(5).iterrows()
            ],
        )
    return out
