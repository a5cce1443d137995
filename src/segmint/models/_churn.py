"""Churn: who is about to leave, how sure we are, and why.

Two definitions of leaving, both as of a cut-off date and a window of ``horizon_days``:

``"purchase"`` (non-contractual, a shop)
    Among customers who ordered in the ``active_within_days`` before the cut-off, a
    customer *churns* when they place no order in ``[cut-off, cut-off + horizon)``.
``"subscription"`` (contractual)
    Among customers with a subscription active at the cut-off (started before it, not
    ended by it: the trait ``subscription_active``), a customer *churns* when one of those
    subscriptions has its ``end_date`` in ``(cut-off, cut-off + horizon]``.

The windows tile time with the trait engine's: features read rows with a time before the
cut-off, so an order at the cut-off itself (a date is its midnight) is the first moment of
the future, and the next cut-off ``cut-off + horizon`` sees it as past.  Features are the
trait engine's customer base as of the cut-off (:func:`segmint.models.trait_frame`);
nothing at or after the cut-off reaches them.  The model is a calibrated gradient-boosting
classifier (:class:`segmint.models.TraitClassifier`) fitted on one cut-off and backtested
on a later one whose window does not overlap the training window.  For the probability
that a customer is still "alive" in the BG/NBD sense, see the CLV models.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa

from segmint.models._backtest import (
    Backtest,
    backtest_cutoffs,
    buyers_text,
    day_text,
    evaluate,
    sample_positions,
)
from segmint.models._card import ClassifierCard
from segmint.models._classifier import TraitClassifier
from segmint.models._drivers import (
    Driver,
    driver_contributions,
    driver_importance,
    reference_values,
    top_reasons,
)
from segmint.models._features import active_customers, trait_frame
from segmint.traits import activity
from segmint.traits._activity import resolve_as_of

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from segmint.engine import Engine
    from segmint.traits import TraitsConfig

ChurnKind = Literal["purchase", "subscription"]


def _check(kind: str, horizon_days: int) -> None:
    if kind not in ("purchase", "subscription"):
        raise ValueError(f"kind must be 'purchase' or 'subscription', not {kind!r}")
    if horizon_days < 1:
        raise ValueError(f"horizon_days must be at least 1, got {horizon_days}")


def churn_population(
    engine: Engine,
    as_of: datetime | date,
    *,
    kind: ChurnKind = "purchase",
    active_within_days: int | None = 365,
) -> ir.Table:
    """The customers a churn model is about at ``as_of`` (``customer_id``).

    ``"purchase"``: who ordered in the ``active_within_days`` before ``as_of`` (None:
    ever); ``"subscription"``: who has a subscription active at ``as_of``.

    Raises
    ------
    ValueError
        When the store has no transactions (or subscriptions) to define churn on.
    """
    cut = resolve_as_of(as_of)
    if kind == "purchase":
        found = active_customers(engine, cut, active_within_days)
        if found is None:
            raise ValueError("the store has no transactions: load some before fitting churn")
        return found
    s = activity(engine, "subscriptions", cut)
    if s is None:
        raise ValueError(
            "the store has no subscriptions: load some, or use kind='purchase' for shops"
        )
    end = s.end_date.cast("timestamp")
    active = s.filter(end.isnull() | (end > ibis.literal(cut)))
    return active.select("customer_id").distinct()


def churn_labels(
    engine: Engine,
    cutoff: datetime | date,
    horizon_days: int = 90,
    *,
    kind: ChurnKind = "purchase",
    active_within_days: int | None = 365,
) -> ir.Table:
    """Who churned in the window after ``cutoff``: ``(customer_id, churned)``.

    Parameters
    ----------
    engine
        The store.
    cutoff
        The cut-off (a date means its midnight).
    horizon_days
        Length of the window after the cut-off.
    kind
        ``"purchase"``: no order in ``[cutoff, cutoff + horizon)``; ``"subscription"``:
        a subscription active at the cut-off ends in ``(cutoff, cutoff + horizon]``.
    active_within_days
        ``"purchase"`` only: the population is who ordered in this many days before the
        cut-off (None: ever).

    Returns
    -------
    ibis.Table
        One row per customer of :func:`churn_population`, ``churned`` boolean.
    """
    _check(kind, horizon_days)
    cut = resolve_as_of(cutoff)
    end = cut + timedelta(days=horizon_days)
    population = churn_population(engine, cut, kind=kind, active_within_days=active_within_days)
    if kind == "purchase":
        t = activity(engine, "transactions", end)
        assert t is not None  # churn_population checked it
        stayed = t.filter(t._time >= ibis.literal(cut)).select("customer_id").distinct()
    else:
        s = activity(engine, "subscriptions", cut)
        assert s is not None
        stop = s.end_date.cast("timestamp")
        ended = s.filter((stop > ibis.literal(cut)) & (stop <= ibis.literal(end)))
        # "stayed" here means: has a cancellation; inverted below
        stayed = ended.select("customer_id").distinct()
    flagged = stayed.mutate(_hit=ibis.literal(True))
    joined = population.left_join(flagged, "customer_id")
    hit = joined._hit.notnull()
    churned = ~hit if kind == "purchase" else hit
    return joined.select(customer_id=population.customer_id, churned=churned)


def churn_frame(
    engine: Engine,
    traits_config: TraitsConfig | None,
    cutoff: datetime | date,
    horizon_days: int = 90,
    *,
    kind: ChurnKind = "purchase",
    active_within_days: int | None = 365,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Features as of ``cutoff`` and churn labels of the window after it.

    Returns
    -------
    (pandas.DataFrame, numpy.ndarray)
        The trait frame of the population (sorted by ``customer_id``) and 1/0 churned.
    """
    labels = churn_labels(
        engine, cutoff, horizon_days, kind=kind, active_within_days=active_within_days
    )
    y = labels.to_pyarrow().to_pandas().set_index("customer_id")["churned"]
    X = trait_frame(engine, traits_config, cutoff, population=labels.select("customer_id"))
    return X, y.reindex(X.index).fillna(False).astype(int).to_numpy()


