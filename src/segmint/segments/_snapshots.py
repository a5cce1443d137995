"""Snapshots, deltas and history: what each run found, and what changed since the last.

Every run writes, in one unit of work:

``segment_snapshots`` (run_id, segment, customer_id)
    who was in each segment at that run (older runs pruned to ``keep_snapshots``);
``segment_deltas`` (run_id, as_of, segment, customer_id, change)
    ``entered`` / ``exited`` against the previous successful run (kept forever: the history
    of every customer and the feed for destinations that sync changes);
``segment_sizes`` (run_id, as_of, segment, size, entered, exited)
    the size of every segment over time.

The current membership is the snapshot of the latest successful run (:func:`run_members`):
the snapshot table is appended run by run, so reading one run of it is cheap, and a second
copy of every membership would double what each run writes.  A run that fails publishes
nothing: the previous snapshot stays the current one.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import ibis
import ibis.expr.types as ir

from segmint.engine import Engine

SNAPSHOTS = "segment_snapshots"
DELTAS = "segment_deltas"
SIZES = "segment_sizes"


def stack_members(members: Mapping[str, ir.Table]) -> ir.Table:
    """One table (segment, customer_id) from a distinct member table per segment."""
    parts = [
        m.select(
            segment=ibis.literal(name, type="string"), customer_id=m.customer_id.cast("string")
        )
        for name, m in members.items()
    ]
    if not parts:
        schema = ibis.schema({"segment": "string", "customer_id": "string"})
        return ibis.memtable({"segment": [], "customer_id": []}, schema=schema)
    # each member table is already distinct (rules end in .distinct(); family cells are
    # filters of the one-row-per-customer base), so a plain union keeps them so
    return ibis.union(*parts) if len(parts) > 1 else parts[0]


def run_members(engine: Engine, run_id: str | None) -> ir.Table | None:
    """Membership (segment, customer_id) at ``run_id``, if its snapshot is still stored."""
    if run_id is None or not engine.has_table(SNAPSHOTS):
        return None
    snap = engine.table(SNAPSHOTS)
    return snap.filter(snap.run_id == run_id).select("segment", "customer_id")


def deltas(current: ir.Table, previous: ir.Table | None) -> ir.Table:
    """Entered and exited (segment, customer_id, change) between two memberships.

    A segment that is new in this run has every member ``entered``; one that was removed
    from the project has every former member ``exited``.
    """
    if previous is None:
        return current.mutate(change=ibis.literal("entered"))
    before = previous.select(_segment=previous.segment, _customer_id=previous.customer_id)
    both = current.outer_join(
        before,
        [current.segment == before._segment, current.customer_id == before._customer_id],
    )
    # one full outer join: a row without a previous side entered, one without a current
    # side exited (segment and customer_id are never null)
    changed = both.filter(both.segment.isnull() | both._segment.isnull())
    return changed.select(
        segment=ibis.coalesce(changed.segment, changed._segment),
        customer_id=ibis.coalesce(changed.customer_id, changed._customer_id),
        change=ibis.ifelse(changed._segment.isnull(), "entered", "exited"),
    )


def sizes(current: ir.Table, changes: ir.Table, segments: list[str]) -> ir.Table:
    """Size, entered and exited per segment (segments with no members get a 0 row)."""
    size = current.group_by("segment").aggregate(size=current.count())
    moved = changes.group_by("segment").aggregate(
        entered=(changes.change == "entered").sum(),
        exited=(changes.change == "exited").sum(),
    )
    names = ibis.memtable({"segment": segments}, schema=ibis.schema({"segment": "string"}))
    joined = names.left_join(size, "segment").left_join(moved, "segment")
    return joined.select(
        segment=names.segment,
        size=joined["size"].fill_null(0).cast("int64"),
        entered=joined["entered"].fill_null(0).cast("int64"),
        exited=joined["exited"].fill_null(0).cast("int64"),
    )


def publish(
    engine: Engine,
    *,
    run_id: str,
    as_of: datetime,
    members: Mapping[str, ir.Table],
    previous_run: str | None,
) -> None:
    """Write snapshot, deltas and sizes of one run (``members``: segment -> member table).

    The snapshot is appended straight from the member tables, and the deltas and sizes
    are computed from them too: the stacked membership (millions of rows at a million
    customers) is written once, and of the stored snapshots only the previous run's is
    read.  Call inside ``engine.transaction()``: together with the run record these
    writes are one unit of work.
    """
    run = ibis.literal(run_id, type="string")
    at = ibis.literal(as_of, type="timestamp")

    def stamped(t: ir.Table, *columns: str) -> ir.Table:
        return t.select(run_id=run, as_of=at, **{c: t[c] for c in columns})

    current = stack_members(members)
    engine.append(
        SNAPSHOTS, current.select(run_id=run, segment="segment", customer_id="customer_id")
    )
    found = deltas(current, run_members(engine, previous_run))
    changes_name = engine.temp_name("run_deltas")
    engine.write(changes_name, found, temp=True)  # computed once: appended and counted
    try:
        changes = engine.table(changes_name)
        engine.append(DELTAS, stamped(changes, "segment", "customer_id", "change"))
        sized = sizes(current, changes, list(members))
        engine.append(SIZES, stamped(sized, "segment", "size", "entered", "exited"))
    finally:
        engine.drop(changes_name)


def prune_snapshots(engine: Engine, keep_runs: list[str]) -> None:
    """Keep the snapshots of ``keep_runs`` (deltas and sizes are never pruned).

    Pruning deletes rows (DuckDB) or rewrites the snapshot table (other engines), so it
    waits until twice as many runs are stored as are kept: the table holds between
    ``len(keep_runs)`` and twice that many runs.
    """
    if not engine.has_table(SNAPSHOTS):
        return
    snap = engine.table(SNAPSHOTS)
    stored = set(snap.select("run_id").distinct().to_pyarrow().column("run_id").to_pylist())
    if len(stored - set(keep_runs)) < max(len(keep_runs), 1):
        return  # not enough to prune yet: do not rewrite the table every run
    engine.keep_only(SNAPSHOTS, "run_id", keep_runs)


def has_snapshot(engine: Engine, run_id: str) -> bool:
    """Whether any membership of ``run_id`` is stored (its snapshot was not pruned)."""
    if not engine.has_table(SNAPSHOTS):
        return False
    snap = engine.table(SNAPSHOTS)
    return int(snap.filter(snap.run_id == run_id).limit(1).count().execute()) > 0


def cells_at(engine: Engine, run_id: str, prefix: str) -> ir.Table | None:
    """``(customer_id, cell)`` of a family at a run: its cell segments named ``prefix``-cell.

    None when the run's snapshot is no longer stored.
    """
    members = run_members(engine, run_id)
    if members is None:
        return None
    mine = members.filter(members.segment.startswith(prefix))
    return mine.select("customer_id", cell=mine.segment.substr(len(prefix)))


def members_at(engine: Engine, run_id: str, segment: str) -> ir.Table:
    """Members of ``segment`` at ``run_id``, rebuilt from deltas (works after pruning)."""
    d = engine.table(DELTAS)
    upto = d.filter((d.segment == segment) & (d.run_id <= run_id))
    last = upto.group_by("customer_id").aggregate(run_id=upto.run_id.max())
    latest = upto.semi_join(last, ["customer_id", "run_id"])
    return latest.filter(latest.change == "entered").select("customer_id")


def customer_history(engine: Engine, customer_id: str) -> ir.Table:
    """Every segment a customer entered or left, run by run."""
    d = engine.table(DELTAS)
    return d.filter(d.customer_id == customer_id).order_by(["run_id", "segment"])
