"""When a customer with churn drivers defects: a hazard that each driver switches on.

Each planted churn driver starts at a moment of the customer's history (a service ticket,
a survey answered with a low NPS, the day email consent was withdrawn, signup for a
customer who only ever buys offline) and from then on adds ``coefficient`` to the
customer's yearly hazard of defecting, for a number of days (tickets and NPS: a bad
experience fades), for good, or while it lasts (no email consent until granted).  The
cumulative hazard is piecewise linear in time, so the defection day ``D`` with ``M(D) =
E``, ``E ~ Exponential(1)``, is found exactly, for all customers at once, by one sort and
one search.

Hand-written: a piecewise-linear inverse for millions of customers in a few array passes;
no sampling library offers defection times from time-varying covariates like this.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from segmint.demo import _arrow as ax

#: the simulation is in days, the coefficients are per year
_DAYS_PER_YEAR = 365.0


@dataclass(frozen=True)
class Spells:
    """One driver's spells: who, from which day to which, adding how much yearly hazard."""

    customer: np.ndarray  # customer index per spell (a customer may have several)
    day: np.ndarray  # first day of each spell (days since history start)
    stop: np.ndarray  # day each spell ends (inf: for good)
    coefficient: float  # hazard per year during a spell

    @classmethod
    def lasting(
        cls,
        customer: np.ndarray,
        day: np.ndarray,
        coefficient: float,
        window: float | None,
        until: np.ndarray | None = None,
    ) -> Spells:
        """Spells of ``window`` days from each start (None: for good), each ended earlier
        by ``until`` where given (the driver itself stopped)."""
        stop = np.full(len(day), np.inf) if until is None else np.asarray(until, dtype=float)
        if window is not None:
            stop = np.minimum(stop, day + window)
        return cls(customer, day, stop, coefficient)


def cumulative_hazard(spells: list[Spells], customer: np.ndarray, day: np.ndarray) -> np.ndarray:
    """``M(day)`` of each ``customer``: expected defections by ``day`` (no unit)."""
    out = np.zeros(len(day))
    for o in spells:
        if not len(o.customer):
            continue
        order = np.argsort(o.customer, kind="stable")
        cust, start, stop = o.customer[order], o.day[order], o.stop[order]
        lo = np.searchsorted(cust, customer, side="left")
        hi = np.searchsorted(cust, customer, side="right")
        # customers with several starts: loop over the k-th start (few per customer)
        k = 0
        while True:
            has = lo + k < hi
            if not has.any():
                break
            j = lo[has] + k
            on = np.minimum(day[has], stop[j]) - start[j]
            out[has] += np.maximum(on, 0.0) * o.coefficient / _DAYS_PER_YEAR
            k += 1
    return out


def defection_days(rng: np.random.Generator, n: int, spells: list[Spells]) -> np.ndarray:
    """Day each of ``n`` customers defects (``inf``: never), drawn from the drivers' hazard.

    The hazard's slope changes at every start (``+coefficient``) and spell end
    (``-coefficient``); between those breakpoints it is constant, so the cumulative hazard
    is piecewise linear and its inverse at ``E ~ Exponential(1)`` is exact.
    """
    e = rng.standard_exponential(n)
    cust_parts, day_parts, slope_parts = [], [], []
    for o in spells:
        rate = o.coefficient / _DAYS_PER_YEAR
        cust_parts.append(o.customer)
        day_parts.append(o.day)
        slope_parts.append(np.full(len(o.customer), rate))
        ends = np.isfinite(o.stop)
        cust_parts.append(o.customer[ends])
        day_parts.append(o.stop[ends])
        slope_parts.append(np.full(int(ends.sum()), -rate))
    out = np.full(n, np.inf)
    if not cust_parts:
        return out
    cust = np.concatenate(cust_parts).astype(np.int64)
    day = np.concatenate(day_parts)
    change = np.concatenate(slope_parts)
    order = np.lexsort((day, cust))
    cust, day, change = cust[order], day[order], change[order]
    counts = np.bincount(cust, minlength=n)
    slope = ax.segment_cumsum(change, counts)  # hazard per day after each breakpoint
    slope = np.where(slope > 1e-12, slope, 0.0)  # +c - c may leave a rounding error
    last = np.r_[cust[1:] != cust[:-1], True]
    span = np.where(last, 0.0, np.r_[day[1:] - day[:-1], 0.0])
    # cumulative hazard at each breakpoint, and at the next one
    rise = slope * span
    after = ax.segment_cumsum(rise, counts)
    before = after - rise
    # the breakpoint whose segment holds E: M(day_j) <= E < M(day_j+1) (or the last one)
    target = e[cust]
    inside = (before <= target) & ((target < after) | last) & (slope > 0)
    hit = np.flatnonzero(inside)
    first = np.r_[True, cust[hit][1:] != cust[hit][:-1]] if len(hit) else np.zeros(0, bool)
    hit = hit[first]
    out[cust[hit]] = day[hit] + (target[hit] - before[hit]) / slope[hit]
    return out
