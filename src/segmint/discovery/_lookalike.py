"""Lookalikes: rank prospects by how much they resemble a seed segment ("twins in the market").

A classifier (scikit-learn's ``HistGradientBoostingClassifier``) learns to tell the seed's
members from the other customers on the attributes the prospects share with them; its
probability is the similarity score.  Every customer is scored by a model that did not
see it (k-fold cross-fitting), so the holdout check is honest: the AUC of the scores of
held-out seed members against held-out other customers, and the share of seed members the
top decile finds.  Prospects outside the base (a market table) get the mean of the fold
models; with a count column (households, companies) a cell's expected number of twins is
its count times its score.

Market tables carry bands (``age_band``, ``size_band``) where customers carry numbers
(``age``, ``employees``): the customers' numbers are put into the table's bands first.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from segmint._threads import one_thread
from segmint.discovery._features import categories, model_frame
from segmint.exceptions import ConfigError

#: a band column of a market table, and the customer attribute it is cut from
BAND_SOURCES = {"age_band": "age", "size_band": "employees"}
NOT_FEATURES = {"customer_id", "_key", "_source", "_loaded_at", "_row"}
FOLDS = 3


@dataclass
class Lookalikes:
    """Prospects ranked by similarity to the seed, and the holdout check of the ranking."""

    ranking: pd.DataFrame
    check: dict[str, Any] = field(default_factory=dict)


def cut_bands(values: pd.Series, labels: Sequence[str]) -> pd.Series:
    """Numbers -> the band labels of a market table ("18-29", "30-44", "75+", "0-9")."""
    bounds: list[tuple[float, float, str]] = []
    for lab in labels:
        m = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+)|\+)\s*", str(lab))
        if m is None:
            raise ConfigError(f"band {lab!r} is not of the form 18-29 or 75+")
        lo = float(m.group(1))
        hi = float(m.group(2)) if m.group(2) else np.inf
        bounds.append((lo, hi, str(lab)))
    out = pd.Series(pd.NA, index=values.index, dtype="object")
    v = pd.to_numeric(values, errors="coerce")
    for lo, hi, lab in bounds:
        out[(v >= lo) & (v < hi + 1)] = lab
    return out


@one_thread
def lookalikes(
    customers: pd.DataFrame,
    seed_ids: Sequence[str],
    *,
    prospects: pd.DataFrame | None = None,
    key: Sequence[str] | None = None,
    features: Sequence[str] | None = None,
    count: str | None = None,
    seed: int = 0,
) -> Lookalikes:
    """Rank ``prospects`` (default: the customers outside the seed) by similarity to it.

    Parameters
    ----------
    customers
        One row per customer: ``customer_id`` and attributes/traits.
    seed_ids
        The seed segment's members.
    prospects
        A market or prospect table sharing attributes with ``customers``; None: the
        customers not in the seed.
    key
        The prospect table's key columns (kept in the ranking).
    features
        Attributes to compare on (default: every column the prospects share with the
        customers; without prospects, every customer column).
    count
        The prospect table's count column (households, companies): adds ``twins``.
    seed
        Random seed of the folds and the classifier.
    """
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold

    customers = customers.copy()
    if prospects is not None:
        for band, source in BAND_SOURCES.items():
            wanted = band in prospects.columns and band not in customers.columns
            if wanted and source in customers.columns:
                labels = sorted(prospects[band].dropna().astype(str).unique())
                customers[band] = cut_bands(customers[source], labels)
    skip = NOT_FEATURES | ({count} if count else set())
    if features is None:
        pool = customers.columns if prospects is None else prospects.columns
        features = [c for c in pool if c in customers.columns and c not in skip]
    missing = [f for f in features if f not in customers.columns]
    if prospects is not None:
        missing += [f for f in features if f not in prospects.columns]
    if missing or not features:
        raise ConfigError(
            "lookalike features must be columns of the customers and the prospects; "
            f"missing: {', '.join(sorted(set(missing))) or 'no shared columns'}"
        )
    y = customers["customer_id"].astype(str).isin({str(s) for s in seed_ids}).to_numpy()
    if y.sum() < 2 * FOLDS or (~y).sum() < 2 * FOLDS:
        raise ConfigError(
            f"a lookalike needs at least {2 * FOLDS} seed members and as many other "
            f"customers; the seed has {int(y.sum())} of {len(y)} customers"
        )
    cats = categories(customers, features)
    x = model_frame(customers, features, cats)
    folds = StratifiedKFold(FOLDS, shuffle=True, random_state=seed)
    score = np.zeros(len(x))
    models = []
    for train, test in folds.split(x, y):
        m = HistGradientBoostingClassifier(
            categorical_features="from_dtype", class_weight="balanced", random_state=seed
        ).fit(x.iloc[train], y[train])
        score[test] = m.predict_proba(x.iloc[test])[:, 1]
        models.append(m)
    order = np.argsort(-score, kind="stable")
    top = order[: max(1, len(order) // 10)]
    check = {
        "seed_members": int(y.sum()),
        "customers": len(y),
        "features": list(features),
        "folds": FOLDS,
        "auc": float(roc_auc_score(y, score)),
        "top_decile_recall": float(y[top].sum() / y.sum()),
        "top_decile_lift": float(y[top].mean() / y.mean()),
        "method": "HistGradientBoostingClassifier, seed vs other customers, cross-fitted",
    }
    if prospects is None:
        ranking = customers.loc[~y, ["customer_id"]].copy()
        ranking["score"] = score[~y]
        ranking = ranking.sort_values(["score", "customer_id"], ascending=[False, True])
    else:
        px = model_frame(prospects, features, cats)
        cols = [c for c in (*(key or ()), *features, *((count,) if count else ())) if c]
        ranking = prospects[list(dict.fromkeys(cols))].copy()
        ranking["score"] = np.mean([m.predict_proba(px)[:, 1] for m in models], axis=0)
        if count:
            ranking["twins"] = ranking[count].astype(float) * ranking["score"]
        ranking = ranking.sort_values(
            ["score", *(key or features)], ascending=[False, *([True] * len(key or features))]
        )
    ranking.insert(0, "rank", np.arange(1, len(ranking) + 1))
    return Lookalikes(ranking.reset_index(drop=True), check)
