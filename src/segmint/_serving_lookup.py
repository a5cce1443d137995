"""The customer lookup of a serving replica: Arrow files beside it, read memory-mapped.

``GET /api/v1/customers/{id}`` answers a person's records, traits and scores, current
segments and history. Publishing a replica writes, in the folder ``<stamp>.lookup`` beside
``<stamp>.duckdb``, the store's own values in binary form (no JSON text is made for anyone
ahead of time), so that a customer id is one or two binary searches from its person:

``keys.arrow`` (one row per person, sorted by person id)
    the person id, the row of their traits, the rows of their records, and their *codes*:
    one small integer per current segment (its number) and per history entry;
``traits.arrow``
    ``customer_traits`` as the store hands it over;
``records.arrow``
    the source records (``customers``) of every person's customer ids, likewise (records
    are put in order by customer id and source when a person is answered);
``aliases.arrow`` (sorted by customer id)
    every customer id merged into another person, and that person's row in ``keys``;
``dims.json``
    what the codes stand for: runs (id, as-of), segment names, changes.

A history code is ``(run * segments + segment) * changes + change``, runs in run id order
and segments by name, so a person's sorted codes are their history by run and segment, as
``segmint customer`` lists it; current segments are the latest successful run's snapshot.

Why not DuckDB for this: a point query through an ART index fetches a row column by column
(about 20 microseconds a column: 1.5 ms for the 58 columns of ``customer_traits``), an
index over the 12 million rows of ``segment_deltas`` took 41 s to build and grouping
them into lists per person 36 s, and rendering every person's JSON ahead of time made a
replica five times the store. Sorting integer codes with NumPy and writing Arrow files the
store hands over in binary costs a few seconds, and a lookup is then a few binary searches
and one ``json.dumps`` in the server process (the files are shared by its workers through
the page cache). Arrow has no binary search over strings, so :class:`_SortedKeys` is a
small one over the file's own buffers.
"""

from __future__ import annotations

import bisect
import json
import math
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

KEYS = "keys.arrow"
TRAITS = "traits.arrow"
RECORDS = "records.arrow"
ALIASES = "aliases.arrow"
DIMS = "dims.json"
_SLOT = "_serving_slot"  # the person's row, a column only while records are sorted


def _tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    rows = con.execute("SELECT table_name FROM information_schema.tables").fetchall()
    return {r[0] for r in rows}


def _write(path: Path, table: pa.Table) -> None:
    import pyarrow as pa

    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)


def _arrow(con: duckdb.DuckDBPyConnection, sql: str, params: Any = None) -> pa.Table:
    return con.execute(sql, params).to_arrow_table()


