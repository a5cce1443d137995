"""scikit-learn's OpenMP and BLAS code runs on one thread in every segmint fit.

segmint shares its machine: the engine's own threads, a ``segmint serve`` beside a
scheduled ``segmint run``, other jobs. scikit-learn's OpenMP loops (gradient boosting,
k-means) start a thread per core, and when the cores are busy those threads spin waiting
on each other instead of yielding. Measured on the 2-core development machine under load:
clustering 10,000 customers 85 s with the default threads, 14 s with one; the churn model
on 10,000 customers 138-146 s against 16-19 s (load average 5-6); the campaign X-learner
276 s against 7.8 s. On an idle machine one thread costs at most the second core.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


def one_thread(fn: Callable[P, R]) -> Callable[P, R]:
    """Run ``fn`` with OpenMP and BLAS limited to one thread."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        from threadpoolctl import threadpool_limits  # a dependency of scikit-learn

        with threadpool_limits(limits=1):
            return fn(*args, **kwargs)

    return wrapper
