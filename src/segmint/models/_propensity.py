"""Purchase propensity per category: who will buy what next, and the next best category.

For each category, a calibrated classifier (:class:`segmint.models.TraitClassifier`)
predicts whether a customer buys in it in ``[cut-off, cut-off + horizon)``, from the traits
as of the cut-off and the customer's spend and share per category
(:func:`segmint.traits.category_spend`).  A customer's category is a *cross-sell* when
they have never bought it, an *up-sell* when it has less than ``rare_share`` of their
spend, and otherwise a repeat purchase; the *next best category* is the cross- or
up-sell category they are most likely to buy.

The backtest compares the model with the popularity baseline (every customer gets each
category's share of buyers in the training window) on a later cut-off: AUC over all
(customer, category) pairs, and how often the customer's top category is one they buy.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa
from sklearn.metrics import roc_auc_score

from segmint.models._backtest import backtest_cutoffs, buyers_text, day_text, sample_positions
from segmint.models._card import ClassifierCard
from segmint.models._classifier import TraitClassifier
from segmint.models._features import active_customers, trait_frame
from segmint.traits import activity, category_spend
from segmint.traits._activity import resolve_as_of

if TYPE_CHECKING:
    from segmint.engine import Engine
    from segmint.traits import TraitsConfig

_NORDIC = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa", "ä": "ae", "ö": "oe", "ü": "ue"})


def category_slug(category: str) -> str:
    """A trait-name-safe form of a category: ``"Kaffe & kantine"`` -> ``"kaffe_kantine"``."""
    text = unicodedata.normalize("NFKD", category.lower().translate(_NORDIC))
    text = text.encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", text).strip("_") or "category"


def category_columns(categories: list[str]) -> dict[str, str]:
    """Category -> unique slug (a suffix ``_2``, ``_3`` ... tells clashing ones apart)."""
    out: dict[str, str] = {}
    seen: set[str] = set()
    for c in categories:
        slug, k = category_slug(c), 2
        base = slug
        while slug in seen:
            slug, k = f"{base}_{k}", k + 1
        seen.add(slug)
        out[c] = slug
    return out


def category_frame(
    engine: Engine, as_of: datetime | date, categories: list[str], index: pd.Index
) -> pd.DataFrame:
    """Spend and share of each category per customer as of ``as_of`` (0 when none)."""
    cs = category_spend(engine, as_of).to_pyarrow().to_pandas()
    cs = cs[cs["category"].isin(categories)]
    slugs = category_columns(categories)
    spend = cs.pivot_table(index="customer_id", columns="category", values="spend", aggfunc="sum")
    share = cs.pivot_table(index="customer_id", columns="category", values="share", aggfunc="sum")
    out = {}
    for c in categories:
        s = slugs[c]
        col = spend[c] if c in spend.columns else pd.Series(dtype=float)
        out[f"spend_in_{s}"] = col.reindex(index).fillna(0.0).to_numpy()
        col = share[c] if c in share.columns else pd.Series(dtype=float)
        out[f"share_of_{s}"] = col.reindex(index).fillna(0.0).to_numpy()
    return pd.DataFrame(out, index=index)


def category_labels(
    engine: Engine,
    cutoff: datetime | date,
    horizon_days: int,
    categories: list[str],
    index: pd.Index,
) -> pd.DataFrame:
    """1 where the customer buys in the category in ``[cutoff, cutoff + horizon)``."""
    cut = resolve_as_of(cutoff)
    t = activity(engine, "transactions", cut + timedelta(days=horizon_days))
    if t is None:
        raise ValueError("the store has no transactions: load some before fitting propensity")
    bought = (
        t.filter((t._time >= ibis.literal(cut)) & t.category.notnull())
        .select("customer_id", "category")
        .distinct()
        .to_pyarrow()
        .to_pandas()
    )
    bought = bought[bought["customer_id"].isin(index) & bought["category"].isin(categories)]
    hits = pd.crosstab(bought["customer_id"], bought["category"]).clip(upper=1)
    return hits.reindex(index=index, columns=categories).fillna(0).astype(int)


def propensity_frame(
    engine: Engine,
    traits_config: TraitsConfig | None,
    as_of: datetime | date,
    categories: list[str],
    active_within_days: int | None,
) -> pd.DataFrame:
    """Traits and category spend as of ``as_of`` of who ordered in ``active_within_days``."""
    population = active_customers(engine, as_of, active_within_days)
    if population is None:
        raise ValueError("the store has no transactions: load some before fitting propensity")
    X = trait_frame(engine, traits_config, as_of, population=population)
    return X.join(category_frame(engine, as_of, categories, X.index))


def _categories(engine: Engine, as_of: datetime, min_buyers: int) -> list[str]:
    t = activity(engine, "transactions", as_of)
    if t is None:
        raise ValueError("the store has no transactions: load some before fitting propensity")
    t = t.filter(t.category.notnull())
    counts = t.group_by("category").agg(buyers=t.customer_id.nunique()).to_pyarrow().to_pylist()
    return sorted(str(r["category"]) for r in counts if r["buyers"] >= min_buyers)


@dataclass(frozen=True)
class PropensityBacktest:
    """The propensity model and the popularity baseline on the test cut-off.

    Attributes
    ----------
    auc
        Per category: AUC of the model's probability among the test customers.
    pooled_auc, baseline_pooled_auc
        AUC over every (customer, category) pair: model vs popularity.
    top_hit_rate, baseline_top_hit_rate
        Share of customers who buy the category ranked first for them: model vs
        popularity (the same, most bought, category for everyone).
    customers
        Test customers.
    """

    auc: dict[str, float]
    pooled_auc: float
    baseline_pooled_auc: float
    top_hit_rate: float
    baseline_top_hit_rate: float
    customers: int

    def to_dict(self) -> dict[str, Any]:
        """As JSON-able data."""
        return {
            "auc": dict(self.auc),
            "pooled_auc": self.pooled_auc,
            "baseline_pooled_auc": self.baseline_pooled_auc,
            "top_hit_rate": self.top_hit_rate,
            "baseline_top_hit_rate": self.baseline_top_hit_rate,
            "customers": self.customers,
        }


@dataclass
class PropensityFit:
    """One calibrated classifier per category, with the backtest and the card.

    Attributes
    ----------
    models
        Category -> fitted classifier.
    categories
        The categories, in column order.
    popularity
        Category -> share of training customers who bought it in the window (the
        baseline).
    backtest
        Model vs baseline on the test cut-off.
    card
        The model card.
    horizon_days, active_within_days, rare_share
        The definitions the model was fitted with.
    """

    models: dict[str, TraitClassifier]
    categories: list[str]
    popularity: dict[str, float]
    backtest: PropensityBacktest
    card: ClassifierCard
    horizon_days: int
    active_within_days: int | None
    rare_share: float

    def predict_proba(self, X: pd.DataFrame) -> pd.DataFrame:
        """P(buys in the category within the horizon), one column per category."""
        return pd.DataFrame(
            {c: self.models[c].predict_proba(X)[:, 1] for c in self.categories}, index=X.index
        )

    def scores(
        self, engine: Engine, traits_config: TraitsConfig | None, as_of: datetime | date
    ) -> pa.Table:
        """Propensities and the next best category of the customers active at ``as_of``.

        Returns
        -------
        pyarrow.Table
            ``customer_id``; ``propensity_<category>`` per category (the category's name
            made trait-safe, see :func:`category_slug`); ``next_best_category``,
            ``next_best_probability`` and ``next_best_kind`` (``cross-sell`` or
            ``up-sell``; all null when every category is a repeat purchase).
        """
        X = propensity_frame(engine, traits_config, as_of, self.categories, self.active_within_days)
        return self.score_frame(X)

    def score_frame(self, X: pd.DataFrame) -> pa.Table:
        """:meth:`scores` of a frame from :func:`propensity_frame`."""
        proba = self.predict_proba(X)
        slugs = category_columns(self.categories)
        share = np.column_stack([X[f"share_of_{slugs[c]}"].to_numpy() for c in self.categories])
        spend = np.column_stack([X[f"spend_in_{slugs[c]}"].to_numpy() for c in self.categories])
        never = spend <= 0
        rare = ~never & (share < self.rare_share)
        eligible = np.where(never | rare, proba.to_numpy(), -1.0)
        pick = eligible.argmax(axis=1)
        rows = np.arange(len(X))
        has = eligible[rows, pick] >= 0
        names = np.array(self.categories, dtype=object)[pick]
        kind = np.where(never[rows, pick], "cross-sell", "up-sell").astype(object)
        cols: dict[str, pa.Array] = {"customer_id": pa.array(X.index.astype(str), pa.string())}
        for c in self.categories:
            cols[f"propensity_{slugs[c]}"] = pa.array(proba[c].to_numpy(), pa.float64())
        cols["next_best_category"] = pa.array(list(names), pa.string(), mask=~has)
        cols["next_best_probability"] = pa.array(
            np.where(has, eligible[rows, pick], np.nan), pa.float64(), from_pandas=True
        )
        cols["next_best_kind"] = pa.array(list(kind), pa.string(), mask=~has)
        return pa.table(cols)


def _pooled_auc(Y: pd.DataFrame, P: np.ndarray) -> float:
    return float(roc_auc_score(Y.to_numpy().ravel(), P.ravel()))


def _top_hit(Y: pd.DataFrame, P: np.ndarray) -> float:
    top = P.argmax(axis=1)
    return float(Y.to_numpy()[np.arange(len(Y)), top].mean())


def fit_propensity(
    engine: Engine,
    traits_config: TraitsConfig | None = None,
    *,
    train_cutoff: datetime | date,
    test_cutoff: datetime | date,
    horizon_days: int = 90,
    active_within_days: int | None = 365,
    rare_share: float = 0.1,
    min_buyers: int = 20,
    max_samples: int | None = None,
    model: TraitClassifier | None = None,
    random_state: int = 0,
) -> PropensityFit:
    """Fit one propensity model per category on one cut-off; backtest on a later one.

    Parameters
    ----------
    engine, traits_config
        The store and the project's traits.
    train_cutoff, test_cutoff
        Cut-offs of the fit and the backtest; the test cut-off must be at least
        ``horizon_days`` after the training one.
    horizon_days
        The purchase window after a cut-off.
    active_within_days
        Customers who ordered in this many days before the cut-off (None: ever).
    rare_share
        A category with less than this share of a customer's spend is an up-sell.
    min_buyers
        Categories bought by fewer customers before the training cut-off are left out.
    max_samples
        Fit on a random sample of at most this many training customers (None: all).
    model
        The classifier to clone per category (default ``TraitClassifier()``).
    random_state
        Seed of the sample.
    """
    from sklearn.base import clone

    if horizon_days < 1:
        raise ValueError(f"horizon_days must be at least 1, got {horizon_days}")
    t0, t1 = backtest_cutoffs(train_cutoff, test_cutoff, horizon_days)
    categories = _categories(engine, t0, min_buyers)
    if not categories:
        raise ValueError(f"no category has {min_buyers} buyers before {t0.date()}")
    X0 = propensity_frame(engine, traits_config, t0, categories, active_within_days)
    pick = sample_positions(len(X0), max_samples, random_state)
    if pick is not None:
        X0 = X0.iloc[pick]
    Y0 = category_labels(engine, t0, horizon_days, categories, X0.index)
    X1 = propensity_frame(engine, traits_config, t1, categories, active_within_days)
    Y1 = category_labels(engine, t1, horizon_days, categories, X1.index)
    template = model if model is not None else TraitClassifier()
    models = {c: clone(template).fit(X0, Y0[c].to_numpy()) for c in categories}
    popularity = {c: float(Y0[c].mean()) for c in categories}
    P1 = np.column_stack([models[c].predict_proba(X1)[:, 1] for c in categories])
    B1 = np.tile(np.array([popularity[c] for c in categories]), (len(X1), 1))
    auc = {
        c: float(roc_auc_score(Y1[c], P1[:, k])) if 0 < Y1[c].sum() < len(Y1) else float("nan")
        for k, c in enumerate(categories)
    }
    backtest = PropensityBacktest(
        auc=auc,
        pooled_auc=_pooled_auc(Y1, P1),
        baseline_pooled_auc=_pooled_auc(Y1, B1),
        top_hit_rate=_top_hit(Y1, P1),
        baseline_top_hit_rate=_top_hit(Y1, B1),
        customers=len(X1),
    )
    first = models[categories[0]]
    card = ClassifierCard(
        model=f"propensity: buys in the category within {horizon_days} days",
        data={
            "train_cutoff": day_text(t0),
            "test_cutoff": day_text(t1),
            "horizon_days": horizon_days,
            "population": buyers_text(active_within_days),
            "categories": categories,
            "train_customers": len(X0),
            "test_customers": len(X1),
            "rare_share": rare_share,
        },
        features=list(first.features_),
        parameters={"estimator": type(first).__name__, **first.get_params()},
        metrics={**backtest.to_dict(), "popularity": popularity},
    )
    return PropensityFit(
        models=models,
        categories=categories,
        popularity=popularity,
        backtest=backtest,
        card=card,
        horizon_days=horizon_days,
        active_within_days=active_within_days,
        rare_share=rare_share,
    )