def build(con: duckdb.DuckDBPyConnection, folder: Path, *, run_id: str | None) -> int:
    """Write the lookup files of the database open on ``con`` (a replica being published)
    into ``folder``; returns the number of persons.

    Files are written, and codes sorted, on a second thread while DuckDB runs the next
    query (both let go of the GIL)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="segmint-lookup") as pool:
        return _build(con, folder, run_id, pool)


def _build(con: duckdb.DuckDBPyConnection, folder: Path, run_id: str | None, pool: Any) -> int:
    import numpy as np
    import pyarrow as pa

    have = _tables(con)
    folder.mkdir(parents=True, exist_ok=True)
    # the persons: every person of a customer id, and every person with traits (a person
    # merged away since the last run keeps their traits until the next one)
    people = []
    if "identities" in have:
        people.append("SELECT person_id::VARCHAR AS pid FROM identities")
    elif "customers" in have:
        people.append("SELECT customer_id::VARCHAR AS pid FROM customers")
    if "customer_traits" in have:
        people.append("SELECT customer_id::VARCHAR AS pid FROM customer_traits")
    if not people:
        people.append("SELECT NULL::VARCHAR AS pid")
    con.execute(
        "CREATE TEMP TABLE _serving_p AS SELECT pid, "
        "(row_number() OVER (ORDER BY pid) - 1)::BIGINT AS slot "
        f"FROM (SELECT DISTINCT pid FROM ({' UNION '.join(people)}) WHERE pid IS NOT NULL)"
    )
    keys = _arrow(con, "SELECT pid FROM _serving_p ORDER BY slot")
    n = keys.num_rows
    written = []

    # records and traits are written in the order the join hands them over (sorting
    # wide rows costs more than it saves); each person keeps their row numbers
    records = pa.table({"customer_id": pa.array([], pa.string())})
    record_rows = _lists(np.zeros(0, np.int64), n)
    if "customers" in have:
        if "identities" in have:
            src = (
                "customers c JOIN identities i ON i.customer_id = c.customer_id "
                "JOIN _serving_p p ON p.pid = i.person_id::VARCHAR"
            )
        else:
            src = "customers c JOIN _serving_p p ON p.pid = c.customer_id::VARCHAR"
        records = _arrow(con, f"SELECT p.slot AS {_SLOT}, c.* FROM {src}")
        record_rows = _lists(records.column(_SLOT).to_numpy(), n)
        records = records.drop_columns([_SLOT])
    written.append(pool.submit(_write, folder / RECORDS, records))
    del records

    traits_row = np.full(n, -1, dtype=np.int64)
    traits = pa.table({"customer_id": pa.array([], pa.string())})
    if "customer_traits" in have:
        traits = _arrow(
            con,
            f"SELECT p.slot AS {_SLOT}, t.* FROM customer_traits t "
            "JOIN _serving_p p ON p.pid = t.customer_id::VARCHAR",
        )
        # a person with two rows of traits (never made by a run) shows the last one
        traits_row[traits.column(_SLOT).to_numpy()] = np.arange(traits.num_rows)
        traits = traits.drop_columns([_SLOT])
    written.append(pool.submit(_write, folder / TRAITS, traits))
    del traits

    aliases = pa.table({"customer_id": pa.array([], pa.string()), "slot": pa.array([], pa.int64())})
    if "identities" in have:
        aliases = _arrow(
            con,
            "SELECT i.customer_id::VARCHAR AS customer_id, p.slot FROM identities i "
            "JOIN _serving_p p ON p.pid = i.person_id::VARCHAR "
            "WHERE i.customer_id::VARCHAR <> p.pid ORDER BY 1",
        )
    written.append(pool.submit(_write, folder / ALIASES, aliases))

    dims, segments, history = _codes(con, have, run_id, n, pool)
    keys = (
        keys.append_column("traits", pa.array(traits_row))
        .append_column("records", record_rows)
        .append_column("segments", segments.result())
        .append_column("history", history.result())
    )
    _write(folder / KEYS, keys)
    (folder / DIMS).write_text(json.dumps(dims), encoding="utf-8")
    for done in written:
        done.result()
    con.execute("DROP TABLE _serving_p")
    return n


def _lists(slots: Any, n: int) -> pa.ListArray:
    """Per person (``n`` of them), the row numbers whose slot is theirs, in row order."""
    import numpy as np
    import pyarrow as pa

    order = np.argsort(slots, kind="stable").astype(np.int32)
    offsets = np.searchsorted(slots[order], np.arange(n + 1)).astype(np.int64)
    return pa.ListArray.from_arrays(pa.array(offsets), pa.array(order))


def _grouped(k: Any, n: int) -> pa.ListArray:
    """Codes (``slot << 32 | code``) as a sorted list per person (``n`` of them)."""
    import numpy as np
    import pyarrow as pa

    k.sort()
    offsets = np.searchsorted(k >> 32, np.arange(n + 1)).astype(np.int64)
    codes = (k & 0xFFFFFFFF).astype(np.int32)
    return pa.ListArray.from_arrays(pa.array(offsets), pa.array(codes))


def _keys(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any]) -> Any:
    import numpy as np

    return np.asarray(con.execute(sql, params).fetchnumpy()["k"], dtype=np.int64)


#: the spans of ``segment_memberships`` that cover run ``$run`` (see segments/_snapshots.py)
_AT = "from_run <= $run AND (to_run IS NULL OR to_run > $run)"


def _codes(
    con: duckdb.DuckDBPyConnection,
    have: set[str],
    run_id: str | None,
    n: int,
    pool: Any,
    *,
    scan_snapshot: bool = False,
) -> tuple[dict[str, Any], Any, Any]:
    """Dimensions, and (futures of) the codes of every person's current segments and
    history entries. The segments of the latest snapshot are read from its size rows
    (a run writes one for each of its segments); ``scan_snapshot`` reads the snapshot
    itself, for a store where they disagree."""
    from concurrent.futures import Future

    import numpy as np
    import pyarrow as pa

    deltas = "segment_deltas" in have
    snapshot = run_id is not None and "segment_memberships" in have
    # one pass over the deltas for their dimensions (run, as-of, segment, change)
    found = (
        con.execute(
            "SELECT run_id, min(as_of), segment, change FROM segment_deltas GROUP BY ALL"
        ).fetchall()
        if deltas
        else []
    )
    runs = sorted({(r, a) for r, a, _, _ in _first_as_of(found)})
    names = {s for _, _, s, _ in found}
    if snapshot and "segment_sizes" in have and not scan_snapshot:
        rows = con.execute("SELECT DISTINCT segment FROM segment_sizes WHERE run_id = $run",
                           {"run": run_id}).fetchall()  # fmt: skip
        names |= {r[0] for r in rows}
    elif snapshot:
        rows = con.execute(f"SELECT DISTINCT segment FROM segment_memberships WHERE {_AT}",
                           {"run": run_id}).fetchall()  # fmt: skip
        names |= {r[0] for r in rows}
    segments = sorted(x for x in names if x is not None)
    changes = sorted({c for _, _, _, c in found if c is not None})
    dims: dict[str, Any] = {
        "runs": [[r, _iso(a)] for r, a in runs],
        "segments": segments,
        "changes": changes,
    }
    nseg, nchg = max(len(segments), 1), max(len(changes), 1)
    if (len(runs) + 1) * nseg * nchg >= 2**31:
        raise ValueError("too many runs and segments for the customer lookup's codes")
    empty: Future[pa.ListArray] = Future()
    empty.set_result(
        pa.ListArray.from_arrays(pa.array(np.zeros(n + 1, np.int64)), pa.array([], pa.int32()))
    )
    current = history = empty
    con.execute(
        "CREATE TEMP TABLE _serving_s AS SELECT unnest($names::VARCHAR[]) AS segment, "
        "(generate_subscripts($names::VARCHAR[], 1) - 1)::BIGINT AS s",
        {"names": segments},
    )
    # one query each: a UNION ALL of the two joins never finished in DuckDB 1.5.6
    if snapshot:
        k = _keys(
            con,
            "SELECT CASE WHEN s.s IS NULL THEN -1 ELSE (p.slot << 32) | s.s END AS k "
            "FROM segment_memberships m "
            "JOIN _serving_p p ON p.pid = m.customer_id::VARCHAR "
            f"LEFT JOIN _serving_s s ON s.segment = m.segment WHERE {_AT}",
            {"run": run_id},
        )
        if len(k) and (k == -1).any():  # a segment without its size row
            con.execute("DROP TABLE _serving_s")
            return _codes(con, have, run_id, n, pool, scan_snapshot=True)
        current = pool.submit(_grouped, k, n)
    if deltas:
        run_no = {r: i for i, (r, _) in enumerate(runs)}
        seg_no = {x: i for i, x in enumerate(segments)}
        chg_no = {x: i for i, x in enumerate(changes)}
        dim = [
            (r, x, c, (run_no[r] * nseg + seg_no[x]) * nchg + chg_no[c])
            for r, _, x, c in found
            if x is not None and c is not None
        ]
        con.execute(
            "CREATE TEMP TABLE _serving_d AS SELECT unnest($r::VARCHAR[]) AS run_id, "
            "unnest($s::VARCHAR[]) AS segment, unnest($c::VARCHAR[]) AS change, "
            "unnest($k::BIGINT[]) AS code",
            {"r": [d[0] for d in dim], "s": [d[1] for d in dim], "c": [d[2] for d in dim],
             "k": [d[3] for d in dim]},
        )  # fmt: skip
        k = _keys(
            con,
            "SELECT (p.slot << 32) | x.code AS k FROM segment_deltas d "
            "JOIN _serving_p p ON p.pid = d.customer_id::VARCHAR "
            "JOIN _serving_d x ON x.run_id = d.run_id AND x.segment = d.segment "
            "AND x.change = d.change",
            {},
        )
        history = pool.submit(_grouped, k, n)
    for t in ("_serving_d", "_serving_s"):
        con.execute(f"DROP TABLE IF EXISTS {t}")
    return dims, current, history


def _first_as_of(found: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """(run, its earliest as-of) per run of the deltas' dimensions (one as-of a run)."""
    first: dict[Any, Any] = {}
    for r, a, _, _ in found:
        if r not in first or (a is not None and (first[r] is None or a < first[r])):
            first[r] = a
    return [(r, a, None, None) for r, a in first.items()]


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date | time) else value


