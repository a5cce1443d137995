"""Stable labels: "segment 3" of this run is the group that was "segment 3" last run.

A fit numbers its groups arbitrarily.  The new groups are matched one to one to the
previous run's by their centres (scipy's ``linear_sum_assignment`` on the squared
distances, both measured in the current run's scale), and take over their labels; a group
without a match (more groups than before) gets the next unused label.  Without a previous
run, labels go by size: 1 is the largest group.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Matching:
    """Label per new group (in the fit's order), and the distance to its match (None: new)."""

    labels: list[int]
    distances: list[float | None]


def align(previous: Mapping[str, float], columns: Sequence[str]) -> np.ndarray:
    """A stored centre (column -> value) as a vector over ``columns`` (absent: 0)."""
    return np.array([float(previous.get(c, 0.0)) for c in columns])


def stable_labels(
    centres: np.ndarray,
    sizes: Sequence[int],
    previous: Mapping[int, np.ndarray] | None = None,
) -> Matching:
    """Labels for groups with ``centres`` (rows, already scaled), matched to ``previous``.

    Parameters
    ----------
    centres
        One row per new group.
    sizes
        Members per new group (labels them when there is nothing to match).
    previous
        Label -> centre of the previous run's groups, in the same scaled space.
    """
    from scipy.optimize import linear_sum_assignment

    k = len(centres)
    if not previous:
        order = sorted(range(k), key=lambda i: (-sizes[i], i))
        labels = [0] * k
        for rank, i in enumerate(order, start=1):
            labels[i] = rank
        return Matching(labels, [None] * k)
    old_labels = sorted(previous)
    old = np.vstack([previous[label] for label in old_labels])
    cost = ((centres[:, None, :] - old[None, :, :]) ** 2).sum(axis=2)
    rows, cols = linear_sum_assignment(cost)
    labels_or_none: list[int | None] = [None] * k
    distances: list[float | None] = [None] * k
    for r, c in zip(rows, cols, strict=True):
        labels_or_none[r] = old_labels[c]
        distances[r] = float(np.sqrt(cost[r, c]))
    nxt = max(old_labels) + 1
    for i in sorted(range(k), key=lambda i: (-sizes[i], i)):
        if labels_or_none[i] is None:
            labels_or_none[i] = nxt
            nxt += 1
    return Matching([int(x) for x in labels_or_none if x is not None], distances)
