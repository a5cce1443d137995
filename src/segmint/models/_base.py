"""What the two purchase models (BG/NBD, Pareto/NBD) share: the estimator contract.

Both take a customer summary ``X`` with columns ``(x, t_x, T)`` (repeat purchases, time
of the last purchase, time since the first purchase, in one time unit) and an optional
``sample_weight`` (how many customers each row stands for: the compressed summary of
:mod:`segmint.models._summary`).  ``__init__`` stores its keyword-only parameters
unchanged, ``fit`` validates, estimates and returns ``self``; what it learned ends in
``_``; every prediction first checks that the model is fitted.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from segmint.models._mle import HessianObjective, Objective, maximise, set_fitted

Statistic = Literal["mean", "median"]
#: summaries with more than twice this many rows are first fitted on a sample of about
#: this many rows, for the start value
WARM_START_ROWS = 20_000


def check_summary(X: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(x, t_x, T)`` as float arrays, or a ``ValueError`` saying which row is impossible."""
    if hasattr(X, "columns") and {"x", "t_x", "T"} <= set(X.columns):
        X = np.column_stack([np.asarray(X[c], dtype=float) for c in ("x", "t_x", "T")])
    arr = np.asarray(X, dtype=float)
    if arr.ndim != 2 or arr.shape[1] != 3:
        raise ValueError(
            f"X must have three columns (x, t_x, T), got an array of shape {arr.shape}"
        )
    x, t_x, T = arr[:, 0], arr[:, 1], arr[:, 2]
    problems = {
        "a value is not finite": ~np.isfinite(arr).all(axis=1),
        "x (repeat purchases) is negative or not a whole number": (x < 0) | (x != np.round(x)),
        "t_x is negative or after T": (t_x < 0) | (t_x > T),
        "x is 0 but t_x is not 0": (x == 0) & (t_x != 0),
    }
    for what, bad in problems.items():
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise ValueError(f"row {row} of X: {what} (x={x[row]}, t_x={t_x[row]}, T={T[row]})")
    return x, t_x, T


def check_weights(sample_weight: Any, n: int) -> np.ndarray:
    """Row weights (customers per row); ones when ``None``."""
    if sample_weight is None:
        return np.ones(n)
    w = np.asarray(sample_weight, dtype=float).ravel()
    if w.shape != (n,):
        raise ValueError(f"sample_weight has {w.size} values for {n} rows of X")
    if not np.isfinite(w).all() or (w < 0).any():
        raise ValueError("sample_weight must be finite and non-negative")
    if w.sum() <= 0:
        raise ValueError("sample_weight sums to zero: no customers to fit")
    return w