# -- the reading side ---------------------------------------------------------------------
class _SortedKeys:
    """Binary search over a sorted string column of an Arrow file, on its own buffers
    (Arrow has no binary search; bisect works over any sequence with ``__getitem__``)."""

    def __init__(self, column: pa.ChunkedArray) -> None:
        import numpy as np
        import pyarrow as pa

        self._chunks: list[tuple[Any, memoryview, int]] = []
        self._firsts: list[bytes] = []
        start = 0
        for chunk in column.chunks:
            if len(chunk) == 0:
                continue
            if pa.types.is_string_view(chunk.type):
                chunk = chunk.cast(pa.large_string())
            width = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
            _, offs, data = chunk.buffers()
            offsets = np.frombuffer(offs, dtype=width)[chunk.offset : chunk.offset + len(chunk) + 1]
            view = memoryview(data) if data is not None else memoryview(b"")
            self._chunks.append((offsets, view, start))
            self._firsts.append(bytes(view[offsets[0] : offsets[1]]))
            start += len(chunk)
        self._bounds = [c[2] for c in self._chunks]

    def find(self, key: str) -> int | None:
        """The row of ``key`` (its first row when repeated), or None."""
        if not self._chunks:
            return None
        want = key.encode("utf-8")
        at = bisect.bisect_right(self._firsts, want) - 1
        if at < 0:
            return None
        offsets, view, start = self._chunks[at]
        rows = _Strings(offsets, view)
        i = bisect.bisect_left(rows, want)
        if i < len(rows) and rows[i] == want:
            return start + i
        return None


