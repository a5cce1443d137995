"""Snapshots, deltas and history: what each run found, and what changed since the last.

Every run writes, in one unit of work:

``segment_memberships`` (segment, customer_id, from_run, to_run)
    who was in each segment at every stored run, as spans: a customer is a member at run
    ``r`` when ``from_run <= r`` and ``to_run`` is null (still a member) or after ``r``.
    A run adds a span for each customer who entered a segment and closes the span of each
    who left it: a daily run at a million customers writes the few thousand changes, not
    the millions of unchanged memberships (7.1M rows, some 2 s a run, when every run
    stored its whole snapshot);
``segment_snapshot_runs`` (run_id)
    the runs whose snapshot the spans still hold (older runs pruned to ``keep_snapshots``);
``segment_deltas`` (run_id, as_of, segment, customer_id, change)
    ``entered`` / ``exited`` against the previous successful run (kept forever: the history
    of every customer and the feed for destinations that sync changes);
``segment_sizes`` (run_id, as_of, segment, size, entered, exited)
    the size of every segment over time.

Run ids sort in the order runs were published (:func:`segmint.runs.new_run_id`), which is
what makes a span's bounds comparable.  The current membership is the snapshot of the
latest successful run (:func:`run_members`): its open spans.  A run that fails publishes
nothing: the previous snapshot stays the current one.

A store written before spans (one ``segment_snapshots`` row per run, segment and member)
is converted on its next run: the latest stored run becomes the open spans.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import ibis
import ibis.expr.types as ir

from segmint.engine import Engine

MEMBERSHIPS = "segment_memberships"
SNAPSHOT_RUNS = "segment_snapshot_runs"
DELTAS = "segment_deltas"
SIZES = "segment_sizes"
#: the table of whole snapshots, one row per run, segment and member, before spans
LEGACY_SNAPSHOTS = "segment_snapshots"


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


def snapshot_runs(engine: Engine) -> list[str]:
    """The runs whose snapshot is stored, oldest first."""
    if not engine.has_table(SNAPSHOT_RUNS):
        return []
    runs = engine.table(SNAPSHOT_RUNS).run_id.to_pyarrow().to_pylist()
    return sorted(str(r) for r in runs)


def _at(spans: ir.Table, run_id: str) -> ir.Table:
    """The spans covering ``run_id``, as (segment, customer_id)."""
    run = ibis.literal(run_id, type="string")
    open_at = (spans.from_run <= run) & (spans.to_run.isnull() | (spans.to_run > run))
    return spans.filter(open_at).select("segment", "customer_id")


def run_members(engine: Engine, run_id: str | None) -> ir.Table | None:
    """Membership (segment, customer_id) at ``run_id``; None if its snapshot is not stored."""
    if run_id is None or not engine.has_table(MEMBERSHIPS) or run_id not in snapshot_runs(engine):
        return None
    return _at(engine.table(MEMBERSHIPS), run_id)


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


def sizes(members: Mapping[str, ir.Table], changes: ir.Table) -> ir.Table:
    """Size, entered and exited per segment (segments with no members get a 0 row).

    Each member table is counted on its own (a stored table's count is read, not scanned;
    a family cell's is a filter of one column of the base), not the 7.1M memberships of
    all segments stacked and grouped again, as at a million customers.
    """
    names = ibis.memtable({"segment": list(members)}, schema=ibis.schema({"segment": "string"}))
    counts = [
        m.aggregate(segment=ibis.literal(name, type="string"), size=m.count())
        for name, m in members.items()
    ]
    size = ibis.union(*counts) if counts else names.mutate(size=ibis.literal(0, type="int64"))
    moved = changes.group_by("segment").aggregate(
        entered=(changes.change == "entered").sum(),
        exited=(changes.change == "exited").sum(),
    )
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

    The deltas are found against the open spans (the previous run's membership, read
    once), written once to a work table, and the spans change by them alone: a span for
    each ``entered``, ``to_run`` set on the open span of each ``exited``.  ``run_id`` must
    sort after every stored run.  Call inside ``engine.transaction()``: together with the
    run record these writes are one unit of work.
    """
    run = ibis.literal(run_id, type="string")
    at = ibis.literal(as_of, type="timestamp")

    def stamped(t: ir.Table, *columns: str) -> ir.Table:
        return t.select(run_id=run, as_of=at, **{c: t[c] for c in columns})

    _convert_legacy(engine)
    current = stack_members(members)
    previous = run_members(engine, previous_run)
    if previous is None and engine.has_table(MEMBERSHIPS):
        # spans of a run that is not the previous successful one (its record was lost):
        # they end here, and every current member enters
        _close(engine, engine.table(MEMBERSHIPS).select("segment", "customer_id"), run_id)
    found = deltas(current, previous)
    changes_name = engine.temp_name("run_deltas")
    engine.write(changes_name, found, temp=True)  # computed once: appended and counted
    try:
        changes = engine.table(changes_name)
        engine.append(DELTAS, stamped(changes, "segment", "customer_id", "change"))
        sized = sizes(members, changes)
        engine.append(SIZES, stamped(sized, "segment", "size", "entered", "exited"))
        entered = changes.filter(changes.change == "entered")
        engine.append(
            MEMBERSHIPS,
            entered.select(
                segment=entered.segment,
                customer_id=entered.customer_id,
                from_run=run,
                to_run=ibis.null().cast("string"),
            ),
        )
        exited = changes.filter(changes.change == "exited")
        _close(engine, exited.select("segment", "customer_id"), run_id)
        engine.append(SNAPSHOT_RUNS, _runs_table([run_id]))
    finally:
        engine.drop(changes_name)


def _runs_table(run_ids: list[str]) -> ir.Table:
    return ibis.memtable({"run_id": run_ids}, schema=ibis.schema({"run_id": "string"}))


def _close(engine: Engine, keys: ir.Table, run_id: str) -> None:
    """End at ``run_id`` the open spans of these (segment, customer_id) pairs."""
    if int(keys.limit(1).count().execute()):
        engine.update_matched(
            MEMBERSHIPS, keys, on=("segment", "customer_id"), column="to_run", value=run_id
        )


def _convert_legacy(engine: Engine) -> None:
    """Turn a store's whole snapshots (before spans) into the spans of its latest run."""
    if not engine.has_table(LEGACY_SNAPSHOTS):
        return
    if not engine.has_table(MEMBERSHIPS):
        old = engine.table(LEGACY_SNAPSHOTS)
        latest = old.run_id.max().execute()
        if latest is not None and latest == latest:  # NaN-safe: an empty table
            rows = old.filter(old.run_id == latest)
            engine.write(
                MEMBERSHIPS,
                rows.select(
                    segment=rows.segment.cast("string"),
                    customer_id=rows.customer_id.cast("string"),
                    from_run=rows.run_id.cast("string"),
                    to_run=ibis.null().cast("string"),
                ),
            )
            engine.write(SNAPSHOT_RUNS, _runs_table([str(latest)]))
    engine.drop(LEGACY_SNAPSHOTS)


def prune_snapshots(engine: Engine, keep_runs: list[str]) -> None:
    """Keep the snapshots of ``keep_runs`` and later (deltas and sizes are never pruned).

    The spans that ended at or before the oldest kept run are deleted (DuckDB) or the
    table is rewritten without them (other engines), so pruning waits until twice as many
    runs are stored as are kept: the spans hold between ``len(keep_runs)`` and twice that
    many runs.
    """
    stored = snapshot_runs(engine)
    if not stored or not keep_runs:
        return
    oldest = min(keep_runs)
    gone = [r for r in stored if r < oldest]
    if len(gone) < max(len(keep_runs), 1):
        return  # not enough to prune yet: do not rewrite the tables every run
    spans = engine.table(MEMBERSHIPS)
    ended = spans.filter(spans.to_run <= ibis.literal(oldest, type="string")).select("to_run")
    ends = ended.distinct().to_pyarrow().column("to_run").to_pylist()
    engine.delete_in(MEMBERSHIPS, "to_run", ends)
    engine.delete_in(SNAPSHOT_RUNS, "run_id", gone)


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
