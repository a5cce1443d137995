"""Maximum likelihood on log-parameters: the optimiser every CLV model shares.

A model hands over the mean negative log-likelihood of its (weighted, compressed) data
as a function of the logarithms of its parameters, with its gradient when it has one.
``maximise`` runs L-BFGS-B from a start value, polishes the optimum with a few Newton
steps on a finite-difference Hessian (so that two implementations agree to many digits,
not just to the optimiser's tolerance), and returns standard errors from that Hessian.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import optimize

#: log-parameters are kept in this box: exp(+-30) is far outside any plausible value
BOUND = 30.0

Objective = Callable[[np.ndarray], tuple[float, np.ndarray]]


@dataclass(frozen=True)
class MLEResult:
    """The optimum of a log-likelihood in log-parameter space."""

    log_params: np.ndarray
    log_likelihood: float  # total (weighted) log-likelihood at the optimum
    covariance: np.ndarray  # of the log-parameters, from the inverse Hessian
    converged: bool
    n_iter: int
    message: str


def numeric_gradient(fun: Callable[[np.ndarray], float], step: float = 1e-5) -> Objective:
    """Wrap a scalar function as (value, central-difference gradient)."""

    def value_and_grad(theta: np.ndarray) -> tuple[float, np.ndarray]:
        grad = np.empty_like(theta)
        for i in range(len(theta)):
            e = np.zeros_like(theta)
            e[i] = step
            grad[i] = (fun(theta + e) - fun(theta - e)) / (2 * step)
        return fun(theta), grad

    return value_and_grad


def _hessian(objective: Objective, theta: np.ndarray, step: float = 1e-4) -> np.ndarray:
    n = len(theta)
    h = np.empty((n, n))
    for i in range(n):
        e = np.zeros(n)
        e[i] = step
        h[i] = (objective(theta + e)[1] - objective(theta - e)[1]) / (2 * step)
    return (h + h.T) / 2


def maximise(
    objective: Objective, start: np.ndarray, total_weight: float, *, max_iter: int = 1000
) -> MLEResult:
    """Minimise ``objective`` (mean negative log-likelihood in log-parameters).

    Parameters
    ----------
    objective
        ``theta -> (mean negative log-likelihood, gradient)``.
    start
        Starting log-parameters.
    total_weight
        Number of customers the mean is over (turns the mean into the total).
    max_iter
        Iteration limit of L-BFGS-B.
    """
    bounds = [(-BOUND, BOUND)] * len(start)
    res = optimize.minimize(
        objective,
        np.asarray(start, dtype=float),
        jac=True,
        method="L-BFGS-B",
        bounds=bounds,
        options={"maxiter": max_iter, "ftol": 1e-15, "gtol": 1e-10, "maxcor": 20},
    )
    theta = np.clip(res.x, -BOUND, BOUND)
    value, grad = objective(theta)
    hess = _hessian(objective, theta)
    # Newton polish: the mean log-likelihood is smooth, so a few steps reach the optimum
    # to near machine precision where L-BFGS-B stops at its tolerance
    for _ in range(5):
        try:
            step = np.linalg.solve(hess, grad)
        except np.linalg.LinAlgError:
            break
        if not np.all(np.isfinite(step)):
            break
        candidate = np.clip(theta - step, -BOUND, BOUND)
        new_value, new_grad = objective(candidate)
        if not np.isfinite(new_value) or new_value > value + 1e-15 * abs(value):
            break
        theta, value, grad = candidate, new_value, new_grad
        if np.max(np.abs(step)) < 1e-12:
            break
        hess = _hessian(objective, theta)
    try:
        cov = np.linalg.inv(hess * total_weight)
    except np.linalg.LinAlgError:
        cov = np.full((len(theta), len(theta)), np.nan)
    at_bound = bool(np.any(np.abs(theta) >= BOUND - 1e-9))
    converged = bool(np.max(np.abs(grad)) < 1e-6) and not at_bound
    message = str(res.message) + ("; a parameter is at its bound" if at_bound else "")
    return MLEResult(theta, -value * total_weight, cov, converged, int(res.nit), message)