class _Strings:
    """The strings of one Arrow chunk as a sequence of bytes (for :mod:`bisect`)."""

    __slots__ = ("_offsets", "_view")

    def __init__(self, offsets: Any, view: memoryview) -> None:
        self._offsets = offsets
        self._view = view

    def __len__(self) -> int:
        return len(self._offsets) - 1

    def __getitem__(self, i: int) -> bytes:
        o = self._offsets
        return self._view[int(o[i]) : int(o[i + 1])].tobytes()


def _plain(value: Any) -> Any:
    """A value json.dumps cannot write, as the rest of the API writes it."""
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return str(value)


class _Rows:
    """Row access to an Arrow file's table, batch by batch: one row is read column by
    column as Python values (about 1 microsecond a column; ``Table.slice(...).to_pylist()``
    and ``take`` cost 5 to 10 times more)."""

    def __init__(self, table: pa.Table) -> None:
        import pyarrow as pa

        self.names = table.column_names
        self._batches = [b for b in table.to_batches() if b.num_rows]
        self._starts = []
        start = 0
        for b in self._batches:
            self._starts.append(start)
            start += b.num_rows
        self._columns = [b.columns for b in self._batches]
        self.floats = [f.name for f in table.schema if pa.types.is_floating(f.type)]
        # list columns of integers as NumPy views of the file: (offsets, values) per batch
        self._lists = {
            (at, i): (b.column(i).offsets.to_numpy(), b.column(i).values.to_numpy())
            for at, b in enumerate(self._batches)
            for i, f in enumerate(table.schema)
            if (pa.types.is_list(f.type) or pa.types.is_large_list(f.type))
            and pa.types.is_integer(f.type.value_type)
        }

    def _at(self, row: int) -> tuple[int, int]:
        at = bisect.bisect_right(self._starts, row) - 1
        return at, row - self._starts[at]

    def row(self, row: int) -> dict[str, Any]:
        at, i = self._at(row)
        values = {n: c[i].as_py() for n, c in zip(self.names, self._columns[at], strict=True)}
        for name in self.floats:
            v = values[name]
            if v is not None and not math.isfinite(v):
                values[name] = None  # JSON has no NaN or infinities
        return values

    def value(self, column: int, row: int) -> Any:
        at, i = self._at(row)
        return self._columns[at][column][i].as_py()

    def numbers(self, column: int, row: int) -> list[int]:
        """The integers of a list column's cell."""
        at, i = self._at(row)
        offsets, values = self._lists[(at, column)]
        return values[offsets[i] : offsets[i + 1]].tolist()


