"""Mutually exclusive assignment: each customer goes to the first segment, by priority, it is in.

One expression for any number of segments and customers: the member tables are stacked
with their position in the priority list, the smallest position per customer wins, and a
CASE turns it back into the segment name.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import ibis

from segmint.exceptions import ConfigError
from segmint.segments._families_config import require_columns

if TYPE_CHECKING:
    import ibis.expr.types as ir


def assign_exclusive(members: Mapping[str, ir.Table], priority: Sequence[str]) -> ir.Table:
    """Assign every customer in any of ``members`` to exactly one segment.

    Parameters
    ----------
    members
        Segment name -> a table with its members' ``customer_id`` (other columns and
        repeated ids are ignored).
    priority
        Every segment of ``members``, once each, the most important first.

    Returns
    -------
    ibis.Table
        ``customer_id, segment``: one row per customer, with the first segment in
        ``priority`` that the customer belongs to.

    Raises
    ------
    ConfigError
        If ``priority`` is empty, repeats a segment, names one without a member table, or
        leaves one of ``members`` out.
    """
    _check_priority(members, priority)
    stacked = ibis.union(
        *(
            members[name].select(
                customer_id=members[name].customer_id, _priority=ibis.literal(i, "int32")
            )
            for i, name in enumerate(priority)
        ),
        distinct=False,
    )
    first = stacked.group_by("customer_id").aggregate(_priority=stacked._priority.min())
    segment = ibis.cases(*((first._priority == i, name) for i, name in enumerate(priority)))
    return first.select("customer_id", segment=segment)


def _check_priority(members: Mapping[str, ir.Table], priority: Sequence[str]) -> None:
    if not priority:
        raise ConfigError("exclusive assignment needs a priority list with at least one segment")
    if dupes := sorted({p for p in priority if list(priority).count(p) > 1}):
        raise ConfigError(f"priority lists a segment more than once: {', '.join(dupes)}")
    known = list(members)
    for i, name in enumerate(priority):
        if name not in members:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f"; known: {', '.join(known)}"
            raise ConfigError(f"priority[{i}]: no member table for segment {name!r}{hint}")
    if left_out := [m for m in known if m not in priority]:
        raise ConfigError(
            f"segment(s) {', '.join(map(repr, left_out))} have members but no place in the "
            "priority list; add them to it or leave them out of members"
        )
    for name in priority:
        require_columns(members[name], ("customer_id",), what=f"members of segment {name!r}")