@dataclass
class ChurnFit:
    """A fitted churn model with its backtest, drivers and card.

    Attributes
    ----------
    model
        The calibrated classifier (fitted on the training cut-off).
    backtest
        Its metrics on the test cut-off.
    drivers
        Global importance of each driver on the test cut-off, most important first.
    reference
        Each trait as a retained customer (training, no churn) has it: the baseline of
        the per-customer reasons.
    card
        The model card.
    kind, horizon_days, active_within_days
        The churn definition.
    """

    model: TraitClassifier
    backtest: Backtest
    drivers: list[Driver]
    reference: dict[str, Any]
    card: ClassifierCard
    kind: ChurnKind
    horizon_days: int
    active_within_days: int | None

    def scores(
        self,
        engine: Engine,
        traits_config: TraitsConfig | None,
        as_of: datetime | date,
        *,
        reasons: int = 3,
        n_drivers: int = 8,
        min_effect: float = 0.01,
    ) -> pa.Table:
        """Churn probability and top reasons of every customer in the population at ``as_of``.

        Parameters
        ----------
        engine, traits_config
            The store and the traits the model was fitted with.
        as_of
            When to score (features read rows before it).
        reasons
            At most this many reasons per customer (0: no reasons column work).
        n_drivers
            Reasons are drawn from this many most important drivers (each costs one
            prediction over all customers).
        min_effect
            A driver is a reason when it raises the risk by at least this much.

        Returns
        -------
        pyarrow.Table
            ``customer_id``, ``churn_probability`` and ``churn_reasons`` (text, "; "
            between reasons; empty when nothing raises the risk), sorted by customer_id.
        """
        population = churn_population(
            engine, as_of, kind=self.kind, active_within_days=self.active_within_days
        )
        X = trait_frame(engine, traits_config, as_of, population=population)
        return self.score_frame(X, reasons=reasons, n_drivers=n_drivers, min_effect=min_effect)

    def score_frame(
        self,
        X: pd.DataFrame,
        *,
        reasons: int = 3,
        n_drivers: int = 8,
        min_effect: float = 0.01,
    ) -> pa.Table:
        """:meth:`scores` of a trait frame already at hand."""
        risk = self.model.predict_proba(X)[:, 1]
        words: list[str] = [""] * len(X)
        if reasons > 0 and len(X):
            picked = [d for d in self.drivers if d.importance > 0][:n_drivers]
            parts = driver_contributions(self.model, X, self.reference, picked)
            words = top_reasons(
                X, parts, picked, self.reference, top=reasons, min_effect=min_effect
            )
        return pa.table(
            {
                "customer_id": pa.array(X.index.astype(str), pa.string()),
                "churn_probability": pa.array(risk, pa.float64()),
                "churn_reasons": pa.array(words, pa.string()),
            }
        )


