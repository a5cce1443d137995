"""Maximum likelihood on log-parameters: the optimiser every CLV model shares.

A model hands over the mean negative log-likelihood of its (weighted, compressed) data
as a function of the logarithms of its parameters, with its gradient, and, when it has
one, its analytic Hessian.  With a Hessian, ``maximise`` runs a trust-region Newton
method (scipy's ``trust-exact``), which reaches the optimum to near machine precision in
a dozen or so evaluations; without one, L-BFGS-B followed by a few Newton steps on a
finite-difference Hessian of the analytic gradient.  Either way the Newton finish is what
makes two implementations agree to many digits rather than to an optimiser's tolerance.
Standard errors come from one Hessian at the optimum.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import optimize

#: log-parameters are kept in this box: exp(+-30) is far outside any plausible value
BOUND = 30.0

Objective = Callable[[np.ndarray], tuple[float, np.ndarray]]
#: ``theta -> (value, gradient, Hessian)``
HessianObjective = Callable[[np.ndarray], tuple[float, np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class MLEResult:
    """The optimum of a log-likelihood in log-parameter space."""

    log_params: np.ndarray
    log_likelihood: float  # total (weighted) log-likelihood at the optimum
    covariance: np.ndarray  # of the log-parameters, from the inverse Hessian
    converged: bool
    n_iter: int
    message: str


def set_fitted(estimator: object, res: MLEResult, param_names: tuple[str, ...], total: float,
               n_rows: int) -> None:  # fmt: skip
    """Store a fit on an estimator: ``params_``, ``standard_errors_`` (delta method from
    the log scale), ``log_likelihood_``, ``n_customers_``, ``n_rows_``, ``converged_``,
    ``n_iter_``."""
    values = np.exp(res.log_params)
    se = values * np.sqrt(np.clip(np.diag(res.covariance), 0.0, None))
    fitted = {
        "params_": dict(zip(param_names, map(float, values), strict=True)),
        "standard_errors_": dict(zip(param_names, map(float, se), strict=True)),
        "log_likelihood_": float(res.log_likelihood),
        "n_customers_": total,
        "n_rows_": n_rows,
        "converged_": res.converged,
        "n_iter_": res.n_iter,
    }
    for name, value in fitted.items():
        setattr(estimator, name, value)


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


def numeric_hessian(objective: Objective, theta: np.ndarray, step: float = 1e-4) -> np.ndarray:
    """Central differences of the gradient: ``2 n`` gradient evaluations."""
    n = len(theta)
    h = np.empty((n, n))
    for i in range(n):
        e = np.zeros(n)
        e[i] = step
        h[i] = (objective(theta + e)[1] - objective(theta - e)[1]) / (2 * step)
    return (h + h.T) / 2


class _Memo:
    """One evaluation of a :data:`HessianObjective` shared by scipy's fun/jac/hess calls."""

    def __init__(self, full: HessianObjective) -> None:
        self.full = full
        self.theta: np.ndarray | None = None
        self.result: tuple[float, np.ndarray, np.ndarray] = (np.nan, np.empty(0), np.empty(0))
        self.calls = 0

    def __call__(self, theta: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        if self.theta is None or not np.array_equal(theta, self.theta):
            self.theta = np.array(theta, dtype=float)
            self.calls += 1
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                value, grad, hess = self.full(self.theta)
            if not (np.isfinite(value) and np.all(np.isfinite(grad))):
                value, grad = np.inf, np.zeros_like(self.theta)
            self.result = (value, grad, hess)
        return self.result


def _newton(
    full: HessianObjective, start: np.ndarray, max_iter: int
) -> tuple[np.ndarray, float, np.ndarray, np.ndarray, int, str] | None:
    """Trust-region Newton from ``start``; ``None`` when it leaves the box or fails."""
    memo = _Memo(full)
    res = optimize.minimize(
        lambda th: memo(th)[0],
        np.asarray(start, dtype=float),
        jac=lambda th: memo(th)[1],
        hess=lambda th: memo(th)[2],
        method="trust-exact",
        options={"maxiter": max_iter, "gtol": 1e-11},
    )
    theta = np.asarray(res.x, dtype=float)
    value, grad, hess = memo(theta)
    # trust-exact may stop a little short when its model of the decrease is at the
    # rounding level; plain Newton steps finish the job to machine precision
    for _ in range(3):
        try:
            step = np.linalg.solve(hess, grad)
        except np.linalg.LinAlgError:
            break
        if not np.all(np.isfinite(step)) or np.max(np.abs(step)) < 1e-10:
            break
        new_value, new_grad, new_hess = memo(theta - step)
        if not new_value <= value:
            break
        theta, value, grad, hess = theta - step, new_value, new_grad, new_hess
    inside = bool(np.all(np.abs(theta) < BOUND))
    if not (inside and np.isfinite(value) and np.max(np.abs(grad)) < 1e-6):
        return None
    return theta, float(value), grad, hess, int(res.nit), str(res.message)


def maximise(
    objective: Objective,
    start: np.ndarray,
    total_weight: float,
    *,
    max_iter: int = 1000,
    hessian: HessianObjective | None = None,
    start_is_close: bool = False,
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
        Iteration limit of the optimiser.
    hessian
        ``theta -> (value, gradient, Hessian)`` of the same function, if the model has
        an analytic Hessian: then trust-region Newton is tried first, and L-BFGS-B only
        when that fails or runs out of the box of plausible values.
    start_is_close
        ``start`` is the optimum of a sample of the same rows: without an analytic
        Hessian, Newton steps on one finite-difference Hessian are tried before
        L-BFGS-B (about 100 evaluations instead of several hundred).
    """
    from threadpoolctl import threadpool_limits  # a dependency of scikit-learn

    # every evaluation is a handful of dot products over up to millions of rows: a
    # multi-threaded BLAS spends more on waking its threads than on the work (15 ms
    # against 0.2 ms per product on a busy two-core machine)
    with threadpool_limits(limits=1, user_api="blas"):
        if hessian is not None:
            newton = _newton(hessian, start, max_iter)
        elif start_is_close:
            newton = _newton_from_close(objective, start)
        else:
            newton = None
        if newton is not None:
            theta, value, grad, hess, n_iter, message = newton
        else:
            theta, value, grad, hess, n_iter, message = _lbfgsb(objective, start, max_iter, hessian)
    try:
        cov = np.linalg.inv(hess * total_weight)
    except np.linalg.LinAlgError:
        cov = np.full((len(theta), len(theta)), np.nan)
    at_bound = bool(np.any(np.abs(theta) >= BOUND - 1e-9))
    converged = bool(np.max(np.abs(grad)) < 1e-6) and not at_bound
    message += "; a parameter is at its bound" if at_bound else ""
    return MLEResult(theta, -value * total_weight, cov, converged, n_iter, message)


def _lbfgsb(
    objective: Objective, start: np.ndarray, max_iter: int, hessian: HessianObjective | None
) -> tuple[np.ndarray, float, np.ndarray, np.ndarray, int, str]:
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
    if hessian is not None:
        value, grad, hess = hessian(theta)
    else:
        value, grad = objective(theta)
        hess = numeric_hessian(objective, theta)
    # Newton polish: the mean log-likelihood is smooth, so a few steps reach the optimum
    # to near machine precision where L-BFGS-B stops at its tolerance
    theta, value, grad = _newton_steps(objective, theta, value, grad, hess, 5)
    return theta, float(value), grad, hess, int(res.nit), str(res.message)


def _newton_steps(
    objective: Objective,
    theta: np.ndarray,
    value: float,
    grad: np.ndarray,
    hess: np.ndarray,
    max_steps: int,
) -> tuple[np.ndarray, float, np.ndarray]:
    """Newton steps on a fixed Hessian while they lower the value.

    The Hessian is computed once: near the optimum it hardly changes (each step then
    shrinks the distance to the optimum by about the Hessian's relative error), and a
    finite-difference one costs ``2 n`` gradient evaluations.
    """
    for _ in range(max_steps):
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
    return theta, value, grad


def _newton_from_close(
    objective: Objective, start: np.ndarray
) -> tuple[np.ndarray, float, np.ndarray, np.ndarray, int, str] | None:
    """Newton steps on one finite-difference Hessian from a start close to the optimum
    (the optimum of a sample of the rows); ``None`` if they do not get there."""
    theta = np.asarray(start, dtype=float)
    value, grad = objective(theta)
    hess = numeric_hessian(objective, theta)
    if not np.all(np.isfinite(hess)) or np.any(np.linalg.eigvalsh(hess) <= 0):
        return None
    theta, value, grad = _newton_steps(objective, theta, value, grad, hess, 20)
    if not (np.isfinite(value) and np.max(np.abs(grad)) < 1e-7):
        return None
    if np.all(np.abs(theta) < BOUND):
        # the standard errors need the Hessian at the optimum, not at the start
        hess = numeric_hessian(objective, theta)
    return theta, float(value), grad, hess, 0, "Newton steps from the sample's optimum"
