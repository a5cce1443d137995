"""Hand-computed small cases: every CLV formula against an independent computation.

The references integrate the individual-level models over their mixing distributions
numerically (``scipy.integrate.quad``), never using the hypergeometric closed forms under
test: the purchase rate is integrated out with the plain gamma integral, the rest (the
dropout probability p of BG/NBD, the dropout time of Pareto/NBD, the spend rate nu of
Gamma-Gamma) by quadrature.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, stats
from scipy.special import gammaln

from segmint.models import BGNBD, GammaGamma, ParetoNBD

BG = {"r": 0.8, "alpha": 4.0, "a": 0.6, "b": 2.5}
PN = {"r": 0.6, "alpha": 5.0, "s": 0.4, "beta": 12.0}
CASES = [(0, 0.0, 10.0), (1, 2.0, 10.0), (4, 7.5, 12.0), (2, 3.0, 3.0)]
RTOL = 1e-6  # the quadrature is good to ~1e-9; the closed forms to ~1e-14


def _fitted(model: BGNBD | ParetoNBD, params: dict[str, float]) -> BGNBD | ParetoNBD:
    model.params_ = dict(params)
    return model


def _quad(f: object, lo: float, hi: float) -> float:
    return float(integrate.quad(f, lo, hi, epsabs=0, epsrel=1e-11, limit=200)[0])  # type: ignore[arg-type]


def _gamma_moment(k: float, rate: float, r: float, alpha: float) -> float:
    """E[lambda^k exp(-lambda rate)] for lambda ~ Gamma(r, rate alpha): a gamma integral."""
    return float(
        np.exp(gammaln(r + k) - gammaln(r) + r * np.log(alpha) - (r + k) * np.log(alpha + rate))
    )


def _bg_integrals(x: int, t_x: float, T: float, t: float) -> tuple[float, float, float]:
    """(likelihood, P(alive), E[Y(t)]) of BG/NBD: lambda in closed form, p by quadrature."""
    r, alpha = BG["r"], BG["alpha"]
    g_p = stats.beta(BG["a"], BG["b"]).pdf
    la = _quad(lambda p: (1 - p) ** x * g_p(p), 0, 1) * _gamma_moment(x, T, r, alpha)
    ld = 0.0
    if x > 0:
        ld = _quad(lambda p: p * (1 - p) ** (x - 1) * g_p(p), 0, 1) * _gamma_moment(
            x, t_x, r, alpha
        )
    # given alive with (lambda, p), purchases in t: (1 - exp(-lambda p t)) / p
    ey = _quad(
        lambda p: (
            (1 - p) ** x
            / p
            * g_p(p)
            * (_gamma_moment(x, T, r, alpha) - _gamma_moment(x, T + p * t, r, alpha))
        ),
        0,
        1,
    )
    return la + ld, la / (la + ld), ey / (la + ld)


def _pn_integrals(x: int, t_x: float, T: float, t: float) -> tuple[float, float, float]:
    """(likelihood, P(alive), E[Y(t)]) of Pareto/NBD: a 1-D quadrature over time.

    Dropout at tau in (t_x, T] contributes ``lambda^x mu exp(-(lambda+mu) tau)``; its
    expectation over lambda and mu is a product of gamma integrals, left to integrate
    over tau.
    """
    r, alpha, s, beta = PN["r"], PN["alpha"], PN["s"], PN["beta"]

    def surv(u: float) -> float:  # E[exp(-mu u)]
        return float((beta / (beta + u)) ** s)

    la = _gamma_moment(x, T, r, alpha) * surv(T)
    ld = _quad(lambda tau: _gamma_moment(x, tau, r, alpha) * s / (beta + tau) * surv(tau), t_x, T)
    # E[lambda/mu (1 - exp(-mu t)) | alive] = E[lambda ...] * int_0^t E[exp(-mu (T+u))] du
    ey = _gamma_moment(x + 1, T, r, alpha) * _quad(lambda u: surv(T + u), 0, t)
    return la + ld, la / (la + ld), ey / (la + ld)


@pytest.mark.parametrize(("x", "t_x", "T"), CASES)
def test_bgnbd_matches_integration_over_lambda_and_p(x: int, t_x: float, T: float) -> None:
    model = _fitted(BGNBD(), BG)
    X = np.array([[x, t_x, T]])
    like, alive, expected = _bg_integrals(x, t_x, T, t=6.0)
    assert model.log_likelihood(X)[0] == pytest.approx(np.log(like), rel=RTOL)
    assert model.probability_alive(X)[0] == pytest.approx(alive, rel=RTOL)
    assert model.expected_purchases(X, 6.0)[0] == pytest.approx(expected, rel=RTOL)


@pytest.mark.parametrize(("x", "t_x", "T"), CASES)
def test_paretonbd_matches_integration_over_lambda_and_mu(x: int, t_x: float, T: float) -> None:
    for params in (PN, {**PN, "alpha": 20.0}):  # both branches: alpha < beta, alpha >= beta
        model = _fitted(ParetoNBD(), params)
        PN_saved = dict(PN)
        PN.update(params)
        try:
            like, alive, expected = _pn_integrals(x, t_x, T, t=6.0)
        finally:
            PN.clear()
            PN.update(PN_saved)
        X = np.array([[x, t_x, T]])
        assert model.log_likelihood(X)[0] == pytest.approx(np.log(like), rel=RTOL)
        assert model.probability_alive(X)[0] == pytest.approx(alive, rel=RTOL)
        assert model.expected_purchases(X, 6.0)[0] == pytest.approx(expected, rel=RTOL)


def test_bgnbd_hand_computed_case() -> None:
    # x = 0: L = B(a, b)/B(a, b) * (alpha/(alpha+T))^r = (4/14)^0.8, P(alive) = 1
    model = _fitted(BGNBD(), BG)
    X = np.array([[0, 0.0, 10.0]])
    assert model.log_likelihood(X)[0] == pytest.approx(0.8 * np.log(4 / 14), rel=1e-12)
    assert model.probability_alive(X)[0] == 1.0


def test_bgnbd_new_customer_forecast_matches_integration() -> None:
    model = _fitted(BGNBD(), BG)
    t = 9.0
    g_p = stats.beta(BG["a"], BG["b"]).pdf
    r, alpha = BG["r"], BG["alpha"]
    ref = _quad(lambda p: g_p(p) / p * (1 - _gamma_moment(0, p * t, r, alpha)), 0, 1)
    assert model.expected_purchases_new(t) == pytest.approx(ref, rel=RTOL)


def test_gamma_gamma_matches_integration_over_nu() -> None:
    p, q, gamma = 3.0, 4.0, 200.0
    model = GammaGamma()
    model.params_ = {"p": p, "q": q, "gamma": gamma}
    for x, m in [(1, 80.0), (3, 120.5), (10, 20.0)]:
        # mean of x Gamma(p, rate nu) spends is Gamma(p x, rate x nu); nu ~ Gamma(q, gamma)
        def joint(nu: float, x: int = x, m: float = m) -> float:
            spend = stats.gamma(p * x, scale=1 / (x * nu)).pdf(m)
            return float(spend * stats.gamma(q, scale=1 / gamma).pdf(nu))

        density = integrate.quad(joint, 0, np.inf, epsabs=0, epsrel=1e-11)[0]
        post_mean = integrate.quad(
            lambda nu, j=joint: p / nu * j(nu), 0, np.inf, epsabs=0, epsrel=1e-11
        )[0]
        X = np.array([[x, m]])
        assert model.log_likelihood(X)[0] == pytest.approx(np.log(density), rel=RTOL)
        assert model.predict(X)[0] == pytest.approx(post_mean / density, rel=RTOL)
