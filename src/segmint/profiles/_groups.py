"""Groups of customers to profile: a segment, a family cell, or a trait's value.

A group is written as a segment name (``vip``, ``rfm-champions``, ``tier-gold``) or as
``FIELD=VALUE`` for the customers whose attribute or trait has that value
(``region=Hovedstaden``, ``cluster=3``, ``macro_segment=price``).  Whatever its kind,
a group becomes rows ``(group, customer_id)`` of a membership table; the profile code
reads nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass

import ibis
import ibis.expr.types as ir

from segmint.exceptions import SegmentNotFoundError
from segmint.profiles._base import ProfileBase

#: the group name of the whole customer base in membership tables
BASE = "_base"  # no segment name starts with "_", every trait group has "="


@dataclass(frozen=True)
class Group:
    """A segment (``field`` is None) or the customers whose ``field`` equals ``value``."""

    name: str
    field: str | None = None
    value: str | None = None

    @property
    def kind(self) -> str:
        return "segment" if self.field is None else "trait"

    def to_dict(self) -> dict[str, str | None]:
        return {"name": self.name, "kind": self.kind, "field": self.field, "value": self.value}


def segment_names(pb: ProfileBase) -> list[str]:
    """The segments with a snapshot at the profile's run."""
    from segmint.segments import _snapshots as snapshots

    if not pb.engine.has_table(snapshots.SIZES):
        return []
    s = pb.engine.table(snapshots.SIZES)
    names = s.filter(s.run_id == pb.run_id).order_by("segment").segment.to_pyarrow()
    return [str(x) for x in names.to_pylist()]


def parse_group(text: str, pb: ProfileBase) -> Group:
    """``vip`` -> the segment; ``region=Hovedstaden`` -> a trait's value.

    Raises
    ------
    SegmentNotFoundError
        Neither a segment of the last run nor ``FIELD=VALUE`` of a known field.
    """
    from segmint.segments._parse import did_you_mean

    known = segment_names(pb)
    if text in known:
        return Group(text)
    field, sep, value = text.partition("=")
    field = field.strip()
    if sep and field in pb.table.columns:
        return Group(f"{field}={value.strip()}", field, value.strip())
    if sep:
        raise SegmentNotFoundError(
            f"no field {field!r} in the profile of the last run{did_you_mean(field, pb.fields)}"
        )
    raise SegmentNotFoundError(
        f"no segment {text!r} at the last run{did_you_mean(text, known)}; "
        "or write FIELD=VALUE for the customers whose trait has that value"
    )


def membership(pb: ProfileBase, groups: list[Group], *, base: bool = True) -> ir.Table:
    """``(group, customer_id)`` of every group (and of the whole base, as :data:`BASE`).

    Segment members outside the profile base (none, normally) are dropped by the joins
    that read this table, so every figure counts the same customers.
    """
    from segmint.segments import _snapshots as snapshots

    t = pb.table
    parts: list[ir.Table] = []
    if base:
        parts.append(t.select(group=ibis.literal(BASE), customer_id=t.customer_id))
    segments = [g.name for g in groups if g.field is None]
    if segments:
        snap = snapshots.run_members(pb.engine, pb.run_id)
        if snap is not None:
            mine = snap.filter(snap.segment.isin(segments))
            parts.append(mine.select(group=mine.segment, customer_id=mine.customer_id))
    for g in groups:
        if g.field is not None:
            hit = t.filter(t[g.field].cast("string") == g.value)
            parts.append(hit.select(group=ibis.literal(g.name), customer_id=hit.customer_id))
    if not parts:
        schema = ibis.schema({"group": "string", "customer_id": "string"})
        return ibis.memtable({"group": [], "customer_id": []}, schema=schema)
    return ibis.union(*parts) if len(parts) > 1 else parts[0]


def trait_values(pb: ProfileBase, field: str, limit: int = 50) -> list[Group]:
    """One group per value of ``field`` (most customers first), e.g. every cluster."""
    t = pb.table
    col = t[field].cast("string")
    known = t.filter(col.notnull())
    counts = (
        known.group_by(value=known[field].cast("string"))
        .aggregate(n=known.count())
        .order_by([ibis.desc("n"), "value"])
        .limit(limit)
    )
    return [Group(f"{field}={v}", field, str(v)) for v in counts.value.to_pyarrow().to_pylist()]
