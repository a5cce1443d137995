"""Share of wallet: each customer's own spend over an estimate of their category wallet.

The *wallet* is what a household (or company) spends in a year on the categories the
business sells, with it or elsewhere.  It is estimated from two sources, as the seeds ask:

* a **market table** (an external table such as a statistics office's household spending
  by region and age band, or firmographic spending by industry and size band): the mean
  yearly wallet per household of the customer's cell, summed over the table's categories;
* **survey answers**: a respondent's stated yearly spend on the categories.

Method, per customer at ``as_of``:

1. ``spend`` = the customer's order amounts in the ``window_days`` before ``as_of``.
2. The customer's cell: the market table's key columns matched to the customer's traits.
   A key whose values are numeric ranges ("18-29", "75+", "10-49") matches a numeric trait
   (``age``, ``employees``) by range; other keys match by equal value.
3. ``wallet`` = the stated answer for respondents (their latest answer before
   ``as_of``); for everybody else the cell's market wallet times a calibration factor
   ``k = sum(stated) / sum(market wallet)`` over the respondents (a ratio estimator that
   corrects the market table's level to this customer base; ``k = 1`` with fewer than
   ``min_respondents`` answers or without a survey column).  Where the customer spent
   more than that, the wallet is raised to the spend (nobody spends more than their
   wallet).  A customer outside every cell (no age, a region the table lacks) gets the
   mean of the cells, calibrated the same way.
4. ``share_of_wallet`` = spend / wallet (0 to 1); ``wallet_headroom`` = wallet - spend,
   the business still to win; ``wallet_source`` says which source gave the wallet
   ("survey", "market", "market (calibrated)", "market average").

The card reports the validation: on the respondents, how far the market estimate (what
the non-respondents get) is from the stated wallets (median absolute relative error and
the rank correlation).  Written here because no maintained library estimates a share of
wallet; the computation is a few grouped joins in the engine.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
import pyarrow as pa
from scipy.stats import spearmanr

from segmint.engine import Engine
from segmint.exceptions import ConfigError
from segmint.models._card import ClassifierCard
from segmint.traits._activity import activity

#: the traits this estimate adds
WALLET_SCORES = ("wallet", "share_of_wallet", "wallet_headroom", "wallet_source")
WALLET_MODEL = "share of wallet: spend in the window over the estimated category wallet"
_RANGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(?:-\s*(\d+(?:\.\d+)?)|\+)\s*$")


@dataclass(frozen=True)
class WalletResult:
    """Per-customer wallet scores and the card that records how they were made."""

    scores: pa.Table  # customer_id + WALLET_SCORES
    card: ClassifierCard


def parse_range(label: str) -> tuple[float, float] | None:
    """``"18-29"`` -> (18, 30): the half-open range of whole numbers; ``"75+"`` -> (75, inf).

    None when the label is not a range.
    """
    m = _RANGE.match(label)
    if m is None:
        return None
    lo = float(m.group(1))
    if m.group(2) is None:
        return lo, float("inf")
    return lo, float(m.group(2)) + 1.0


def _cells(market: pd.DataFrame, keys: dict[str, str], value: str) -> pd.DataFrame:
    """The market table summed over everything that is not a key: one wallet per cell."""
    missing = [c for c in [*keys, value] if c not in market.columns]
    if missing:
        raise ConfigError(
            f"models.wallet: the market table has no column {', '.join(map(repr, missing))}; "
            f"it has {', '.join(market.columns)}"
        )
    return market.groupby(list(keys), as_index=False, dropna=False).agg(
        _market_wallet=(value, "sum")
    )


def _key_expr(base: ir.Table, column: str, trait: str, labels: list[str]) -> ir.Value:
    """The customer's value of one market key: a range label for numeric traits."""
    if trait not in base.columns:
        raise ConfigError(
            f"models.wallet.keys: {column!r} maps to the trait {trait!r}, which customers "
            "do not have"
        )
    t = base[trait]
    ranges = {lab: parse_range(lab) for lab in labels}
    if t.type().is_numeric() and ranges and all(r is not None for r in ranges.values()):
        cases = []
        for lab, rng in ranges.items():
            assert rng is not None
            lo, hi = rng
            cond = t >= lo if hi == float("inf") else (t >= lo) & (t < hi)
            cases.append((cond, ibis.literal(lab)))
        return ibis.cases(*cases, else_=ibis.null().cast("string"))
    return t.cast("string")


