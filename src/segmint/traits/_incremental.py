"""Incremental traits: a run recomputes the customer base only for persons it can change.

A scheduled run happens daily or hourly on a store where most persons have no new rows
since the previous run.  Every run keeps its *raw* customer base
(:func:`segmint.traits._base.raw_base`: attributes and aggregates, before what follows from
``as_of`` alone) in the store with a watermark, published with the run in one unit of
work.  The next run sorts persons three ways and
:func:`segmint.traits._base.complete_base` then adds recency, tenure, age, existence and
the empty values for everyone, as a full computation does.

*Recomputed* with the same :func:`raw_base`, restricted to all of their records:

* a person with a row of customers or of an activity table loaded after the watermark
  (the latest ``_loaded_at`` of that table at the kept run);
* the evaluation date moved from ``old`` to ``new`` and an activity row of the person has
  a date or time column in ``[old, new]`` (the cut, and an end date after ``as_of``), or
  in ``[old - w, new - w)`` for a window boundary ``w`` where a trait that is not a count
  or a sum has one (:func:`_windowed`: the built-in windows of
  :func:`segmint.traits._builtin.windowed`, every ``within`` / ``between`` of a declared
  trait);
* identity resolution moved one of its customer ids (the old and the new person both).

*Shifted*: a person whose only rows in such a slice are on boundaries of counts and sums
keeps its row, with each of those columns plus what its slice rows add at ``new`` minus
what they added at ``old`` (:func:`_shifts`; exact, as sums of float columns stay decimals
until :func:`complete_base`).  *Kept*: everyone else, unchanged.

Why that is exact: ``raw_base`` reads ``as_of`` only in row filters of those forms (the
cut, the windows, a subscription ending after ``as_of``, a deal closed in the year), so a
row outside every slice counts in the same reductions at ``new`` as at ``old``; a
recomputed person's row comes from the full code path over all of its records.

Whenever that reasoning does not hold, the run computes the base in full and says why
(:attr:`KeptBase.reason`): the first run, the traits settings or this module's format
changed, ``as_of`` earlier than the kept run's, a table appeared, went away or changed
columns, rows without ``_loaded_at`` (written outside ``segmint load``), fewer old rows
than the watermark counted (rows replaced by a re-load or deleted), a ``segmint forget``
since the kept run, orders that started or stopped having several lines, or more than
half of the persons to recompute (the full computation is then the cheaper one).  Only
DuckDB keeps a base (the run's unit of work updates it in place).

The kept raw base is an ordinary table (``trait_cache_raw_<id>``, with the identity map
``trait_cache_ids_<id>``); ``trait_caches`` records which one is current.  The full path
writes a new one; the incremental path changes the current one only when the run
publishes, in its unit of work (DELETE the recomputed persons' rows, UPDATE the shifted
columns, INSERT the new rows), so a run that fails leaves the kept base as it was.  The
next successful run drops kept tables no record points to.

Hand-written: no library keeps derived per-entity aggregates in step with appended rows
for arbitrary engines (DuckDB has no incremental materialised views; dbt's incremental
models append or merge by a key but do not find the keys a moving window changes).
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import ibis
import pyarrow as pa

from segmint.traits._activity import activity, merged_ids
from segmint.traits._base import raw_base, table_aggregates
from segmint.traits._builtin import one_line_per_order, windowed
from segmint.traits._catalogue import ACTIVITY_TABLES
from segmint.traits._config import TraitsConfig, parse_duration
from segmint.traits._declared import DAYS_SINCE, stamp_name

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from segmint.engine import Engine

#: the record of kept bases, one row per run that kept one; the newest is current
CACHES = "trait_caches"
#: prefix of the kept tables (raw base and identity map of one run)
PREFIX = "trait_cache_"
#: bump when raw_base's columns or meaning change: older kept bases are then not used
VERSION = 1
#: above this share of dirty persons the full computation is used (it is then cheaper)
MAX_DIRTY_SHARE = 0.5
CACHE_SCHEMA = pa.schema(
    [
        ("run_id", pa.string()),
        ("as_of", pa.timestamp("us")),
        ("raw_table", pa.string()),
        ("ids_table", pa.string()),
        ("state", pa.string()),
        ("path", pa.string()),
        ("reason", pa.string()),
        ("persons", pa.int64()),
        ("recomputed", pa.int64()),
        ("shifted", pa.int64()),
        ("seconds", pa.float64()),
    ]
)
_STAMP = "_loaded_at"
#: declared aggregates a moving window changes by the rows entering minus those leaving
ADDITIVE = frozenset({"count", "sum"})
#: a windowed column: its boundaries (how far before as_of) and whether it is additive
Window = tuple[set[timedelta], bool]


@dataclass
class KeptBase:
    """The raw base one run computed, how, and what to store so the next run can use it.

    ``path``: ``incremental`` or ``full``; ``reason``: why (in words, for the run report);
    ``recomputed``: persons whose raw row was computed (all of them on the full path);
    ``shifted``: persons whose kept row only had its windowed counts and sums moved.

    On the full path ``raw_table`` is a new stored table.  On the incremental path it is
    the kept table, left as it is until :meth:`publish`: ``raw`` reads it without the rows
    of the persons in work table ``changed``, with the windowed columns of others moved by
    the work table of ``shifts`` (:func:`_shifts`), plus the new rows in work table
    ``rows``.
    """

    raw: ir.Table
    path: str
    reason: str
    persons: int
    recomputed: int
    shifted: int
    seconds: float
    state: dict[str, Any]
    raw_table: str
    ids_table: str
    as_of: datetime
    changed: str | None = None
    rows: str | None = None
    shifts: list[tuple[str, list[str]]] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """What the run report says about the customer base."""
        return {
            "path": self.path,
            "reason": self.reason,
            "persons": self.persons,
            "recomputed": self.recomputed,
            "shifted": self.shifted,
            "seconds": round(self.seconds, 3),
        }

    def publish(self, engine: Engine, run_id: str) -> None:
        """Make this the kept base (call inside the run's unit of work: a failure before it
        commits leaves the kept table and its record as they were)."""
        if self.changed is not None and self.rows is not None:
            raw, q = engine.con.con, _quote(self.raw_table)
            raw.execute(
                f"DELETE FROM {q} WHERE customer_id IN (SELECT person_id FROM "
                f"{_quote(self.changed)})"
            )
            for moves, columns in self.shifts:
                sets = ", ".join(
                    f"{_quote(c)} = coalesce(coalesce({_quote(c)}, 0) + "
                    f"m.{_quote(_delta(c))}, {_quote(c)})"
                    for c in columns
                )
                raw.execute(
                    f"UPDATE {q} SET {sets} FROM {_quote(moves)} AS m "
                    f"WHERE {q}.customer_id = m._mid"
                )
            raw.execute(f"INSERT INTO {q} BY NAME SELECT * FROM {_quote(self.rows)}")
        row = {
            "run_id": run_id,
            "as_of": self.as_of,
            "raw_table": self.raw_table,
            "ids_table": self.ids_table,
            "state": json.dumps(self.state, sort_keys=True),
            **self.summary(),
        }
        engine.append(CACHES, pa.Table.from_pylist([row], schema=CACHE_SCHEMA))

    def prune(self, engine: Engine) -> None:
        """Drop kept tables no longer current (after the run has committed)."""
        current = _current(engine)
        keep = set() if current is None else {current["raw_table"], current["ids_table"]}
        for name in engine.con.list_tables():
            if name.startswith(PREFIX) and name not in keep:
                engine.drop(name)

    def discard(self, engine: Engine) -> None:
        """Drop the tables this run made to keep (the run failed; the previous kept base
        stays as it was)."""
        engine.drop(self.ids_table)
        if self.changed is None:
            engine.drop(self.raw_table)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def config_key(config: TraitsConfig) -> str:
    """A fingerprint of the traits settings and of this module's format."""
    settings = {"version": VERSION, "traits": config.model_dump(mode="json")}
    text = json.dumps(settings, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _current(engine: Engine) -> dict[str, Any] | None:
    if not engine.has_table(CACHES):
        return None
    c = engine.table(CACHES)
    rows = c.order_by(ibis.desc("run_id")).limit(1).to_pyarrow().to_pylist()
    return rows[0] if rows else None


def _tables(engine: Engine) -> list[str]:
    return [t for t in ("customers", *ACTIVITY_TABLES) if engine.has_table(t)]


def _columns(t: ir.Table) -> list[list[str]]:
    return [[c, str(dtype)] for c, dtype in t.schema().items()]


def _observe(engine: Engine, table: str, since: str | None) -> dict[str, Any]:
    """Columns, rows, latest ``_loaded_at``, rows without one, rows loaded up to ``since``."""
    t = engine.table(table)
    seen: dict[str, Any] = {"columns": _columns(t)}
    if _STAMP not in t.columns:
        return seen
    stamp = t[_STAMP].cast("timestamp")
    aggs: dict[str, ir.Value] = {
        "rows": t.count(),
        "loaded_max": stamp.max(),
        "unstamped": t.count(where=stamp.isnull()),
    }
    if since is not None:
        aggs["old_rows"] = t.count(where=stamp <= ibis.literal(datetime.fromisoformat(since)))
    row = t.aggregate(**aggs).to_pyarrow().to_pylist()[0]
    seen.update(
        rows=int(row["rows"]),
        unstamped=int(row["unstamped"]),
        loaded_max=None if row["loaded_max"] is None else row["loaded_max"].isoformat(),
    )
    if since is not None:
        seen["old_rows"] = int(row["old_rows"])
    return seen


def _erasures(engine: Engine) -> int:
    return engine.count("erasures")


def _windowed(table: str, config: TraitsConfig, one_line: bool) -> dict[str, Window]:
    """Raw columns of ``table`` with a window boundary before ``as_of``: built-in and
    declared (``within`` / ``between``); name -> (boundaries, additive)."""
    out = dict(windowed(table, config.windows, one_line=one_line))
    for d in config.declared:
        offsets: set[timedelta] = set()
        if d.source == table and d.within is not None:
            offsets.add(parse_duration(d.within))
        if d.source == table and d.between is not None:
            offsets |= {parse_duration(d.between[0]), parse_duration(d.between[1])}
        if offsets:
            name = stamp_name(d.name) if d.aggregate in DAYS_SINCE else d.name
            out[name] = (offsets, d.aggregate in ADDITIVE)
    return out


def _boundaries(table: str, config: TraitsConfig, one_line: bool) -> dict[timedelta, bool]:
    """Every boundary of ``table``'s traits (how far before ``as_of``) -> whether only
    additive columns have one there.  0, the cut itself, changes every trait."""
    out = {timedelta(0): False}
    for offsets, additive in _windowed(table, config, one_line).values():
        for w in offsets:
            out[w] = out.get(w, True) and additive
    return out


def _on_boundary(
    t: ir.Table, offsets: list[timedelta], old_cut: datetime, cut: datetime
) -> ir.BooleanValue:
    """Rows with a date or time column in the slice a boundary crossed from old_cut to cut."""
    cond: ir.BooleanValue = ibis.literal(False)
    if cut <= old_cut:
        return cond
    times = [c for c, dtype in t.schema().items() if dtype.is_temporal() and c.isidentifier()]
    for w in sorted(offsets):
        lo, hi = ibis.literal(old_cut - w), ibis.literal(cut - w)
        for c in (c for c in times if not c.startswith("_")):
            value = t[c].cast("timestamp")
            # a window start or end (time >= / < as_of - w) changes in [lo, hi); the cut
            # itself also for an end date after it (end > as_of): (lo, hi]
            inside = value <= hi if w == timedelta(0) else value < hi
            cond = cond | ((value >= lo) & inside)
    return cond


def _why_not(
    engine: Engine, kept: dict[str, Any] | None, config: TraitsConfig, cut: datetime
) -> tuple[str | None, dict[str, Any]]:
    """The reason the kept base cannot be used (None: it can) and the new run's state."""
    old = json.loads(kept["state"]) if kept else None
    old_tables: dict[str, Any] = old.get("tables", {}) if old else {}
    state: dict[str, Any] = {
        "config": config_key(config),
        "as_of": cut.isoformat(),
        "one_line": one_line_per_order(engine),
        "erasures": _erasures(engine),
        "tables": {},
    }
    for table in _tables(engine):
        before = old_tables.get(table, {}).get("loaded_max")
        state["tables"][table] = _observe(engine, table, before)
    if old is None or kept is None:
        return "no kept customer base (first run)", state
    if not (engine.has_table(kept["raw_table"]) and engine.has_table(kept["ids_table"])):
        return "the kept customer base is missing from the store", state
    if old.get("config") != state["config"]:
        return "the traits settings (or segmint's kept-base format) changed", state
    if cut < datetime.fromisoformat(old["as_of"]):
        return f"as-of {cut:%Y-%m-%d %H:%M} is before the kept run's {old['as_of']}", state
    if old["erasures"] != state["erasures"]:
        return "a person was erased ('segmint forget') since the kept run", state
    if old["one_line"] != state["one_line"]:
        return "orders started or stopped having several lines", state
    for table in sorted(set(old_tables) | set(state["tables"])):
        then, now = old_tables.get(table), state["tables"].get(table)
        if then is None or now is None:
            return f"table {table} {'appeared' if then is None else 'went away'}", state
        if then["columns"] != now["columns"]:
            return f"the columns of {table} changed", state
        if "rows" not in now:
            return f"{table} has no {_STAMP} column (not loaded by 'segmint load')", state
        if now["unstamped"]:
            return f"{now['unstamped']:,} rows of {table} have no {_STAMP}", state
        if now.get("old_rows", 0) != then["rows"]:
            return (
                f"{table} holds {now.get('old_rows', 0):,} of the {then['rows']:,} rows the "
                f"kept run saw (rows replaced by a re-load, or deleted)"
            ), state
    return None, state


def _dirty_ids(
    engine: Engine,
    config: TraitsConfig,
    old: dict[str, Any],
    old_cut: datetime,
    cut: datetime,
    *,
    additive: bool,
) -> ir.Table:
    """Customer ids with a row loaded since the watermark or on a crossed boundary where a
    non-additive trait changes (``additive``: only on boundaries of additive ones)."""
    parts: list[ir.Table] = []
    one_line = bool(old["one_line"])
    for table in _tables(engine):
        t = engine.table(table)
        cond: ir.BooleanValue = ibis.literal(False)
        if not additive:
            loaded_max = old["tables"][table]["loaded_max"]
            stamp = t[_STAMP].cast("timestamp")
            cond = (
                ibis.literal(True)
                if loaded_max is None
                else stamp > ibis.literal(datetime.fromisoformat(loaded_max))
            )
        if table != "customers":  # attributes do not depend on as_of
            kinds = _boundaries(table, config, one_line)
            offsets = [w for w, add in kinds.items() if add == additive]
            cond = cond | _on_boundary(t, offsets, old_cut, cut)
        rows = t.filter(cond)
        parts.append(rows.select(customer_id=rows.customer_id.cast("string")))
    return ibis.union(*parts, distinct=True)


def _persons(ids: ir.Table, merged: ir.Table) -> ir.Table:
    """``person_id`` of each customer id (merged: identity resolution's non-trivial map)."""
    ids = ids.left_join(merged, ids.customer_id == merged.customer_id)
    return ids.select(person_id=ibis.coalesce(ids.person_id, ids.customer_id))


def _records(persons: ir.Table, merged: ir.Table) -> ir.Table:
    """Every customer id of these persons."""
    own = persons.select(customer_id=persons.person_id)
    others = merged.semi_join(persons, merged.person_id == persons.person_id)
    return own.union(others.select("customer_id"), distinct=True)


def _delta(column: str) -> str:
    return f"_d_{column}"


def _shifts(
    engine: Engine,
    config: TraitsConfig,
    persons: ir.Table,
    old_cut: datetime,
    cut: datetime,
    one_line: bool,
    keep: Callable[[ir.Table], ir.Table],
    kept_columns: list[str],
) -> list[tuple[str, list[str]]]:
    """How every additive windowed column of ``persons`` (no row of theirs changed, none
    on the cut or a non-additive boundary) moves from ``old_cut`` to ``cut``: what their
    rows on a crossed boundary add at ``cut`` minus what they added at ``old_cut`` (exact:
    counts, and sums taken as decimals).

    One work table ``(_mid, _d_<column>...)`` for all activity tables together, and its
    columns: a person's moves of each table are combined into one row, so the kept rows are
    joined (and updated) once, not once per table (each join built a hash table of the
    shifted persons' wide rows).  A delta is null where the person had no move in that
    table: the column keeps its value (a null stays null); it is never null otherwise."""
    parts: list[tuple[ir.Table, list[str]]] = []
    for table in _tables(engine):
        columns = [
            name
            for name, (_, additive) in _windowed(table, config, one_line).items()
            if additive and name in kept_columns
        ]
        t = activity(engine, table, cut) if columns else None
        if t is None:
            continue
        offsets = [w for w, add in _boundaries(table, config, one_line).items() if add]
        t = t.filter(_on_boundary(t, offsets, old_cut, cut))
        t = t.semi_join(persons, t.customer_id == persons.person_id)
        now = table_aggregates(t, table, config, cut, one_line=one_line)
        then = table_aggregates(t, table, config, old_cut, one_line=one_line)
        moves = t.group_by(_mid=t.customer_id).agg(
            **{_delta(c): now[c].fill_null(0) - then[c].fill_null(0) for c in columns}
        )
        parts.append((moves, columns))
    if not parts:
        return []
    columns = [c for _, more in parts for c in more]
    types = {_delta(c): moves[_delta(c)].type() for moves, more in parts for c in more}
    if len(parts) == 1:
        return [(keep(parts[0][0]).get_name(), columns)]
    # every table's moves with every delta column (null where not its own), one row per
    # person: a column has one value, its table's delta, or none without a move there
    # (``max`` keeps the column's type, where a sum of integers would widen it)
    aligned = [
        moves.select(
            "_mid",
            **{
                d: moves[d] if d in moves.columns else ibis.null().cast(dtype)
                for d, dtype in types.items()
            },
        )
        for moves, _ in parts
    ]
    stacked = ibis.union(*aligned)
    combined = stacked.group_by("_mid").agg(**{d: stacked[d].max() for d in types})
    return [(keep(combined).get_name(), columns)]


def _shifted(engine: Engine, rows: ir.Table, shifts: list[tuple[str, list[str]]]) -> ir.Table:
    """``rows`` with the moves of :func:`_shifts` added (what :meth:`KeptBase.publish`
    does to the kept table with an UPDATE)."""
    schema = rows.schema()
    for name, columns in shifts:
        moves = engine.table(name)
        joined = rows.left_join(moves, rows.customer_id == moves._mid)
        # no move (no row in moves, or none from this column's table): the value as kept
        moved = {
            c: ibis.coalesce(joined[c].fill_null(0) + joined[_delta(c)], joined[c]).cast(schema[c])
            for c in columns
        }
        rows = joined.select(*(moved.get(c, joined[c]).name(c) for c in schema))
    return rows


def _moved(engine: Engine, ids_table: str) -> ir.Table:
    """``person_id`` of both the old and the new person of every re-mapped customer id."""
    old = engine.table(ids_table)
    old = old.select(_c=old.customer_id, _p0=old.person_id)
    new = merged_ids(engine)
    j = old.outer_join(new, old._c == new.customer_id)
    cid = ibis.coalesce(j._c, j.customer_id)
    before, after = ibis.coalesce(j._p0, cid), ibis.coalesce(j.person_id, cid)
    changed = j.filter(before != after).select(_before=before, _after=after)
    return changed.select(person_id=changed._before).union(
        changed.select(person_id=changed._after), distinct=True
    )


def run_base(
    engine: Engine,
    config: TraitsConfig,
    cut: datetime,
    keep: Callable[[ir.Table], ir.Table],
) -> KeptBase:
    """The raw customer base of a run as of ``cut``: from the kept one where that is exact,
    else in full (see the module docstring).  Call :meth:`KeptBase.publish` in the run's
    unit of work and :meth:`KeptBase.prune` after it, or :meth:`KeptBase.discard`.

    ``keep`` materialises a work table the run drops when it ends.
    """
    clock = time.perf_counter()
    kept = _current(engine)
    reason, state = _why_not(engine, kept, config, cut)
    tag = uuid.uuid4().hex[:12]
    ids_name = f"{PREFIX}ids_{tag}"
    merged = merged_ids(engine)
    found: KeptBase | None = None
    if reason is None:
        assert kept is not None
        found, reason = _incremental(engine, config, cut, keep, kept, merged, state)
    if found is None:
        raw_name = f"{PREFIX}raw_{tag}"
        engine.write(raw_name, raw_base(engine, config, cut))
        raw = engine.table(raw_name)
        state["persons"] = int(raw.count().execute())
        found = KeptBase(
            raw=raw,
            path="full",
            reason=reason or "",
            persons=state["persons"],
            recomputed=state["persons"],
            shifted=0,
            seconds=0.0,
            state=state,
            raw_table=raw_name,
            ids_table=ids_name,
            as_of=cut,
        )
    engine.write(ids_name, merged)
    found.ids_table = ids_name
    found.seconds = time.perf_counter() - clock
    return found


def _incremental(
    engine: Engine,
    config: TraitsConfig,
    cut: datetime,
    keep: Callable[[ir.Table], ir.Table],
    kept: dict[str, Any],
    merged: ir.Table,
    state: dict[str, Any],
) -> tuple[KeptBase | None, str | None]:
    """The incremental raw base, or None and why the full computation is the better one."""
    old = json.loads(kept["state"])
    old_cut = datetime.fromisoformat(old["as_of"])
    ids = _dirty_ids(engine, config, old, old_cut, cut, additive=False)
    moved = _moved(engine, kept["ids_table"])
    persons = keep(_persons(ids, merged).union(moved, distinct=True))
    recomputed = int(persons.count().execute())
    total = int(old["persons"])
    if recomputed > MAX_DIRTY_SHARE * max(total, 1):
        return None, f"{recomputed:,} of {total:,} persons changed: the full computation is cheaper"
    old_raw = engine.table(kept["raw_table"])
    windows = _dirty_ids(engine, config, old, old_cut, cut, additive=True)
    shifting = keep(_persons(windows, merged).distinct().anti_join(persons, "person_id"))
    shifted = int(shifting.count().execute())
    records = keep(_records(persons, merged))
    fresh = raw_base(engine, config, cut, restrict=records, keep=keep)
    # the same types as stored (a stored timestamp reads back with its precision)
    rows = keep(fresh.cast(old_raw.schema()).select(old_raw.columns))
    one_line = bool(old["one_line"])
    shifts = (
        _shifts(engine, config, shifting, old_cut, cut, one_line, keep, old_raw.columns)
        if shifted
        else []
    )
    stay = old_raw.anti_join(persons, old_raw.customer_id == persons.person_id)
    if shifts:
        # only the shifted persons' rows are joined with their moves: a join of every kept
        # row let DuckDB build its hash table from the million wide rows (1-2 s a run)
        on = stay.customer_id == shifting.person_id
        moved = _shifted(engine, stay.semi_join(shifting, on), shifts)
        raw = ibis.union(stay.anti_join(shifting, on), moved, rows)
    else:
        raw = stay.union(rows)
    # the kept rows less the recomputed persons', plus their new rows: a count of the
    # union itself runs its anti-joins over the million kept rows (0.14 s)
    replaced = old_raw.semi_join(persons, old_raw.customer_id == persons.person_id)
    kept_rows = int(old_raw.count().execute())  # a stored table's count: no scan
    state["persons"] = kept_rows - int(replaced.count().execute()) + int(rows.count().execute())
    found = KeptBase(
        raw=raw,
        path="incremental",
        reason=_incremental_reason(state, kept),
        persons=state["persons"],
        recomputed=recomputed,
        shifted=shifted,
        seconds=0.0,
        state=state,
        raw_table=kept["raw_table"],
        ids_table="",
        as_of=cut,
        changed=persons.get_name(),
        rows=rows.get_name(),
        shifts=shifts,
    )
    return found, None


def _incremental_reason(state: dict[str, Any], kept: dict[str, Any] | None) -> str:
    assert kept is not None
    return f"from the kept base of run {kept['run_id']} (as of {kept['as_of']:%Y-%m-%d %H:%M})"


def describe(how: dict[str, Any]) -> str:
    """How a run computed its customer base, in words (``RunResult.traits``)."""
    if how.get("path") == "incremental":
        return (
            f"incremental, {how['recomputed']:,} of {how['persons']:,} persons recomputed and "
            f"{how.get('shifted', 0):,} with only their window counts and sums moved, "
            f"{how['reason']} in {how['seconds']:.1f} s"
        )
    return f"computed in full: {how.get('reason', '')}"
