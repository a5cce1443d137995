"""Gamma-Gamma: the spend per purchase, independent of how often a customer buys.

Fader, Hardie and Lee (2005), "The Gamma-Gamma model of monetary value".  Each purchase
of a customer costs ``Gamma(shape p, rate nu)``, and ``nu ~ Gamma(shape q, rate
gamma)`` across customers.  Fitted on customers with at least one repeat purchase, from
their number of repeat purchases ``x`` and the mean value ``m`` of those purchases; it
predicts a customer's expected spend per future purchase, the input of discounted CLV.

Why segmint owns this fit: the same as for :mod:`segmint.models._bgnbd` (lifetimes is
unmaintained, PyMC-Marketing is heavy); the likelihood is the paper's in log space, its
per-``x`` terms summed over the distinct ``x`` and the rest reduced to one logarithm
per row, with an analytic gradient.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import special
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from segmint.models._base import check_weights
from segmint.models._mle import maximise, set_fitted


def check_spend(X: Any) -> tuple[np.ndarray, np.ndarray]:
    """``(x, m)`` as float arrays: repeat purchases (>= 1) and their mean value (> 0)."""
    if hasattr(X, "columns") and {"x", "monetary"} <= set(X.columns):
        X = np.column_stack([np.asarray(X[c], dtype=float) for c in ("x", "monetary")])
    arr = np.asarray(X, dtype=float)
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ValueError(f"X must have two columns (x, monetary), got shape {arr.shape}")
    x, m = arr[:, 0], arr[:, 1]
    bad = ~np.isfinite(arr).all(axis=1) | (x < 1) | (x != np.round(x)) | (m <= 0)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"row {row} of X: Gamma-Gamma needs x >= 1 (a whole number) and a positive "
            f"mean spend, got x={x[row]}, monetary={m[row]}; fit it on customers with "
            "repeat purchases only"
        )
    return x, m


class _Likelihood:
    """The Gamma-Gamma log-likelihood of weighted rows ``(x, m)``, with its gradient and
    Hessian in log-parameters.

    ``log L = lnG(p x + q) - lnG(p x) - lnG(q) + q log(gamma) + (p x - 1) log(m)
    + p x log(x) - (p x + q) log(gamma + x m)``: the gamma functions are summed over the
    distinct ``x``, the logarithms of ``m`` and ``x`` once, so that an evaluation needs
    one logarithm and one reciprocal per row (of ``gamma + x m``).
    """

    def __init__(self, x: np.ndarray, m: np.ndarray, w: np.ndarray) -> None:
        self.ux, inv = np.unique(x, return_inverse=True)
        self.wx = np.bincount(inv.ravel(), weights=w)
        self.total = float(w.sum())
        log_m = np.log(m)
        self.s_xlogm = float(w @ (x * log_m))
        self.s_logm = float(w @ log_m)
        self.s_logx = float(self.wx @ (self.ux * np.log(self.ux)))
        self.xm = x * m
        # the row weights of the two sums every term needs: sum w x f and sum w f
        self.weights = np.stack([w * x, w])

    def __call__(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        value, grad, _ = self._evaluate(theta, hessian=False)
        return value, grad

    def with_hessian(self, theta: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        return self._evaluate(theta, hessian=True)

    def _evaluate(
        self, theta: np.ndarray, *, hessian: bool
    ) -> tuple[float, np.ndarray, np.ndarray]:
        p, q, gamma = params = np.exp(theta)
        ux, wx, total = self.ux, self.wx, self.total
        px = p * ux
        inv = self.xm + gamma
        log_gxm = self.weights @ np.log(inv)  # (sum w x log(.), sum w log(.))
        np.reciprocal(inv, out=inv)
        s_inv = self.weights @ inv
        ll = (
            float(wx @ (special.gammaln(px + q) - special.gammaln(px)))
            + total * (q * np.log(gamma) - special.gammaln(q))
            + p * (self.s_xlogm + self.s_logx)
            - self.s_logm
            - p * log_gxm[0]
            - q * log_gxm[1]
        )
        dig = special.digamma(px + q)
        g = np.array(
            [
                wx @ (ux * (dig - special.digamma(px))) + self.s_xlogm + self.s_logx - log_gxm[0],
                wx @ dig + total * (np.log(gamma) - special.digamma(q)) - log_gxm[1],
                total * q / gamma - p * s_inv[0] - q * s_inv[1],
            ]
        )
        h = np.zeros((3, 3))
        if hessian:
            tri = special.polygamma(1, px + q)
            s_inv2 = self.weights @ (inv * inv)
            h[0, 0] = wx @ (ux * ux * (tri - special.polygamma(1, px)))
            h[0, 1] = h[1, 0] = wx @ (ux * tri)
            h[1, 1] = wx @ tri - total * special.polygamma(1, q)
            h[0, 2] = h[2, 0] = -s_inv[0]
            h[1, 2] = h[2, 1] = total / gamma - s_inv[1]
            h[2, 2] = -total * q / gamma**2 + p * s_inv2[0] + q * s_inv2[1]
        grad = g * params
        hess = h * np.outer(params, params) + np.diag(grad)
        return -ll / total, -grad / total, -hess / total


class GammaGamma(BaseEstimator):
    """Gamma-Gamma spend model fitted by maximum likelihood.

    Parameters
    ----------
    max_iter
        Iteration limit of the optimiser.

    Attributes
    ----------
    params_ : dict
        ``p`` (shape of the spend per purchase), ``q`` and ``gamma`` (shape and rate of
        the customers' spend rate ``nu``).
    standard_errors_ : dict
        Asymptotic standard errors (inverse Hessian, delta method).
    log_likelihood_ : float
        Total log-likelihood of the mean spends at the optimum.
    n_customers_ : float
        Sum of the sample weights.
    converged_ : bool
        The gradient vanished and no parameter is at the optimiser's bound.
    """

    param_names = ("p", "q", "gamma")
    model_name = "Gamma-Gamma"

    def __init__(self, *, max_iter: int = 1000) -> None:
        self.max_iter = max_iter

    @staticmethod
    def _objective(x: np.ndarray, m: np.ndarray, w: np.ndarray) -> _Likelihood:
        return _Likelihood(x, m, w)

    def fit(self, X: Any, y: None = None, sample_weight: Any = None) -> GammaGamma:
        """Estimate ``p, q, gamma`` from ``X = (x, monetary)`` of repeat buyers.

        Parameters
        ----------
        X
            Columns ``x`` (repeat purchases, >= 1) and ``monetary`` (their mean value).
        y
            Ignored (present for the scikit-learn contract).
        sample_weight
            Customers per row.
        """
        x, m = check_spend(X)
        w = check_weights(sample_weight, len(x))
        total = float(w.sum())
        mean_m = float(np.average(m, weights=w))
        # method-of-moments-like start: p = 1, q = 2, gamma = mean spend (E[m] = p gamma/(q-1))
        start = np.log(np.array([1.0, 2.0, mean_m]))
        lik = self._objective(x, m, w)
        res = maximise(lik, start, total, max_iter=self.max_iter, hessian=lik.with_hessian)
        set_fitted(self, res, self.param_names, total, len(x))
        return self

    def log_likelihood(self, X: Any) -> np.ndarray:
        """Log-density of each row's mean spend ``m`` given its ``x``."""
        check_is_fitted(self)
        x, m = check_spend(X)
        p, q, gamma = (self.params_[k] for k in self.param_names)
        return np.asarray(
            special.gammaln(p * x + q)
            - special.gammaln(p * x)
            - special.gammaln(q)
            + q * np.log(gamma)
            + (p * x - 1) * np.log(m)
            + p * x * np.log(x)
            - (p * x + q) * np.log(gamma + x * m)
        )

    def score(self, X: Any, y: None = None, sample_weight: Any = None) -> float:
        """Mean log-likelihood per customer (higher is better)."""
        ll = self.log_likelihood(X)
        return float(np.average(ll, weights=check_weights(sample_weight, len(ll))))

    def expected_spend(self, x: Any, monetary: Any) -> np.ndarray:
        """E[spend per purchase | x purchases of mean value ``monetary``].

        ``(gamma + x m) p / (p x + q - 1)``: a weighted mean of the population mean
        ``p gamma / (q - 1)`` and the customer's own mean, the weight on their own mean
        growing with x.  ``x = 0`` gives the population mean (``monetary`` is ignored).
        Needs ``q > 1`` (otherwise the population mean spend is infinite).
        """
        check_is_fitted(self)
        p, q, gamma = (self.params_[k] for k in self.param_names)
        if q <= 1:
            raise ValueError(
                f"q = {q:.4g} <= 1: the fitted spend distribution has no finite mean, so "
                "expected spend (and CLV) is undefined; check the monetary values"
            )
        x = np.asarray(x, dtype=float)
        m = np.where(x > 0, np.nan_to_num(np.asarray(monetary, dtype=float)), 0.0)
        return np.asarray((gamma + x * m) * p / (p * x + q - 1))

    def predict(self, X: Any) -> np.ndarray:
        """Expected spend per future purchase for rows ``(x, monetary)``."""
        arr = np.asarray(X, dtype=float)
        return self.expected_spend(arr[:, 0], arr[:, 1])
