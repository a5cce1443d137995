"""Pareto/NBD: purchases at a Poisson rate until an unobserved exponential dropout.

Schmittlein, Morrison and Colombo (1987); the likelihood as in Fader and Hardie (2005),
"A note on deriving the Pareto/NBD model and related expressions".  While alive, a
customer buys at rate ``lambda ~ Gamma(r, rate alpha)`` and drops out at rate
``mu ~ Gamma(s, rate beta)``, in continuous time.

The likelihood has a term ``A0`` with a Gauss hypergeometric function
``2F1(r+s+x, s+1; r+s+x+1; z)`` (``alpha >= beta``) whose value grows like ``(1-z)^-s``
and overflows ``scipy.special.hyp2f1`` for frequent buyers.  Euler's transformation turns
it into ``(1-z)^-s 2F1(1, r+x; r+s+x+1; z)``, and the second factor is bounded by
``(r+s+x)/s``; so ``A0`` is computed as ``g(t_x) - g(T)`` with
``log g(tau) = -(r+x) log(alpha+tau) - s log(beta+tau) + log 2F1(1, ...)`` (the
``alpha < beta`` case is the mirror image), and the difference is taken in log space.
PyMC-Marketing rearranges the same terms for PyTensor; lifetimes evaluates them as
written.  Why segmint owns the fit: see :mod:`segmint.models._bgnbd`.  The gradient is
numeric (central differences): the Pareto/NBD fit is not the one that needs to be fast.
"""

from __future__ import annotations

import numpy as np
from scipy import special

from segmint.models._base import PurchaseModel
from segmint.models._mle import HessianObjective, Objective, numeric_gradient
from segmint.models._special import expm1_ratio, hyp2f1_1bc, log1mexp


def _log_g(
    r: float, alpha: float, s: float, beta: float, x: np.ndarray, tau: np.ndarray
) -> np.ndarray:
    """``log g(tau)``, so that ``A0 = g(t_x) - g(T)`` (the Euler-transformed form)."""
    if alpha >= beta:
        z = (alpha - beta) / (alpha + tau)
        f = hyp2f1_1bc(r + x, r + s + x + 1.0, z)
        return np.asarray(-(r + x) * np.log(alpha + tau) - s * np.log(beta + tau) + np.log(f))
    z = (beta - alpha) / (beta + tau)
    f = hyp2f1_1bc(np.full_like(x, s + 1.0), r + s + x + 1.0, z)
    return np.asarray(
        (1.0 - r - x) * np.log(alpha + tau) - (s + 1.0) * np.log(beta + tau) + np.log(f)
    )


Pairs = tuple[np.ndarray, np.ndarray, np.ndarray]


def _pairs(x: np.ndarray, tau: np.ndarray) -> Pairs:
    """The distinct ``(x, tau)`` and, per row, the index of its pair: ``g`` depends on
    nothing else, and a summary has far fewer distinct pairs than rows."""
    uniq, inv = np.unique(np.column_stack([x, tau]), axis=0, return_inverse=True)
    return uniq[:, 0].copy(), uniq[:, 1].copy(), inv.ravel()


def _log_g_rows(
    r: float,
    alpha: float,
    s: float,
    beta: float,
    x: np.ndarray,
    tau: np.ndarray,
    pairs: Pairs | None,
) -> np.ndarray:
    if pairs is None:
        return _log_g(r, alpha, s, beta, x, tau)
    ux, utau, inv = pairs
    return _log_g(r, alpha, s, beta, ux, utau)[inv]


def _log_terms(
    params: dict[str, float],
    x: np.ndarray,
    t_x: np.ndarray,
    T: np.ndarray,
    pairs: tuple[Pairs, Pairs] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(log prefactor, log "alive at T" term, log "dropped out in (t_x, T]" term)."""
    r, alpha, s, beta = params["r"], params["alpha"], params["s"], params["beta"]
    head = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    alive = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
    g_tx = _log_g_rows(r, alpha, s, beta, x, t_x, None if pairs is None else pairs[0])
    g_T = _log_g_rows(r, alpha, s, beta, x, T, None if pairs is None else pairs[1])
    # A0 = g(t_x) - g(T) >= 0, zero when t_x = T; the difference is taken in log space
    with np.errstate(divide="ignore", invalid="ignore"):
        diff = g_tx + log1mexp(np.minimum(g_T - g_tx, 0.0))
    dead = np.log(s) - np.log(r + s + x) + diff
    return np.asarray(head), np.asarray(alive), np.asarray(dead)


class ParetoNBD(PurchaseModel):
    """Pareto/NBD purchase model fitted by maximum likelihood.

    Parameters
    ----------
    horizon
        Length of the period :meth:`predict` forecasts, in the data's time unit.
    max_iter
        Iteration limit of the optimiser.

    Attributes
    ----------
    params_ : dict
        ``r``, ``alpha`` (purchase rate ``Gamma(r, rate alpha)``), ``s``, ``beta``
        (dropout rate ``Gamma(s, rate beta)``).
    standard_errors_ : dict
        Asymptotic standard errors (inverse Hessian, delta method).
    log_likelihood_ : float
        Total log-likelihood at the optimum.
    n_customers_ : float
        Sum of the sample weights.
    n_rows_ : int
        Rows of the (compressed) summary that were fitted.
    converged_ : bool
        The gradient vanished and no parameter is at the optimiser's bound.
    n_iter_ : int
        Optimiser iterations.
    """

    param_names = ("r", "alpha", "s", "beta")
    model_name = "Pareto/NBD"

    def _start(self, x: np.ndarray, T: np.ndarray, w: np.ndarray) -> np.ndarray:
        start = super()._start(x, T, w)
        start[3] = np.log(max(float(np.average(T, weights=w)), 1e-3))
        return start

    def _likelihood(
        self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, w: np.ndarray
    ) -> tuple[Objective, HessianObjective | None]:
        total = float(w.sum())
        pairs = (_pairs(x, t_x), _pairs(x, T))

        def value(theta: np.ndarray) -> float:
            params = dict(zip(self.param_names, np.exp(theta), strict=True))
            head, alive, dead = _log_terms(params, x, t_x, T, pairs)
            return float(-(w @ (head + np.logaddexp(alive, dead))) / total)

        return numeric_gradient(value), None

    def _row_log_likelihood(
        self, params: dict[str, float], x: np.ndarray, t_x: np.ndarray, T: np.ndarray
    ) -> np.ndarray:
        head, alive, dead = _log_terms(params, x, t_x, T)
        return np.asarray(head + np.logaddexp(alive, dead))

    def _log_alive_odds(
        self, params: dict[str, float], x: np.ndarray, t_x: np.ndarray, T: np.ndarray
    ) -> np.ndarray:
        _, alive, dead = _log_terms(params, x, t_x, T)
        return np.asarray(dead - alive)

    def _expected_if_alive(
        self, params: dict[str, float], t: float, x: np.ndarray, T: np.ndarray
    ) -> np.ndarray:
        r, alpha, s, beta = (params[k] for k in self.param_names)
        # (r+x)(beta+T) / ((alpha+T)(s-1)) [1 - ((beta+T)/(beta+T+t))^(s-1)], finite at s = 1
        ratio = expm1_ratio(np.full_like(T, s - 1.0), np.log((beta + T) / (beta + T + t)))
        return np.asarray((r + x) * (beta + T) / (alpha + T) * ratio)
