"""Lifecycle stages: prospect, new, reactivated, loyal, active, at risk, lapsed.

Every customer of the base gets exactly one stage, decided by the first matching rule in
:data:`STAGE_PRECEDENCE` (docs/families.md, "Lifecycle stages").  "Within N days" means
``as_of - N days <= time < as_of``, the same as a rule's ``within: Nd`` window, so a purchase
exactly ``active_days`` before ``as_of`` is still active and one exactly ``lapsed_days``
before is at risk, not lapsed.

Reactivation needs the gap before a purchase, which no per-customer trait holds.  Since
``active_days < lapsed_days``, only the first purchase within the active window can follow
a gap longer than ``lapsed_days`` (any later one follows a purchase less than
``active_days`` before it), and the purchase before it is the last one before the window.
So one aggregate per customer over the orders activity table decides it: the first time
at or after the window start and the last time before it, more than ``lapsed_days``
apart.  Lines of one order share a ``_time``, so they never make a gap.

Only the orders of the last ``active_days + lapsed_days`` are read: a customer with no
order in the ``lapsed_days`` before the window but one earlier (``first_purchase`` before
the window) had a gap longer than ``lapsed_days`` whatever the earlier order's time.  A run
at a million customers thus groups the last nine months of orders, not all of them.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

import ibis

from segmint.segments._families_config import LifecycleSettings, require_columns

if TYPE_CHECKING:
    import ibis.expr.types as ir

LIFECYCLE_COLUMNS = ("customer_id", "first_purchase", "last_purchase", "frequency")

#: The stages in order of precedence: a customer gets the first one whose rule holds.
STAGE_PRECEDENCE = (
    "prospect",  # no purchase before as_of
    "lapsed",  # last purchase more than lapsed_days ago
    "at_risk",  # last purchase more than active_days, at most lapsed_days ago
    "new",  # first purchase within new_days
    "reactivated",  # a purchase within active_days came more than lapsed_days after the one before
    "loyal",  # frequency >= loyal_orders
    "active",  # everyone else: last purchase within active_days
)


def _as_datetime(as_of: datetime | date) -> datetime:
    if isinstance(as_of, datetime):
        return as_of
    return datetime(as_of.year, as_of.month, as_of.day)


def lifecycle(
    base: ir.Table,
    orders: ir.Table,
    as_of: datetime | date,
    settings: LifecycleSettings | None = None,
) -> ir.Table:
    """The lifecycle stage of every customer in ``base`` as of ``as_of``.

    Parameters
    ----------
    base
        The customer base: ``customer_id``, ``first_purchase``, ``last_purchase`` (null for
        a customer who never bought) and ``frequency``, computed for the same ``as_of``.
    orders
        The orders activity table: ``customer_id`` (the person id) and ``_time``; rows at or
        after ``as_of`` are ignored.
    as_of
        The evaluation time (naive, UTC); a date means its midnight.
    settings
        The thresholds; default 90 / 180 / 365 days and 5 orders.

    Returns
    -------
    ibis.Table
        ``customer_id, lifecycle_stage``, one row per customer of ``base``.
    """
    settings = settings or LifecycleSettings()
    require_columns(base, LIFECYCLE_COLUMNS, what="lifecycle (customer base)")
    require_columns(orders, ("customer_id", "_time"), what="lifecycle (orders)")
    at = _as_datetime(as_of)
    new_since = ibis.literal(at - timedelta(days=settings.new_days), "timestamp")
    active_since = ibis.literal(at - timedelta(days=settings.active_days), "timestamp")
    lapsed_since = ibis.literal(at - timedelta(days=settings.lapsed_days), "timestamp")

    edges = _window_edges(orders, at, settings.active_days, settings.lapsed_days)
    joined = base.left_join(edges, base.customer_id == edges._edges_id)
    first = joined.first_purchase.cast("timestamp")
    last = joined.last_purchase.cast("timestamp")
    gap = ibis.interval(days=settings.lapsed_days)
    returning = joined._first_inside.notnull() & (
        (joined._last_before.isnull() & (first < active_since))  # the one before is older
        | (joined._last_before + gap < joined._first_inside)
    )
    stage = ibis.cases(
        (last.isnull(), "prospect"),
        (last < lapsed_since, "lapsed"),
        (last < active_since, "at_risk"),
        (first >= new_since, "new"),
        (returning, "reactivated"),
        (joined.frequency.fill_null(0) >= settings.loyal_orders, "loyal"),
        else_="active",
    )
    return joined.select(customer_id=joined.customer_id, lifecycle_stage=stage)


def _window_edges(
    orders: ir.Table, as_of: datetime, active_days: int, lapsed_days: int
) -> ir.Table:
    """Per customer with an order in the last ``active_days + lapsed_days``: the first time
    within the active window (``_first_inside``) and the last one in the ``lapsed_days``
    before it (``_last_before``), as ``(_edges_id, _first_inside, _last_before)``."""
    window_start = as_of - timedelta(days=active_days)
    timed = orders.select(customer_id=orders.customer_id, _time=orders._time.cast("timestamp"))
    recent = timed.filter(
        (timed._time >= ibis.literal(window_start - timedelta(days=lapsed_days), "timestamp"))
        & (timed._time < ibis.literal(as_of, "timestamp"))
    )
    inside = recent._time >= ibis.literal(window_start, "timestamp")
    return recent.group_by(_edges_id=recent.customer_id).agg(
        _first_inside=recent._time.min(where=inside),
        _last_before=recent._time.max(where=~inside),
    )
