"""Drivers of a score: global importance, and each customer's top reasons in plain words.

A *driver* is a trait family: the windows of one count are one driver
(``email_opens_30d``, ``email_opens_90d`` and ``email_opens_365d`` are "email opens"),
because a marketer acts on "email engagement", not on one window of it, and because
correlated windows would otherwise share (and hide) their importance.

Global importance is permutation importance on the backtest: the drop in ROC AUC when a
driver's columns are shuffled together across customers.  scikit-learn's
``permutation_importance`` shuffles one column at a time, so the grouped shuffle is done
here (a loop over drivers around ``roc_auc_score``).

Per-customer reasons use the change in predicted risk when the customer's driver is set
to a *reference*: the median (or, for text, the most common value) among customers who
stayed.  ``risk(customer) - risk(customer with that driver as a retained customer has it)``
answers the question a marketer asks ("how much of this customer's risk comes from not
opening emails?") in the model's own probability units, needs no further library, works
with any fitted classifier, and costs one prediction per driver.  SHAP values would also
split the risk, but against an average customer rather than a retained one, need the
``shap`` package (TreeSHAP does not read scikit-learn's histogram boosting), and are
harder to put into words.  The one-at-a-time change ignores interactions between
drivers: the parts need not add up to the whole risk.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

_WINDOW = re.compile(r"^(?P<family>.+)_(?P<n>\d+)(?P<unit>[dw])$")

#: How a driver is named in a reason.
_LABELS: dict[str, str] = {
    "orders": "orders",
    "spend": "spend",
    "email_sends": "emails received",
    "email_opens": "email opens",
    "email_clicks": "email clicks",
    "web_visits": "web visits",
    "service_tickets": "service tickets",
    "deals_won": "deals won",
    "deals_lost": "deals lost",
    "open_rate": "email open rate",
    "nps_last": "NPS",
    "top_channel": "buys mostly via",
    "top_category": "buys mostly",
    "top_device": "mostly on",
    "top_source": "comes mostly from",
    "distinct_categories": "categories bought",
    "distinct_channels": "channels ordered in",
    "avg_order_value": "average order",
    "subscription_monthly_amount": "subscription per month",
    "spend_share_top_category": "share of spend in the top category",
    "mean_interpurchase_days": "days between orders on average",
}


class Scorer(Protocol):
    """What the drivers need of a model: probabilities for a trait frame."""

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray: ...


@dataclass(frozen=True)
class Driver:
    """A trait family and its global importance.

    Attributes
    ----------
    name
        The family (``email_opens``) or the trait itself (``recency_days``).
    columns
        The trait columns it stands for.
    importance
        Mean drop in ROC AUC on the backtest when the driver is shuffled.
    std
        Standard deviation of that drop over the repeats.
    """

    name: str
    columns: tuple[str, ...]
    importance: float
    std: float


def _days(column: str) -> int | None:
    m = _WINDOW.match(column)
    if not m:
        return None
    return int(m["n"]) * (7 if m["unit"] == "w" else 1)


def driver_groups(columns: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """Trait columns grouped into drivers: the windows of one count form one driver."""
    out: dict[str, list[str]] = {}
    for c in columns:
        m = _WINDOW.match(c)
        out.setdefault(m["family"] if m else c, []).append(c)
    return {k: tuple(v) for k, v in out.items()}


def driver_importance(
    model: Scorer,
    X: pd.DataFrame,
    y: Any,
    *,
    columns: Sequence[str] | None = None,
    n_repeats: int = 3,
    max_samples: int | None = 20_000,
    random_state: int = 0,
) -> list[Driver]:
    """Permutation importance of each driver (drop in ROC AUC), most important first.

    Parameters
    ----------
    model
        A fitted classifier with ``predict_proba``.
    X, y
        The backtest customers and their outcomes.
    columns
        The columns to group into drivers (default: every column of ``X``).
    n_repeats
        Shuffles per driver.
    max_samples
        Customers used (a random sample when ``X`` has more); None uses all.
    random_state
        Seed of the sample and the shuffles.
    """
    rng = np.random.default_rng(random_state)
    target = np.asarray(y).astype(int)
    if max_samples is not None and len(X) > max_samples:
        pick = np.sort(rng.choice(len(X), max_samples, replace=False))
        X, target = X.iloc[pick], target[pick]
    X = X.reset_index(drop=True)
    baseline = roc_auc_score(target, model.predict_proba(X)[:, 1])
    out = []
    for name, cols in driver_groups(list(columns or X.columns)).items():
        drops = []
        for _ in range(n_repeats):
            shuffled = X.copy()
            order = rng.permutation(len(X))
            shuffled[list(cols)] = X[list(cols)].iloc[order].to_numpy()
            drops.append(baseline - roc_auc_score(target, model.predict_proba(shuffled)[:, 1]))
        out.append(Driver(name, cols, float(np.mean(drops)), float(np.std(drops))))
    return sorted(out, key=lambda d: (-d.importance, d.name))


def reference_values(X: pd.DataFrame, retained: Any) -> dict[str, Any]:
    """Each trait as a retained customer has it: median of numbers, commonest text value.

    Parameters
    ----------
    X
        Trait frame of the training customers.
    retained
        Boolean mask of the customers without the event (who stayed).
    """
    keep = X[np.asarray(retained, dtype=bool)]
    out: dict[str, Any] = {}
    for c in X.columns:
        col = keep[c].dropna()
        if col.empty:
            out[c] = None
        elif pd.api.types.is_numeric_dtype(col.dtype):
            out[c] = float(col.median())
        else:
            out[c] = str(col.astype(str).value_counts().index[0])
    return out


def driver_contributions(
    model: Scorer,
    X: pd.DataFrame,
    reference: dict[str, Any],
    drivers: Sequence[Driver],
) -> pd.DataFrame:
    """Risk minus the risk with the driver set to the reference, per customer and driver."""
    risk = model.predict_proba(X)[:, 1]
    out = {}
    for d in drivers:
        moved = X.copy()
        for c in d.columns:
            ref = reference.get(c)
            moved[c] = np.nan if ref is None and moved[c].dtype != object else ref
        out[d.name] = risk - model.predict_proba(moved)[:, 1]
    return pd.DataFrame(out, index=X.index)


def _num(v: float) -> str:
    if abs(v) >= 100 or float(v).is_integer():
        return f"{v:,.0f}"
    return f"{v:.1f}"


def _missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and np.isnan(v))


class _Row(Mapping[str, Any]):
    """One customer's traits, read from column arrays (no per-row pandas object)."""

    def __init__(self, columns: dict[str, np.ndarray], i: int) -> None:
        self._columns, self._i = columns, i

    def __getitem__(self, key: str) -> Any:
        return self._columns[key][self._i]

    def __iter__(self) -> Any:
        return iter(self._columns)

    def __len__(self) -> int:
        return len(self._columns)


