"""Special functions the CLV models need, evaluated without overflow.

Why hand-written: the expressions of the BG/NBD and Pareto/NBD papers contain Gauss
hypergeometric functions whose arguments grow with the customer's purchase count, and
``scipy.special.hyp2f1`` returns ``inf``/``nan`` there (for example ``2F1(1, 5000.5;
5001.8; 0.999)``); lifetimes evaluates those expressions as written and overflows for
frequent buyers, PyMC-Marketing evaluates them in PyTensor.  Here every 2F1 is first put
through Euler's transformation ``2F1(a, b; c; z) = (1 - z)^(c-a-b) 2F1(c-a, c-b; c; z)``,
which leaves a function that stays bounded however many purchases the customer made,
and is then summed as a power series in a vectorised loop over only the rows that have
not yet converged.
"""

from __future__ import annotations

import numpy as np
from scipy import special

#: relative size of the last term (or tail bound) at which a series stops
_EPS = 1e-16
#: beyond this many terms the series is left to ``scipy.special.hyp2f1``
_MAX_TERMS = 20_000
#: terms summed between two convergence checks of a series
_TERMS_PER_CHECK = 8


def expm1_ratio(e: np.ndarray, log_base: np.ndarray) -> np.ndarray:
    """``-expm1(e * log_base) / e``: ``(1 - base**e) / e``, and ``-log_base`` at ``e = 0``.

    The BG/NBD and Pareto/NBD expectations divide by ``a - 1`` and ``s - 1``; this is the
    removable singularity written so that ``a = 1`` and ``s = 1`` are ordinary points.
    """
    e, log_base = np.broadcast_arrays(np.asarray(e, float), np.asarray(log_base, float))
    prod = e * log_base
    small = np.abs(prod) < 1e-8
    safe_e = np.where(small, 1.0, e)
    exact = -np.expm1(prod) / safe_e
    # (1 - exp(u)) / e = -log_base * (1 + u/2 + u^2/6) for small u = e * log_base
    series = -log_base * (1.0 + prod / 2.0 + prod * prod / 6.0)
    return np.where(small, series, exact)


def hyp2f1_1bc(b: np.ndarray, c: np.ndarray, z: np.ndarray) -> np.ndarray:
    """``2F1(1, b; c; z)`` for ``0 < b < c`` and ``0 <= z < 1``.

    Every term of the series is positive and the ratio of consecutive terms,
    ``z (b + k) / (c + k)``, is below ``z``, so the series is summed until the geometric
    tail bound is below machine precision.  Rows that would need more than
    ``_MAX_TERMS`` terms (``z`` very close to 1) go to ``scipy.special.hyp2f1``, which is
    accurate there for the moderate ``b`` such rows have in practice; a row it cannot
    evaluate is summed to the end.
    """
    b, c, z = (np.asarray(v, dtype=float) for v in np.broadcast_arrays(b, c, z))
    shape = b.shape
    b, c, z = b.ravel(), c.ravel(), z.ravel()
    out = np.ones_like(z)
    # terms needed ~ log(eps) / log(z); hand the slow rows to scipy first
    with np.errstate(divide="ignore"):
        needed = np.log(_EPS) / np.log(np.maximum(z, 1e-300))
    slow = needed > _MAX_TERMS
    if slow.any():
        out[slow] = special.hyp2f1(1.0, b[slow], c[slow], z[slow])
    todo = ~slow | ~np.isfinite(out)
    idx = np.flatnonzero(todo & (z > 0))
    _sum_series(idx, b, c, z, out)
    return out.reshape(shape)


def _sum_series(
    idx: np.ndarray, b: np.ndarray, c: np.ndarray, z: np.ndarray, out: np.ndarray
) -> None:
    bb, cc, zz = b[idx], c[idx], z[idx]
    term = np.ones(len(idx))
    total = np.ones(len(idx))
    k = 0
    while len(idx):
        # a few terms between convergence checks: the check and the compaction of the
        # rows still summing cost more than the terms, and extra terms below the
        # tolerance change nothing
        for _ in range(_TERMS_PER_CHECK):
            ratio = zz * (bb + k) / (cc + k)
            term *= ratio
            total += term
            k += 1
        # the remaining terms are below term * ratio / (1 - ratio) (ratios decrease to z)
        tail = term * np.maximum(ratio, zz) / (1.0 - np.maximum(ratio, zz))
        done = tail <= _EPS * total
        if done.any():
            out[idx[done]] = total[done]
            keep = ~done
            idx, bb, cc, zz, term, total = (
                idx[keep],
                bb[keep],
                cc[keep],
                zz[keep],
                term[keep],
                total[keep],
            )