def fit_churn(
    engine: Engine,
    traits_config: TraitsConfig | None = None,
    *,
    train_cutoff: datetime | date,
    test_cutoff: datetime | date,
    horizon_days: int = 90,
    kind: ChurnKind = "purchase",
    active_within_days: int | None = 365,
    max_samples: int | None = None,
    model: TraitClassifier | None = None,
    random_state: int = 0,
) -> ChurnFit:
    """Fit a churn model on one cut-off and backtest it on a later one.

    Parameters
    ----------
    engine, traits_config
        The store and the project's traits.
    train_cutoff
        Features as of this date, labels from the window after it.
    test_cutoff
        The backtest's cut-off: at least ``horizon_days`` after ``train_cutoff``, so that
        no outcome the model learned from lies in the window it is judged on.
    horizon_days, kind, active_within_days
        The churn definition (see :func:`churn_labels`).
    max_samples
        Fit on a random sample of at most this many training customers (None: all).
    model
        The classifier to fit (default: ``TraitClassifier()``).
    random_state
        Seed of the sample and of the permutation importance.

    Returns
    -------
    ChurnFit
    """
    _check(kind, horizon_days)
    t0, t1 = backtest_cutoffs(train_cutoff, test_cutoff, horizon_days)
    args: dict[str, Any] = {"kind": kind, "active_within_days": active_within_days}
    X0, y0 = churn_frame(engine, traits_config, t0, horizon_days, **args)
    pick = sample_positions(len(X0), max_samples, random_state)
    if pick is not None:
        X0, y0 = X0.iloc[pick], y0[pick]
    X1, y1 = churn_frame(engine, traits_config, t1, horizon_days, **args)
    clf = model if model is not None else TraitClassifier()
    clf.fit(X0, y0)
    risk = clf.predict_proba(X1)[:, 1]
    backtest = evaluate(y1, risk)
    drivers = driver_importance(clf, X1, y1, random_state=random_state)
    reference = reference_values(X0, y0 == 0)
    definition = (
        f"no purchase in {horizon_days} days"
        if kind == "purchase"
        else f"a subscription ends within {horizon_days} days"
    )
    population = (
        "customers with a subscription active at the cut-off"
        if kind == "subscription"
        else buyers_text(active_within_days)
    )
    card = ClassifierCard(
        model=f"churn: {definition}",
        data={
            "train_cutoff": day_text(t0),
            "test_cutoff": day_text(t1),
            "horizon_days": horizon_days,
            "kind": kind,
            "population": population,
            "train_customers": len(X0),
            "train_events": int(y0.sum()),
            "test_customers": len(X1),
            "test_events": int(y1.sum()),
        },
        features=list(clf.features_),
        parameters={"estimator": type(clf).__name__, **clf.get_params()},
        metrics=backtest.to_dict(),
        drivers=[{"driver": d.name, "importance": d.importance, "std": d.std} for d in drivers],
    )
    return ChurnFit(
        model=clf,
        backtest=backtest,
        drivers=drivers,
        reference=reference,
        card=card,
        kind=kind,
        horizon_days=horizon_days,
        active_within_days=active_within_days,
    )
