"""CLV scores for every customer as of a run's date, to join the customer base as traits.

A run fits the purchase model (BG/NBD or Pareto/NBD) and Gamma-Gamma on the orders before
its ``as_of`` with :func:`fit_clv` (so every fit has its holdout validation and model
cards), then applies the fitted models to each customer's whole history up to ``as_of``:

``p_alive``
    probability that the customer is still a customer (has not silently left);
``expected_orders``
    expected purchases in the next ``months`` months;
``days_to_next_order``
    median days from ``as_of`` to the customer's next purchase if they are still active
    (the expected next-order date is ``as_of`` plus this);
``expected_order_value``
    expected value of one future purchase (Gamma-Gamma, shrunk towards the population
    mean for customers with few purchases);
``clv``
    the discounted value of the next ``months`` months (monthly ``discount_rate``).

Customers without a purchase before ``as_of`` get no scores (null).  Scores are computed
in NumPy from one summary row per customer fetched from the engine.
"""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from segmint.models._card import ModelCard
from segmint.models._clv import fit_clv
from segmint.models._summary import DAYS_PER_UNIT, customer_summary, purchases, window_for
from segmint.models._value import DAYS_PER_MONTH, customer_lifetime_value

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from segmint.config import ClvSettings

#: score column -> its meaning (docs/models.md lists them)
CLV_SCORES: dict[str, str] = {
    "p_alive": "Probability the customer is still active (BG/NBD or Pareto/NBD)",
    "expected_orders": "Expected purchases in the next models.clv.months months",
    "days_to_next_order": "Median days to the next purchase if still active",
    "expected_order_value": "Expected value of one future purchase (Gamma-Gamma)",
    "clv": "Discounted value of the next models.clv.months months",
}
SCORE_SCHEMA = pa.schema(
    [("customer_id", pa.string())] + [(name, pa.float64()) for name in CLV_SCORES]
)


def clv_scores(
    orders: ir.Table, as_of: datetime, settings: ClvSettings
) -> tuple[pa.Table, list[ModelCard]]:
    """Fit the CLV models on ``orders`` before ``as_of`` and score every buyer.

    Parameters
    ----------
    orders
        The transactions activity table (``customer_id`` the person id, ``_time``,
        ``amount``, ``order_id``), already cut at ``as_of``.
    as_of
        The run's evaluation time; the last day of data is the day before it.
    settings
        Model, time unit, horizon and discount rate.

    Returns
    -------
    (scores, cards)
        ``customer_id`` and the :data:`CLV_SCORES` columns, one row per customer with a
        purchase; the model cards of the fit (empty, like the scores, without purchases).
    """
    last_day = (as_of - timedelta(microseconds=1)).date()
    placed = orders.filter(orders.customer_id.notnull() & orders._time.notnull())
    if int(placed.limit(1).count().execute()) == 0:  # stops at the first order
        return SCORE_SCHEMA.empty_table(), []
    bought = purchases(orders, customer="customer_id", date="_time", amount="amount",
                       order="order_id")  # fmt: skip
    fit = fit_clv(
        orders,
        customer="customer_id",
        date="_time",
        amount="amount",
        order="order_id",
        observation_end=last_day,
        unit=settings.unit,
        model=settings.model,
        source="transactions",
    )
    window = window_for(bought, last_day, last_day, settings.unit)
    summary = customer_summary(bought, window).select(
        "customer_id", "x", "t_x_days", "T_days", "monetary"
    )
    rows = summary.to_pyarrow()
    per_unit = DAYS_PER_UNIT[settings.unit]

    def col(name: str) -> np.ndarray:
        values = pc.cast(rows.column(name), pa.float64())
        return np.asarray(pc.fill_null(values, np.nan).to_numpy(), dtype=float)

    x = col("x")
    X = np.column_stack([x, col("t_x_days") / per_unit, col("T_days") / per_unit])
    monetary = col("monetary")
    model = fit.purchase_model
    horizon = settings.months * DAYS_PER_MONTH / per_unit
    columns: dict[str, np.ndarray] = {
        "p_alive": model.probability_alive(X),
        "expected_orders": model.expected_purchases(X, horizon),
        "days_to_next_order": model.time_to_next_purchase(X, "median") * per_unit,
    }
    if fit.spend_model is not None:
        # q <= 1 (no finite mean spend) leaves the value scores null rather than failing
        # the run; the card shows the parameters
        with contextlib.suppress(ValueError):
            columns["expected_order_value"] = fit.spend_model.expected_spend(x, monetary)
            columns["clv"] = customer_lifetime_value(
                model,
                fit.spend_model,
                X,
                monetary,
                months=settings.months,
                discount_rate=settings.discount_rate,
                unit=settings.unit,
            )
    n = rows.num_rows
    table = pa.table(
        {
            "customer_id": rows.column("customer_id").cast(pa.string()),
            **{
                name: pa.array(
                    columns.get(name, np.full(n, np.nan)), pa.float64(), from_pandas=True
                )
                for name in CLV_SCORES
            },
        },
        schema=SCORE_SCHEMA,
    )
    return table, fit.cards
