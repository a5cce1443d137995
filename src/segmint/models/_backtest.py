"""Backtest metrics of a probability score: AUC, PR-AUC, lift at the top decile, calibration.

A score model is fitted on one cut-off and judged on a later one (a time-based backtest:
the future the model never saw).  The ranking metrics come from scikit-learn
(``roc_auc_score``, ``average_precision_score``); lift and the calibration table are
computed here because they are a sort and a grouping.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score

from segmint.traits._activity import resolve_as_of


@dataclass(frozen=True)
class CalibrationBin:
    """One band of predicted probability: how many customers, predicted vs observed rate."""

    low: float
    high: float
    customers: int
    predicted: float
    observed: float


@dataclass(frozen=True)
class Backtest:
    """How a score did on customers whose outcome it did not see.

    Attributes
    ----------
    customers, events
        Customers scored, and how many of them had the event (churned, bought).
    base_rate
        events / customers.
    auc
        Area under the ROC curve: the chance a random customer with the event is scored
        above a random one without (0.5 is guessing).
    pr_auc
        Average precision (area under the precision-recall curve); guessing gives the
        base rate.
    lift_top_decile
        Event rate among the 10% scored highest, over the base rate.
    calibration
        Customers in equal-count bands of the score, with the mean predicted
        probability and the observed event rate of each.
    """

    customers: int
    events: int
    base_rate: float
    auc: float
    pr_auc: float
    lift_top_decile: float
    calibration: tuple[CalibrationBin, ...]

    def to_dict(self) -> dict[str, Any]:
        """The metrics as JSON-able data."""
        out = asdict(self)
        out["calibration"] = [asdict(b) for b in self.calibration]
        return out


def top_share_rate(y_true: np.ndarray, y_score: np.ndarray, share: float = 0.1) -> float:
    """Event rate among the ``share`` of customers with the highest scores.

    Ties at the boundary are broken by position (a stable sort), so the top group has
    exactly ``ceil(share * n)`` customers.
    """
    n = len(y_true)
    k = max(1, int(np.ceil(share * n)))
    order = np.argsort(-y_score, kind="stable")
    return float(np.mean(y_true[order[:k]]))


def calibration_table(
    y_true: np.ndarray, y_score: np.ndarray, bins: int = 10
) -> tuple[CalibrationBin, ...]:
    """Equal-count bands of ``y_score`` with their predicted and observed rates."""
    order = np.argsort(y_score, kind="stable")
    out = []
    for part in np.array_split(order, min(bins, len(order))):
        if len(part) == 0:
            continue
        s = y_score[part]
        out.append(
            CalibrationBin(
                low=float(s.min()),
                high=float(s.max()),
                customers=len(part),
                predicted=float(s.mean()),
                observed=float(y_true[part].mean()),
            )
        )
    return tuple(out)


def evaluate(y_true: Any, y_score: Any, *, bins: int = 10) -> Backtest:
    """Backtest metrics of probabilities ``y_score`` against outcomes ``y_true`` (0/1).

    Raises
    ------
    ValueError
        When the outcomes are all one class (AUC is undefined): the test window holds no
        events, or nothing but events.
    """
    y = np.asarray(y_true).astype(int)
    s = np.asarray(y_score, dtype=float)
    if y.shape != s.shape or y.ndim != 1:
        raise ValueError(f"y_true {y.shape} and y_score {s.shape} must be equal-length vectors")
    events = int(y.sum())
    if events in (0, len(y)):
        raise ValueError(
            f"the backtest needs customers with and without the event; all {len(y)} had "
            f"{'it' if events else 'none'}: choose another test cut-off or window"
        )
    base = events / len(y)
    return Backtest(
        customers=len(y),
        events=events,
        base_rate=base,
        auc=float(roc_auc_score(y, s)),
        pr_auc=float(average_precision_score(y, s)),
        lift_top_decile=top_share_rate(y, s, 0.1) / base,
        calibration=calibration_table(y, s, bins),
    )


def day_text(d: datetime) -> str:
    """A cut-off as written in cards and messages: the date, or the time when not midnight."""
    return d.date().isoformat() if d == datetime(d.year, d.month, d.day) else d.isoformat()


def backtest_cutoffs(
    train_cutoff: datetime | date, test_cutoff: datetime | date, horizon_days: int
) -> tuple[datetime, datetime]:
    """Both cut-offs as times; the test one at least ``horizon_days`` after the training one,
    so no outcome a model learned from lies in the window it is judged on."""
    t0, t1 = resolve_as_of(train_cutoff), resolve_as_of(test_cutoff)
    if t1 < t0 + timedelta(days=horizon_days):
        raise ValueError(
            f"test_cutoff {day_text(t1)} must be at least horizon_days={horizon_days} after "
            f"train_cutoff {day_text(t0)}: otherwise the backtest window overlaps the "
            "training labels"
        )
    return t0, t1


def sample_positions(n: int, max_samples: int | None, seed: int) -> np.ndarray | None:
    """Sorted positions of a random sample of at most ``max_samples`` of ``n`` rows; None
    when all rows are kept."""
    if max_samples is None or n <= max_samples:
        return None
    return np.sort(np.random.default_rng(seed).choice(n, max_samples, replace=False))


def buyers_text(active_within_days: int | None) -> str:
    """The population of a purchase model, in words, for its card."""
    if active_within_days is None:
        return "customers who ever ordered"
    return f"customers who ordered in the {active_within_days} days before the cut-off"
