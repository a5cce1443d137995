"""Control groups drawn by hashing, so they are reproducible and stable across runs.

A customer is held out of an action when ``u = H(salt, action, customer_id) <
control_share``, with ``H`` the first 8 bytes of BLAKE2b read as a fraction of 2**64.
The draw depends on nothing else: the same customer is in the same arm of the same
action on every run, whoever else is eligible, on every machine (Python's own ``hash``
is salted per process, and a seeded random generator would give a customer a different
draw as soon as the eligible set changes).  Changing ``salt`` draws new groups.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import numpy as np


def holdout_draw(salt: str, action: str, customer_ids: Iterable[str]) -> np.ndarray:
    """The uniform draw in [0, 1) of every customer for ``action``."""
    prefix = f"{salt}\x1f{action}\x1f".encode()
    values = [
        int.from_bytes(hashlib.blake2b(prefix + str(c).encode(), digest_size=8).digest(), "big")
        for c in customer_ids
    ]
    return np.asarray(values, dtype=np.float64) / 2.0**64


def in_control(salt: str, action: str, customer_ids: Iterable[str], share: float) -> np.ndarray:
    """Whether each customer is in the control group of ``action`` (held out)."""
    return holdout_draw(salt, action, customer_ids) < share
