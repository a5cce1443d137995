"""The Newton fits (analytic gradient and Hessian) reach the same optimum as a plain one.

The reference is scipy's Nelder-Mead on the per-row log-likelihood (no gradient, none of
the fit's sums over distinct values), from the same start, with tolerances tight enough
to pin the parameters to better than 1e-7; the fits must agree with it to 1e-6.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import optimize

from segmint.models import BGNBD, GammaGamma, ParetoNBD
from segmint.models._bgnbd import _Likelihood as BGNBDLikelihood
from segmint.models._gammagamma import _Likelihood as GammaGammaLikelihood
from segmint.models._mle import maximise, numeric_hessian
from segmint.models._paretonbd import _Likelihood as ParetoLikelihood


def _simulate_bgnbd(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """BG/NBD customers (r=0.6, alpha=20, a=0.8, b=3) observed for whole days; and spend."""
    rng = np.random.default_rng(seed)
    lam = rng.gamma(0.6, 1 / 20.0, n)
    p = rng.beta(0.8, 3.0, n)
    T = rng.integers(30, 700, n).astype(float)
    x, t_x = np.zeros(n), np.zeros(n)
    for i in range(n):
        t = 0.0
        while True:
            t += rng.exponential(1 / lam[i])
            if t > T[i]:
                break
            x[i] += 1
            t_x[i] = t
            if rng.random() < p[i]:
                break
    X = np.column_stack([x, np.floor(t_x), T])
    nu = rng.gamma(3.0, 1 / 150.0, n)
    m = np.array([rng.gamma(2.0, 1 / nu[i], int(max(k, 1))).mean() for i, k in enumerate(x)])
    return X, np.round(m, 2)


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    return _simulate_bgnbd(3000, seed=5)


def _nelder_mead(fun: object, start: np.ndarray) -> np.ndarray:
    theta = np.asarray(start, dtype=float)
    for _ in range(4):  # restarts: Nelder-Mead can stall before its tolerance
        res = optimize.minimize(
            fun,  # type: ignore[arg-type]
            theta,
            method="Nelder-Mead",
            options={"xatol": 1e-10, "fatol": 1e-15, "maxiter": 20_000, "maxfev": 40_000},
        )
        theta = res.x
    return np.exp(theta)


def test_bgnbd_newton_fit_equals_a_nelder_mead_fit(data: tuple[np.ndarray, np.ndarray]) -> None:
    X, _ = data
    rows, weights = np.unique(X, axis=0, return_counts=True)
    fit = BGNBD().fit(rows, sample_weight=weights)
    assert fit.converged_

    def mean_nll(theta: np.ndarray) -> float:
        params = dict(zip(fit.param_names, np.exp(theta), strict=True))
        return float(-np.average(fit._row_log_likelihood(params, *X.T), axis=0))

    start = fit._start(X[:, 0], X[:, 2], np.ones(len(X)))
    reference = _nelder_mead(mean_nll, start)
    for name, value in zip(fit.param_names, reference, strict=True):
        assert fit.params_[name] == pytest.approx(value, rel=1e-6), name
    assert fit.log_likelihood_ == pytest.approx(-mean_nll(np.log(reference)) * len(X), rel=1e-12)


def test_gamma_gamma_newton_fit_equals_a_nelder_mead_fit(
    data: tuple[np.ndarray, np.ndarray],
) -> None:
    X, m = data
    buyers = X[:, 0] > 0
    Xg = np.column_stack([X[buyers, 0], m[buyers]])
    fit = GammaGamma().fit(Xg)
    assert fit.converged_

    def mean_nll(theta: np.ndarray) -> float:
        fit_at = GammaGamma()
        fit_at.params_ = dict(zip(fit.param_names, np.exp(theta), strict=True))
        return float(-fit_at.log_likelihood(Xg).mean())

    start = np.log([1.0, 2.0, float(Xg[:, 1].mean())])
    reference = _nelder_mead(mean_nll, start)
    for name, value in zip(fit.param_names, reference, strict=True):
        assert fit.params_[name] == pytest.approx(value, rel=1e-6), name


@pytest.mark.parametrize("scale", [1.0, 7.0])  # days (dense tables) and weeks (np.unique)
def test_bgnbd_gradient_and_hessian_match_finite_differences(
    data: tuple[np.ndarray, np.ndarray], scale: float
) -> None:
    X, _ = data
    X = X / [1.0, scale, scale]
    shuffled = np.random.default_rng(0).permutation(len(X))  # rows not sorted by x
    lik = BGNBDLikelihood(*X[shuffled].T, np.ones(len(X)))
    theta = np.log([0.5, 15.0 / scale, 0.7, 2.5])
    value, grad, hess = lik.with_hessian(theta)
    assert lik(theta)[0] == value
    np.testing.assert_array_equal(lik(theta)[1], grad)
    step = 1e-6
    # a central difference of a mean log-likelihood of about |f| = 5 carries a rounding
    # error near 2 * eps * |f| / (2 * step) = 1e-9, and the last bits of log and lgamma
    # differ between CPUs; so 1e-8 absolute (measured 1.7e-9 off on one CI machine, for
    # a gradient of 1.3e-3): a wrong derivative is off by far more
    for i in range(4):
        e = np.zeros(4)
        e[i] = step
        numeric = (lik(theta + e)[0] - lik(theta - e)[0]) / (2 * step)
        assert grad[i] == pytest.approx(numeric, rel=1e-6, abs=1e-8), i
    np.testing.assert_allclose(hess, numeric_hessian(lik, theta), rtol=1e-6, atol=1e-9)
    # and the value is the per-row log-likelihood's
    params = dict(zip(BGNBD.param_names, np.exp(theta), strict=True))
    assert value == pytest.approx(-BGNBD()._row_log_likelihood(params, *X.T).mean(), rel=1e-13)


def test_gamma_gamma_hessian_matches_finite_differences(
    data: tuple[np.ndarray, np.ndarray],
) -> None:
    X, m = data
    buyers = X[:, 0] > 0
    lik = GammaGammaLikelihood(X[buyers, 0], m[buyers], np.ones(int(buyers.sum())))
    theta = np.log([2.5, 4.0, 300.0])
    _, _, hess = lik.with_hessian(theta)
    np.testing.assert_allclose(hess, numeric_hessian(lik, theta), rtol=1e-6, atol=1e-9)


def test_paretonbd_likelihood_over_distinct_pairs_equals_the_per_row_one(
    data: tuple[np.ndarray, np.ndarray],
) -> None:
    X, _ = data
    X = X[np.random.default_rng(1).permutation(len(X))]
    w = np.random.default_rng(2).integers(1, 4, len(X)).astype(float)
    lik = ParetoLikelihood(*X.T, w)
    model = ParetoNBD()
    for params in ([0.6, 20.0, 0.8, 300.0], [0.6, 300.0, 0.8, 20.0], [2.0, 50.0, 1.0, 50.0]):
        at = dict(zip(model.param_names, params, strict=True))
        per_row = -np.average(model._row_log_likelihood(at, *X.T), weights=w)
        assert lik(np.log(params)) == pytest.approx(per_row, rel=1e-13)


def test_newton_steps_from_a_close_start_equal_the_lbfgsb_fit(
    data: tuple[np.ndarray, np.ndarray],
) -> None:
    # the path of a large Pareto/NBD fit (start: the optimum of a sample, no analytic
    # Hessian) against L-BFGS-B from a plain start, on the BG/NBD objective
    X, _ = data
    lik = BGNBDLikelihood(*X.T, np.ones(len(X)))
    start = BGNBD()._start(X[:, 0], X[:, 2], np.ones(len(X)))
    plain = maximise(lik, start, len(X))
    close = maximise(lik, plain.log_params + 0.02, len(X), start_is_close=True)
    assert close.message.startswith("Newton steps")
    assert close.converged
    np.testing.assert_allclose(np.exp(close.log_params), np.exp(plain.log_params), rtol=1e-6)
    np.testing.assert_allclose(close.covariance, plain.covariance, rtol=1e-4)