def wallet_scores(
    engine: Engine,
    base: ir.Table,
    as_of: datetime,
    *,
    table: str = "market_wallet",
    value: str = "wallet",
    keys: dict[str, str] | None = None,
    survey_column: str | None = None,
    window_days: int = 365,
    min_respondents: int = 30,
) -> WalletResult:
    """Share of wallet of every customer of ``base`` at ``as_of`` (see the module doc).

    Parameters
    ----------
    engine
        The store: the market table, transactions and survey_responses.
    base
        The customers with the traits the keys map to (``customer_id`` plus e.g. region
        and age).
    table, value, keys
        The market table, its wallet column and ``{market column: customer trait}``.
    survey_column
        The survey answer with the stated yearly wallet (None: market table only).
    window_days, min_respondents
        The spend window, and how many answers it takes to calibrate the market table.
    """
    keys = keys or {"region": "region", "age_band": "age"}
    if not engine.has_table(table):
        raise ConfigError(
            f"models.wallet: the store has no table {table!r}; load the market table first "
            f"(segmint load {table} FILE --key {','.join(keys)})"
        )
    market = engine.table(table).to_pyarrow().to_pandas()
    cells = _cells(market, keys, value)
    for c in keys:
        cells[c] = cells[c].astype("string")
    customers = base.select(
        "customer_id",
        **{
            f"_k_{i}": _key_expr(base, col, trait, sorted(cells[col].dropna().unique()))
            for i, (col, trait) in enumerate(keys.items())
        },
    )
    cell_table = ibis.memtable(
        cells.rename(columns={c: f"_k_{i}" for i, c in enumerate(keys)}).astype(
            {f"_k_{i}": object for i in range(len(keys))}
        )
    )
    located = customers.left_join(
        cell_table, [customers[f"_k_{i}"] == cell_table[f"_k_{i}"] for i in range(len(keys))]
    ).select("customer_id", "_market_wallet")
    start = as_of - timedelta(days=window_days)
    orders = activity(engine, "transactions", as_of)
    if orders is None:
        raise ConfigError("models.wallet: the store has no transactions")
    spend = (
        orders.filter(orders._time >= start)
        .group_by(pid=orders.customer_id)
        .aggregate(spend=orders.amount.sum())
    )
    frame = located.left_join(spend, located.customer_id == spend.pid).select(
        "customer_id", "_market_wallet", spend=ibis.coalesce(spend.spend, 0.0)
    )
    stated = _stated(engine, as_of, survey_column)
    if stated is not None:
        frame = frame.left_join(stated, frame.customer_id == stated.sid).select(
            "customer_id", "_market_wallet", "spend", "stated"
        )
    df = frame.to_pyarrow().to_pandas().sort_values("customer_id", ignore_index=True)
    if "stated" not in df.columns:
        df["stated"] = np.nan
    cells_mean = float(cells["_market_wallet"].mean())
    return _estimate(
        df, cells_mean, as_of, table, value, keys, survey_column, window_days, min_respondents
    )


def _stated(engine: Engine, as_of: datetime, column: str | None) -> ir.Table | None:
    """Each respondent's latest stated wallet before ``as_of``, as ``(sid, stated)``."""
    if column is None:
        return None
    answers = activity(engine, "survey_responses", as_of)
    if answers is None:
        return None
    if column not in answers.columns:
        raise ConfigError(f"models.wallet.survey_column: survey_responses has no column {column!r}")
    valued = answers.filter(answers[column].notnull()).select(
        sid=answers.customer_id, t=answers._time, v=answers[column].cast("float64")
    )
    w = ibis.window(group_by=valued.sid, order_by=[ibis.desc(valued.t), ibis.desc(valued.v)])
    ranked = valued.mutate(_n=ibis.row_number().over(w))
    return ranked.filter(ranked._n == 0).select("sid", stated=ranked.v)


def _estimate(
    df: pd.DataFrame,
    cells_mean: float,
    as_of: datetime,
    table: str,
    value: str,
    keys: dict[str, str],
    survey_column: str | None,
    window_days: int,
    min_respondents: int,
) -> WalletResult:
    in_cell = df["_market_wallet"].notna()
    market = df["_market_wallet"].astype(float).fillna(cells_mean)
    stated = df["stated"].astype(float)
    both = in_cell & stated.notna() & (market > 0)
    n_resp = int(stated.notna().sum())
    calibrated = int(both.sum()) >= min_respondents
    k = float(stated[both].sum() / market[both].sum()) if calibrated else 1.0
    estimate = market * k
    wallet = stated.where(stated.notna(), estimate)
    spend = df["spend"].astype(float)
    wallet = wallet.where(wallet >= spend, spend)
    market_word = "market (calibrated)" if calibrated else "market"
    source = pd.Series(
        np.where(stated.notna(), "survey", np.where(in_cell, market_word, "market average")),
        dtype=object,
    )
    share = (spend / wallet).where(wallet > 0, 0.0)
    scores = pa.table(
        {
            "customer_id": pa.array(df["customer_id"], pa.string()),
            "wallet": pa.array(wallet, pa.float64(), from_pandas=True),
            "share_of_wallet": pa.array(share, pa.float64(), from_pandas=True),
            "wallet_headroom": pa.array(wallet - spend, pa.float64(), from_pandas=True),
            "wallet_source": pa.array(source, pa.string(), from_pandas=True),
        }
    )
    metrics: dict[str, object] = {
        "customers": len(df),
        "without_cell": int((~in_cell).sum()),
        "respondents": n_resp,
        "mean_share_of_wallet": float(share.mean()) if share.notna().any() else None,
        "spend_above_estimate": int((spend > estimate).sum()),
    }
    if int(both.sum()) >= 2:
        rel = (estimate[both] - stated[both]).abs() / stated[both]
        rho = spearmanr(estimate[both], stated[both]).statistic
        metrics["market_vs_stated"] = {
            "respondents": int(both.sum()),
            "median_abs_relative_error": float(rel.median()),
            "spearman": float(rho),
        }
    card = ClassifierCard(
        model=WALLET_MODEL,
        data={
            "as_of": as_of.isoformat(),
            "spend_window_days": window_days,
            "market_table": table,
            "market_value": value,
            "survey_column": survey_column,
        },
        features=list(keys.values()),
        parameters={
            "keys": keys,
            "calibration_factor": k,
            "calibrated": calibrated,
            "min_respondents": min_respondents,
        },
        metrics=metrics,
    )
    return WalletResult(scores, card)