class CustomerIndex:
    """The lookup files of one replica, memory-mapped (see the module docstring)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._maps: list[Any] = []
        keys = self._open(KEYS)
        aliases = self._open(ALIASES)
        self._traits = _Rows(self._open(TRAITS))
        self._records = _Rows(self._open(RECORDS))
        dims = json.loads((folder / DIMS).read_text(encoding="utf-8"))
        self._persons = _SortedKeys(keys.column("pid"))
        self._aliases = _SortedKeys(aliases.column("customer_id"))
        self._alias = _Rows(aliases)
        self._keys = _Rows(keys)
        self._col = {name: i for i, name in enumerate(keys.column_names)}
        text = json.JSONEncoder(ensure_ascii=False).encode
        self._runs = [(text(r), text(a)) for r, a in dims["runs"]]
        self._segments_json = [text(x) for x in dims["segments"]]
        self._changes_json = [text(x) for x in dims["changes"]]
        self._nseg = max(len(self._segments_json), 1)
        self._nchg = max(len(self._changes_json), 1)
        self._dump = json.JSONEncoder(
            default=_plain, allow_nan=False, ensure_ascii=False, separators=(",", ":")
        ).encode
        self.persons = keys.num_rows

    def _open(self, name: str) -> pa.Table:
        import pyarrow as pa

        source = pa.memory_map(str(self.folder / name), "r")
        self._maps.append(source)
        return pa.ipc.open_file(source).read_all()

    def slot(self, customer_id: str) -> int | None:
        """The row of the person ``customer_id`` belongs to (any of their ids), or None."""
        alias = self._aliases.find(customer_id)
        if alias is not None:
            return int(self._alias.value(1, alias))
        return self._persons.find(customer_id)

    def customer_json(self, customer_id: str) -> str | None:
        """The person's lookup answer as JSON text, or None when there is no such id."""
        slot = self.slot(customer_id)
        if slot is None:
            return None
        keys, col = self._keys, self._col
        records = [self._records.row(r) for r in keys.numbers(col["records"], slot)]
        records.sort(key=_record_order)
        row = keys.value(col["traits"], slot)
        traits = self._traits.row(row) if row >= 0 else {}
        if not records and not traits:
            return None
        quoted = self._dump(keys.value(col["pid"], slot))
        segments = [self._segments_json[s] for s in keys.numbers(col["segments"], slot)]
        history = []
        for code in keys.numbers(col["history"], slot):
            rest, change = divmod(code, self._nchg)
            run, segment = divmod(rest, self._nseg)
            run_id, as_of = self._runs[run]
            history.append(
                f'{{"run_id":{run_id},"as_of":{as_of},"segment":{self._segments_json[segment]},'
                f'"customer_id":{quoted},"change":{self._changes_json[change]}}}'
            )
        return (
            f'{{"customer_id":{quoted},"records":{self._dump(records)},'
            f'"traits":{self._dump(traits)},"segments":[{",".join(segments)}],'
            f'"history":[{",".join(history)}]}}'
        )

    def close(self) -> None:
        """Let go of the files (a lookup still running on another thread keeps its own
        references: a memory map stays until its last buffer is released)."""
        self._maps = []


def _record_order(record: dict[str, Any]) -> tuple[bool, str, bool, str]:
    """Records by customer id, then source (nulls last), as ``segmint customer`` lists them."""
    cid, source = record.get("customer_id"), record.get("_source")
    return (cid is None, str(cid or ""), source is None, str(source or ""))
