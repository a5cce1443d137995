"""Discovery fits run scikit-learn's OpenMP and BLAS code on one thread.

A run shares the machine with the engine's own threads (and a server with other work):
scikit-learn's OpenMP loops (KMeans, gradient boosting) then wait on each other.  On the
2-core development machine under load, clustering 10,000 customers took 85 s with the
default threads and 14 s with one.
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
