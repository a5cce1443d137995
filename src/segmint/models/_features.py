"""Model features: the trait engine's customer base as of a cut-off, as a model frame.

Every score model (churn, propensity) reads its features from
:func:`segmint.traits.customer_base` evaluated as of a cut-off date, so a feature can only
see rows before the cut-off: the trait engine's point-in-time rule is the leakage guard.
This module turns that base into a pandas frame a scikit-learn estimator takes:
identifying attributes (names, email, phone, address, ids) are dropped, dates become
days before the cut-off, booleans 0/1, numbers floats; text stays text (the classifier
encodes it as categories it learns in ``fit``).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

import pandas as pd

from segmint.traits import activity, customer_base
from segmint.traits._activity import resolve_as_of

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from segmint.engine import Engine
    from segmint.traits import TraitsConfig

#: Attributes that identify a person (or merely repeat another feature): never features.
IDENTIFYING: frozenset[str] = frozenset(
    {
        "customer_id",
        "first_name",
        "last_name",
        "company_name",
        "email",
        "phone",
        "address",
        "postal_code",
        "city",
        "household_id",
        "org_number",
        "personal_number",
        "birth_date",
        "signup_date",
        "owner",
    }
)


def active_customers(
    engine: Engine, as_of: datetime | date, within_days: int | None
) -> ir.Table | None:
    """Persons with an order in the ``within_days`` days before ``as_of`` (``customer_id``).

    ``None`` for ``within_days`` means everyone who ordered before ``as_of``; the result is
    None when the store has no transactions.
    """
    cut = resolve_as_of(as_of)
    t = activity(engine, "transactions", cut)
    if t is None:
        return None
    if within_days is not None:
        t = t.filter(t._time >= cut - timedelta(days=within_days))
    return t.select("customer_id").distinct()


def trait_frame(
    engine: Engine,
    traits_config: TraitsConfig | None,
    as_of: datetime | date,
    *,
    population: ir.Table | None = None,
) -> pd.DataFrame:
    """The customer base as of ``as_of`` as model features, indexed by ``customer_id``.

    Parameters
    ----------
    engine
        The store.
    traits_config
        Declared traits and windows (None: the built-in traits only).
    as_of
        The cut-off: only rows before it are read.
    population
        Keep only these persons (a table with ``customer_id``); None keeps everyone in
        the customer base.

    Returns
    -------
    pandas.DataFrame
        One row per person, sorted by ``customer_id``: numbers and booleans as floats,
        dates as days before ``as_of``, text as ``object`` columns, and ``recency_ratio``
        (days since the last order over the customer's mean days between orders: above 1
        means an order is overdue).
    """
    cut = resolve_as_of(as_of)
    base = customer_base(engine, traits_config, cut)
    if population is not None:
        base = base.semi_join(population, "customer_id")
    schema = base.schema()
    keep = [c for c in base.columns if c not in IDENTIFYING]
    df = base.select("customer_id", *keep).to_pyarrow().to_pandas()
    df = df.set_index("customer_id").sort_index()
    df.index = df.index.astype(str)
    out: dict[str, pd.Series] = {}
    for name in keep:
        dtype = schema[name]
        col = df[name]
        if dtype.is_temporal():
            stamps = pd.to_datetime(col)
            out[name] = (pd.Timestamp(cut) - stamps).dt.total_seconds() / 86_400.0
        elif dtype.is_string():
            out[name] = col.astype(object).where(col.notna(), None)
        else:
            out[name] = pd.to_numeric(col.astype(object), errors="coerce").astype(float)
    frame = pd.DataFrame(out, index=df.index)
    if {"recency_days", "mean_interpurchase_days"} <= set(frame.columns):
        gap = frame["mean_interpurchase_days"].where(frame["mean_interpurchase_days"] > 0)
        frame["recency_ratio"] = frame["recency_days"] / gap
    return frame
