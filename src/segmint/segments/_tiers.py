"""Value tiers: n-tiles (deciles by default) of a value column and named tiers by share of value.

Both use one order: customers by value, ties by ``customer_id``, so a customer in a higher
named tier never has a lower n-tile than one in a lower tier.

- ``value_decile`` is the same deterministic n-tile as the RFM scores: ``floor((rank - 1) *
  n / count) + 1`` with ``rank = row_number() over (order by value, customer_id)``; ``n`` is
  the top (most valuable) n-tile.
- ``value_tier`` walks from the top down (value descending, ``customer_id`` descending).
  ``share_before`` is the share of the total value held by the customers before this one;
  the customer belongs to the first tier whose ``share`` is greater than ``share_before``.
  So a tier with share 0.8 is the smallest set of top customers that together reach 80% of
  the value (the customer who crosses 80% is in it), as in an ABC analysis.  Negative values
  (returns larger than purchases) count as 0 in the shares.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import ibis

from segmint.segments._families_config import ValueTierSettings, require_columns
from segmint.segments._rfm import ntile_score

if TYPE_CHECKING:
    import ibis.expr.types as ir


def value_tiers(base: ir.Table, settings: ValueTierSettings | None = None) -> ir.Table:
    """Value n-tile and named tier of every customer with a value.

    Parameters
    ----------
    base
        The customer base: ``customer_id`` and the value column (``settings.column``).
    settings
        Column, number of n-tiles and named tiers; default deciles of ``monetary`` and
        gold / silver / bronze at 80% / 95% of the value.

    Returns
    -------
    ibis.Table
        ``customer_id, value_decile, value_tier``.  Customers whose value is null (or, with
        ``positive_only``, not above 0) have no row.
    """
    settings = settings or ValueTierSettings()
    require_columns(
        base,
        ("customer_id", settings.column),
        what="value_tiers (families.value_tiers.column)",
    )
    valued = base.select("customer_id", _value=base[settings.column].cast("float64"))
    keep = valued._value.notnull()
    if settings.positive_only:
        keep &= valued._value > 0
    valued = valued.filter(keep)

    cid = valued.customer_id
    weight = ibis.greatest(valued._value, 0.0)
    top_down = ibis.window(order_by=[ibis.desc(valued._value), ibis.desc(cid)], rows=(None, -1))
    total = weight.sum().over().nullif(0.0)
    ranked = valued.select(
        "customer_id",
        value_decile=ntile_score(valued._value, cid, settings.n),
        _share_before=weight.sum().over(top_down).fill_null(0.0) / total,
    )
    *upper, last = settings.tiers
    tier: ir.StringValue = ibis.literal(last.name, "string")
    if upper:
        tier = ibis.cases(*((ranked._share_before < t.share, t.name) for t in upper), else_=tier)
    return ranked.select("customer_id", "value_decile", value_tier=tier)