def describe(driver: Driver, row: Mapping[str, Any], reference: dict[str, Any]) -> str:
    """One driver of one customer in plain words, e.g. "email opens fell from 6 to 0"."""
    name = driver.name
    label = _LABELS.get(name, name.replace("_", " "))
    windowed = sorted((d, c) for c in driver.columns if (d := _days(c)) is not None)
    if len(windowed) >= 2:
        (short, sc), (long, lc) = windowed[0], windowed[-1]
        now, total = row[sc], row[lc]
        if not (_missing(now) or _missing(total)):
            before = (total - now) * short / (long - short)
            if round(before, 1) != round(now, 1):
                verb = "fell" if before > now else "rose"
                return f"{label} {verb} from {_num(before)} to {_num(now)} per {short} days"
            ref_short: Any = reference.get(sc)
            tail = "" if _missing(ref_short) else f" (retained customers: {_num(ref_short)})"
            return f"{label}: {_num(now)} in the last {short} days{tail}"
    column = driver.columns[0]
    v: Any = row[column]
    ref: Any = reference.get(column)
    if name in ("recency_days", "last_purchase"):
        return "no purchase yet" if _missing(v) else f"no purchase in {_num(v)} days"
    if name == "recency_ratio":
        if _missing(v):
            return "too few orders to know the usual gap between them"
        return f"{_num(v)} times the usual gap between orders since the last order"
    if name.startswith("consent_"):
        channel = name.removeprefix("consent_").replace("_", " ")
        if _missing(v):
            return f"never asked for {channel} consent"
        return f"{'gave' if v else 'no'} {channel} consent"
    if name == "subscription_active":
        return "has an active subscription" if v else "no active subscription"
    if _missing(v):
        return f"no {label}"
    shown = ref if isinstance(ref, str) or _missing(ref) else _num(float(ref))
    tail = "" if _missing(ref) else f" (retained customers: {shown})"
    if isinstance(v, str):
        return f"{label} {v}{tail}" if name.startswith("top_") else f"{label}: {v}{tail}"
    return f"{label} {_num(float(v))}{tail}"


def top_reasons(
    X: pd.DataFrame,
    contributions: pd.DataFrame,
    drivers: Sequence[Driver],
    reference: dict[str, Any],
    *,
    top: int = 3,
    min_effect: float = 0.01,
) -> list[str]:
    """Each customer's drivers that raise their risk most, in words, joined with "; ".

    Parameters
    ----------
    X
        The customers' traits.
    contributions
        :func:`driver_contributions` of the same customers.
    drivers
        The drivers ``contributions`` has columns for.
    reference
        :func:`reference_values`.
    top
        At most this many reasons per customer.
    min_effect
        Only drivers that raise the risk by at least this much (a probability) count.
    """
    by_name = {d.name: d for d in drivers}
    values = contributions.to_numpy()
    names = list(contributions.columns)
    order = np.argsort(-values, axis=1, kind="stable")[:, :top]
    needed = {c for d in drivers for c in d.columns}
    columns = {c: X[c].to_numpy() for c in X.columns if c in needed}
    out = []
    for i, picks in enumerate(order):
        row = _Row(columns, i)
        words = [
            describe(by_name[names[j]], row, reference) for j in picks if values[i, j] >= min_effect
        ]
        out.append("; ".join(words))
    return out
