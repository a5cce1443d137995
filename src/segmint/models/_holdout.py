"""Holdout validation: predicted against actual purchases after the calibration end.

A purchase model fitted on the calibration period forecasts each customer's purchases
in the holdout period from their calibration history; customers are grouped by their
calibration frequency ``x`` (0, 1, ..., and one group for ``x >= top``) and the mean
forecast is set beside the mean actual count of each group, as in Fader, Hardie and Lee
(2005, fig. 4).  A model that is right on average but wrong for frequent or one-time
buyers shows it here.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from segmint.models._base import PurchaseModel
from segmint.models._summary import Compressed


@dataclass(frozen=True)
class FrequencyGroup:
    """One calibration frequency (``label``: "0", "1", ..., "7+")."""

    label: str
    customers: int
    actual_mean: float
    predicted_mean: float


@dataclass(frozen=True)
class HoldoutValidation:
    """Predicted against actual holdout purchases, overall and per calibration frequency."""

    holdout_length: float
    unit: str
    customers: int
    actual_total: float
    predicted_total: float
    groups: list[FrequencyGroup]

    @property
    def relative_error(self) -> float:
        """(predicted - actual) / actual of the total holdout purchases."""
        if self.actual_total == 0:
            return float("nan") if self.predicted_total == 0 else float("inf")
        return (self.predicted_total - self.actual_total) / self.actual_total

    @property
    def mean_absolute_error(self) -> float:
        """Mean over customers of |predicted - actual| group means (weights: customers)."""
        if not self.groups:
            return float("nan")
        w = np.array([g.customers for g in self.groups], dtype=float)
        err = np.array([abs(g.predicted_mean - g.actual_mean) for g in self.groups])
        return float(w @ err / w.sum())

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["relative_error"] = self.relative_error
        d["mean_absolute_error"] = self.mean_absolute_error
        return d


def validate_holdout(model: PurchaseModel, data: Compressed, *, top: int = 7) -> HoldoutValidation:
    """Compare the fitted model's holdout forecast with what happened.

    Parameters
    ----------
    model
        A purchase model fitted on ``data`` (the calibration period).
    data
        The compressed calibration summary with holdout purchase counts.
    top
        Frequencies ``>= top`` form one group.
    """
    length = data.window.holdout_length
    predicted = model.expected_purchases(data.X, length) * data.weight
    bucket = np.minimum(data.x, top).astype(int)
    groups = []
    for k in range(top + 1):
        m = bucket == k
        n = float(data.weight[m].sum())
        if n == 0:
            continue
        groups.append(
            FrequencyGroup(
                label=f"{k}+" if k == top else str(k),
                customers=int(n),
                actual_mean=float(data.x_holdout[m].sum() / n),
                predicted_mean=float(predicted[m].sum() / n),
            )
        )
    return HoldoutValidation(
        holdout_length=length,
        unit=data.window.unit,
        customers=data.n_customers,
        actual_total=float(data.x_holdout.sum()),
        predicted_total=float(predicted.sum()),
        groups=groups,
    )
