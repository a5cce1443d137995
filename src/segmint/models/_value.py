"""Discounted customer lifetime value from a purchase model and a spend model.

``CLV = sum_{m=1..months} spend * (E[Y(m)] - E[Y(m-1)]) / (1 + d)^m``: the expected
purchases in each future month (from BG/NBD or Pareto/NBD, conditional on the
customer's history) times the expected spend per purchase (Gamma-Gamma), discounted
monthly at rate ``d``.  A month is 365.25/12 days (in the data's time unit).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from segmint.models._base import PurchaseModel
from segmint.models._gammagamma import GammaGamma
from segmint.models._summary import DAYS_PER_UNIT

DAYS_PER_MONTH = 365.25 / 12


def customer_lifetime_value(
    purchases: PurchaseModel,
    spend: GammaGamma,
    X: Any,
    monetary: Any,
    *,
    months: int = 12,
    discount_rate: float = 0.01,
    unit: str = "day",
) -> np.ndarray:
    """Discounted value of each customer's purchases in the next ``months`` months.

    Parameters
    ----------
    purchases
        A fitted BG/NBD or Pareto/NBD model.
    spend
        A fitted Gamma-Gamma model.
    X
        Customer summary ``(x, t_x, T)`` in the purchase model's time unit.
    monetary
        Mean value of each customer's repeat purchases (ignored where ``x = 0``: those
        get the population mean spend).
    months
        Horizon in months.
    discount_rate
        Monthly discount rate (0.01 is about 12.7 % a year).
    unit
        The time unit of ``X`` and of the purchase model ("day" or "week").
    """
    if months < 0:
        raise ValueError(f"months must not be negative, got {months}")
    if discount_rate <= -1:
        raise ValueError(f"discount_rate must be above -1, got {discount_rate}")
    month = DAYS_PER_MONTH / DAYS_PER_UNIT[unit]
    arr = np.asarray(X, dtype=float)
    value_per_purchase = spend.expected_spend(arr[:, 0], monetary)
    total = np.zeros(len(arr))
    previous = np.zeros(len(arr))
    for m in range(1, months + 1):
        cumulative = purchases.expected_purchases(arr, m * month)
        total += (cumulative - previous) / (1.0 + discount_rate) ** m
        previous = cumulative
    return np.asarray(total * value_per_purchase)