class PurchaseModel(BaseEstimator):
    """Base of the BG/NBD and Pareto/NBD estimators.

    Parameters
    ----------
    horizon
        Length of the period :meth:`predict` forecasts, in the data's time unit.
    max_iter
        Iteration limit of the optimiser.
    """

    #: parameter names, in the order of the log-parameter vector
    param_names: ClassVar[tuple[str, ...]] = ()
    #: the model's name in model cards
    model_name: ClassVar[str] = ""

    def __init__(self, *, horizon: float = 365.0, max_iter: int = 1000) -> None:
        self.horizon = horizon
        self.max_iter = max_iter

    # -- to implement -----------------------------------------------------------------
    def _likelihood(
        self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, w: np.ndarray
    ) -> tuple[Objective, HessianObjective | None]:  # pragma: no cover - abstract
        """Mean negative log-likelihood in log-parameters: ``(value, gradient)`` and, if
        the model has one, ``(value, gradient, Hessian)``."""
        raise NotImplementedError

    def _row_log_likelihood(
        self, params: dict[str, float], x: np.ndarray, t_x: np.ndarray, T: np.ndarray
    ) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _log_alive_odds(
        self, params: dict[str, float], x: np.ndarray, t_x: np.ndarray, T: np.ndarray
    ) -> np.ndarray:  # pragma: no cover - abstract
        """log of P(dead, data) / P(alive, data)."""
        raise NotImplementedError

    def _expected_if_alive(
        self, params: dict[str, float], t: float, x: np.ndarray, T: np.ndarray
    ) -> np.ndarray:  # pragma: no cover - abstract
        """E[purchases in (T, T+t] | alive at T, data]."""
        raise NotImplementedError

    # -- fitting ------------------------------------------------------------------------
    def _start(self, x: np.ndarray, T: np.ndarray, w: np.ndarray) -> np.ndarray:
        mean_x = float(np.average(x, weights=w))
        mean_T = float(np.average(T, weights=w))
        rate_scale = max(mean_T, 1e-3) / max(mean_x, 0.1)
        return np.log(np.array([1.0, rate_scale, 1.0, 1.0]))

    def fit(self, X: Any, y: None = None, sample_weight: Any = None) -> PurchaseModel:
        """Estimate the parameters by maximum likelihood.

        Parameters
        ----------
        X
            Customer summary: columns ``x, t_x, T`` (an array or a DataFrame).
        y
            Ignored (present for the scikit-learn contract).
        sample_weight
            Customers per row (the compressed summary's ``weight``).
        """
        x, t_x, T = check_summary(X)
        w = check_weights(sample_weight, len(x))
        keep = w > 0
        x, t_x, T, w = x[keep], t_x[keep], T[keep], w[keep]
        total = float(w.sum())
        start = self._start(x, T, w)
        close = False
        if len(x) > 2 * WARM_START_ROWS:
            # start from the optimum of a systematic sample of the rows: it is close to
            # the full optimum, so the fit on all rows needs only a few Newton steps
            sample = slice(None, None, len(x) // WARM_START_ROWS)
            xs, ts, Ts, ws = x[sample], t_x[sample], T[sample], w[sample]
            objective, hessian = self._likelihood(xs, ts, Ts, ws)
            warm = maximise(
                objective, start, float(ws.sum()), max_iter=self.max_iter, hessian=hessian
            )
            close = warm.converged
            if close:
                start = warm.log_params
        objective, hessian = self._likelihood(x, t_x, T, w)
        res = maximise(
            objective,
            start,
            total,
            max_iter=self.max_iter,
            hessian=hessian,
            start_is_close=close,
        )
        set_fitted(self, res, self.param_names, total, len(x))
        return self

    # -- predictions --------------------------------------------------------------------
    def log_likelihood(self, X: Any) -> np.ndarray:
        """Log-likelihood of each row of ``X`` under the fitted parameters."""
        check_is_fitted(self)
        return self._row_log_likelihood(self.params_, *check_summary(X))

    def score(self, X: Any, y: None = None, sample_weight: Any = None) -> float:
        """Mean log-likelihood per customer (higher is better)."""
        ll = self.log_likelihood(X)
        return float(np.average(ll, weights=check_weights(sample_weight, len(ll))))

    def probability_alive(self, X: Any) -> np.ndarray:
        """P(the customer is still alive at T | x, t_x, T)."""
        check_is_fitted(self)
        odds = self._log_alive_odds(self.params_, *check_summary(X))
        return np.asarray(1.0 / (1.0 + np.exp(np.minimum(odds, 700.0))))

    def expected_purchases(self, X: Any, t: float) -> np.ndarray:
        """Expected purchases in the next ``t`` time units (after T), given the history."""
        check_is_fitted(self)
        if t < 0:
            raise ValueError(f"the horizon t must not be negative, got {t}")
        x, t_x, T = check_summary(X)
        alive = self.probability_alive(np.column_stack([x, t_x, T]))
        return np.asarray(alive * self._expected_if_alive(self.params_, t, x, T))

    def predict(self, X: Any) -> np.ndarray:
        """Expected purchases in the next ``horizon`` time units."""
        return self.expected_purchases(X, self.horizon)

    def time_to_next_purchase(self, X: Any, statistic: Statistic = "mean") -> np.ndarray:
        """Time from T to the next purchase, if the customer is alive and stays alive.

        Given alive at T, the purchase rate has the posterior ``Gamma(r + x, alpha + T)``
        in both models, so the waiting time is Lomax: its mean is
        ``(alpha + T) / (r + x - 1)`` (infinite when ``r + x <= 1``: a customer with few
        purchases in a population of rare buyers), its median
        ``(alpha + T) (2^(1/(r+x)) - 1)`` (always finite).
        """
        check_is_fitted(self)
        x, _, T = check_summary(X)
        r, alpha = self.params_["r"], self.params_["alpha"]
        shape = r + x
        if statistic == "median":
            return np.asarray((alpha + T) * np.expm1(np.log(2.0) / shape))
        if statistic != "mean":
            raise ValueError(f"statistic must be 'mean' or 'median', not {statistic!r}")
        with np.errstate(divide="ignore"):
            return np.where(shape > 1, (alpha + T) / np.maximum(shape - 1, 1e-300), np.inf)