def bgnbd_future_factor(a: float, b: float, r: float, x: np.ndarray, z: np.ndarray) -> np.ndarray:
    """``[1 - (1-z)^(a-1) 2F1(a+b-1-r, a-1; a+b+x-1; z)] / (a - 1)``, for ``0 <= z < 1``.

    This is the bracket of the BG/NBD conditional expectation (Fader, Hardie and Lee
    2005, eq. 10) after Euler's transformation: ``((alpha+T)/(alpha+T+t))^(r+x)
    2F1(r+x, b+x; a+b+x-1; z)`` equals ``(1-z)^(a-1) 2F1(a+b-1-r, a-1; a+b+x-1; z)``
    with ``z = t / (alpha+T+t)``, whose parameters no longer grow with ``x``.  With
    ``e = a - 1`` the hypergeometric function is ``1 + e G`` where
    ``G = sum_k>=1 (a)_(k-1) (a+b-1-r)_k / ((a+b+x-1)_k k!) z^k``, so the bracket over
    ``e`` is ``-expm1(e log(1-z)) / e - (1-z)^e G``: finite at ``a = 1`` and for ``a < 1``.
    """
    x, z = np.broadcast_arrays(np.asarray(x, float), np.asarray(z, float))
    shape = x.shape
    x, z = x.ravel(), z.ravel()
    e = a - 1.0
    beta = a + b - 1.0 - r
    c = a + b + x - 1.0
    log1mz = np.log1p(-z)
    # G is summed with a per-row scale: for large a the terms grow like (a z)^k / k!
    # before they fall, beyond the range of a float; G = total * exp(log_scale)
    g = np.zeros_like(z)
    log_g_scale = np.zeros_like(z)
    idx = np.flatnonzero(z > 0)
    term = beta * z[idx] / c[idx]
    total = term.copy()
    scale = np.zeros(len(idx))
    k = 1
    cc, zz = c[idx], z[idx]
    while len(idx):
        ratio = (e + k) * (beta + k) * zz / ((cc + k) * (k + 1))
        term = term * ratio
        total = total + term
        k += 1
        big = np.abs(term) > 1e250
        if big.any():
            term[big] *= 1e-250
            total[big] *= 1e-250
            scale[big] += 250 * np.log(10.0)
        # once the ratio is below 1 it keeps falling towards z; bound the tail
        r_abs = np.abs(ratio)
        bound = np.maximum(r_abs, zz)
        done = (r_abs < 1.0) & (np.abs(term) * bound / (1.0 - bound) <= _EPS * np.abs(total))
        done |= term == 0.0
        if done.any():
            g[idx[done]] = total[done]
            log_g_scale[idx[done]] = scale[done]
            keep = ~done
            idx, cc, zz, term, total, scale = (
                idx[keep],
                cc[keep],
                zz[keep],
                term[keep],
                total[keep],
                scale[keep],
            )
        if k > 10 * _MAX_TERMS:  # pragma: no cover - z < 1 always converges before this
            g[idx] = total
            log_g_scale[idx] = scale
            break
    with np.errstate(divide="ignore"):
        log_abs_g = np.log(np.abs(g)) + log_g_scale
    scaled = np.sign(g) * np.exp(e * log1mz + log_abs_g)
    out = expm1_ratio(np.full_like(z, e), log1mz) - scaled
    return out.reshape(shape)


def log1mexp(d: np.ndarray) -> np.ndarray:
    """``log(1 - exp(d))`` for ``d <= 0``, accurate for ``d`` near 0 and very negative."""
    d = np.asarray(d, dtype=float)
    with np.errstate(divide="ignore"):
        return np.where(d > -0.6931471805599453, np.log(-np.expm1(d)), np.log1p(-np.exp(d)))
