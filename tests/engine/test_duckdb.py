"""The DuckDB engine: URLs, settings, transactions and keyed merges."""

from __future__ import annotations

from pathlib import Path

import ibis
import pyarrow as pa
import pytest

from segmint.engine import connect
from segmint.engine._duckdb import duckdb_path
from segmint.exceptions import EngineError


def test_paths_resolve_against_the_project(tmp_path: Path) -> None:
    assert duckdb_path("duckdb:///store.duckdb", tmp_path) == str(tmp_path / "store.duckdb")
    assert duckdb_path("duckdb:////abs/s.db?threads=1", tmp_path) == "/abs/s.db"
    assert duckdb_path("duckdb:///:memory:", tmp_path) == ":memory:"


def test_settings_from_url(tmp_path: Path) -> None:
    eng = connect("duckdb:///s.duckdb?memory_limit=512MB&threads=1", base_dir=tmp_path)
    raw = eng.con.con
    assert raw.execute("select current_setting('threads')").fetchone() == (1,)
    limit = raw.execute("select current_setting('memory_limit')").fetchone()
    assert limit is not None
    assert limit[0] == "488.2 MiB"  # DuckDB reports 512 MB in MiB
    # nothing is fetched or loaded implicitly: extensions stay offline
    autoinstall = raw.execute("select current_setting('autoinstall_known_extensions')")
    assert autoinstall.fetchone() == (False,)
    eng.close()
    with pytest.raises(EngineError, match="unknown DuckDB setting"):
        connect("duckdb:///s.duckdb?memroy_limit=1GB", base_dir=tmp_path)
    with pytest.raises(EngineError, match="unknown engine 'postgres'"):
        connect("postgres://x")


def test_merge_and_transaction_rollback() -> None:
    eng = connect("duckdb:///:memory:")
    eng.write("t", pa.table({"_key": ["a", "b"], "v": [1, 2]}))
    eng.merge("t", ibis.memtable(pa.table({"_key": ["b", "c"], "v": [20, 30]})))
    assert eng.table("t").order_by("_key").to_pyarrow().to_pydict() == {
        "_key": ["a", "b", "c"],
        "v": [1, 20, 30],
    }

    def crashing_unit() -> None:
        with eng.transaction():
            eng.merge("t", ibis.memtable(pa.table({"_key": ["a", "d"], "v": [0, 4]})))
            eng.write("u", pa.table({"x": [1]}))
            with eng.transaction():  # nested: part of the same unit
                eng.append("u", pa.table({"x": [2]}))
            raise RuntimeError("crash")

    with pytest.raises(RuntimeError, match="crash"):
        crashing_unit()
    assert eng.table("t").order_by("_key").v.to_pyarrow().to_pylist() == [1, 20, 30]
    assert not eng.has_table("u")


def test_write_replaces_a_table_in_one_statement_and_a_failure_keeps_the_old_one() -> None:
    eng = connect("duckdb:///:memory:")
    eng.write("src", pa.table({"k": ["a", "b", "c"], "v": [1.5, 2.0, None]}))
    src = eng.table("src")
    for temp in (False, True):
        name = f"out_{temp}"
        eng.write(name, src.filter(src.k != "b").mutate(w=src.v * 2), temp=temp)
        got = eng.table(name).order_by("k").to_pyarrow().to_pydict()
        assert got == {"k": ["a", "c"], "v": [1.5, None], "w": [3.0, None]}
        assert dict(eng.table(name).schema().items()) == {
            "k": ibis.dtype("string"),
            "v": ibis.dtype("float64"),
            "w": ibis.dtype("float64"),
        }
        temporary = eng.con.con.execute(
            "SELECT temporary FROM duckdb_tables() WHERE table_name = ?", [name]
        ).fetchone()
        assert temporary == (temp,)
        # replaced: by a narrower table reading the one it replaces
        eng.write(name, eng.table(name).select("k").filter(lambda t: t.k == "a"), temp=temp)
        assert eng.table(name).to_pyarrow().to_pydict() == {"k": ["a"]}
        # a statement that fails (a cast of 'a' to an integer) leaves the old table
        bad = src.select(k=src.k.cast("int64"))
        with pytest.raises(Exception, match=r"[Cc]onver"):
            eng.write(name, bad, temp=temp)
        assert eng.table(name).to_pyarrow().to_pydict() == {"k": ["a"]}
    # an expression over an in-memory table goes through Ibis, which registers it first
    mem = ibis.memtable(pa.table({"k": ["z"], "v": [9.0]}))
    eng.write("from_memory", src.union(mem), temp=True)
    assert sorted(eng.table("from_memory").k.to_pyarrow().to_pylist()) == ["a", "b", "c", "z"]


def test_delete_in_deletes_rows_in_place_and_as_the_generic_engine_does() -> None:
    from segmint.engine._base import Engine

    rows = pa.table({"run": ["r1", "r2", None, "r3", "r2"], "v": [1, 2, 3, 4, 5]})
    eng = connect("duckdb:///:memory:")
    eng.write("native", rows)
    eng.write("generic", rows)
    eng.delete_in("native", "run", ["r2", "r9"])
    Engine.delete_in(eng, "generic", "run", ["r2", "r9"])
    for name in ("native", "generic"):
        got = eng.table(name).order_by("v").to_pyarrow().to_pydict()
        assert got == {"run": ["r1", None, "r3"], "v": [1, 3, 4]}, name  # a null stays
    eng.delete_in("native", "run", [])
    assert eng.count("native") == 3


def test_update_matched_sets_open_rows_in_place_and_as_the_generic_engine_does() -> None:
    from segmint.engine._base import Engine

    rows = pa.table(
        {
            "seg": ["a", "a", "a", "b", "b", None],
            "id": ["1", "1", "2", "1", "3", "1"],
            "end": ["r1", None, None, None, None, None],
            "v": [1, 2, 3, 4, 5, 6],
        }
    )
    keys = pa.table({"seg": ["a", "b", "b", "c"], "id": ["1", "3", "3", "1"]})
    eng = connect("duckdb:///:memory:")
    for name in ("native", "generic", "keys"):
        eng.write(name, keys if name == "keys" else rows)
    k = eng.table("keys")
    eng.update_matched("native", k, on=("seg", "id"), column="end", value="r5")
    Engine.update_matched(eng, "generic", k, on=("seg", "id"), column="end", value="r5")
    # only the open rows of (a, 1) and (b, 3): a closed row keeps its end, a null key no match
    for name in ("native", "generic"):
        got = eng.table(name).order_by("v").to_pyarrow().to_pydict()
        assert got["end"] == ["r1", "r5", None, None, "r5", None], name
        assert got["v"] == [1, 2, 3, 4, 5, 6], name
    # keys from memory go through the generic form on DuckDB too
    eng.update_matched(
        "native", ibis.memtable(pa.table({"seg": ["a"], "id": ["2"]})), on=("seg", "id"),
        column="end", value="r6",
    )  # fmt: skip
    assert eng.table("native").order_by("v").end.to_pyarrow().to_pylist()[2] == "r6"


def test_write_registers_a_python_udf_the_expression_calls() -> None:
    @ibis.udf.scalar.python
    def twice(x: int) -> int:
        return 2 * x

    eng = connect("duckdb:///:memory:")
    eng.write("src", pa.table({"v": [1, 2]}))
    src = eng.table("src")
    eng.write("out", src.select(w=twice(src.v)), temp=True)
    assert sorted(eng.table("out").w.to_pyarrow().to_pylist()) == [2, 4]


def test_replace_with_moves_a_stored_work_table_into_place_as_the_generic_engine_copies() -> None:
    from datetime import datetime

    from segmint.engine._base import Engine

    rows = pa.table({"id": ["1", "2", "3"], "keep": [1.5, None, 3.0], "attr": ["x", "y", "z"]})
    stamps = {
        "run_id": ibis.literal("r'7", type="string"),  # a quote stays a value
        "as_of": ibis.literal(datetime(2026, 10, 1, 3, 4, 5, 6), type="timestamp"),
    }
    eng = connect("duckdb:///:memory:")
    for name in ("target", "generic"):
        eng.write(name, pa.table({"old": [1]}))
    work = eng.temp_name("wide")
    eng.write(work, rows)
    eng.write("work_copy", rows)
    assert eng.stored_work_tables() == [work]
    with eng.transaction():
        eng.replace_with("target", work, drop=["attr"], constants=stamps)
    Engine.replace_with(eng, "generic", "work_copy", drop=["attr"], constants=stamps)
    expected = {
        "id": ["1", "2", "3"],
        "keep": [1.5, None, 3.0],
        "run_id": ["r'7"] * 3,
        "as_of": [datetime(2026, 10, 1, 3, 4, 5, 6)] * 3,
    }
    for name in ("target", "generic"):
        assert eng.table(name).order_by("id").to_pyarrow().to_pydict() == expected, name
        assert dict(eng.table(name).schema()) == dict(eng.table("generic").schema())
    # moved, not copied: the work table is gone, and the stamps left no default behind
    assert not eng.has_table(work)
    assert eng.stored_work_tables() == []
    eng.con.con.execute("INSERT INTO target (id) VALUES ('4')")
    target = eng.table("target")
    assert target.filter(target.id == "4").run_id.to_pyarrow().to_pylist() == [None]


def test_replace_with_rolls_back_with_its_unit_and_copies_a_temporary_work_table() -> None:
    eng = connect("duckdb:///:memory:")
    eng.write("target", pa.table({"old": [1]}))
    work = eng.temp_name("wide")
    eng.write(work, pa.table({"id": ["1"], "attr": ["x"]}))

    def fail_after_the_move() -> None:
        with eng.transaction():
            eng.replace_with("target", work, drop=["attr"])
            raise RuntimeError("the run failed after its traits")

    with pytest.raises(RuntimeError, match="after its traits"):
        fail_after_the_move()
    assert eng.table("target").to_pyarrow().to_pydict() == {"old": [1]}
    assert eng.table(work).to_pyarrow().to_pydict() == {"id": ["1"], "attr": ["x"]}
    # a temporary table cannot become a stored one: it is copied, and stays
    temp = eng.temp_name("wide")
    eng.write(temp, pa.table({"id": ["2"], "attr": ["y"]}), temp=True)
    eng.replace_with("target", temp, drop=["attr"])
    assert eng.table("target").to_pyarrow().to_pydict() == {"id": ["2"]}
    assert eng.has_table(temp)
    assert eng.stored_work_tables() == [work]


def test_replace_with_stamps_a_stored_table_without_logging_the_column(tmp_path: Path) -> None:
    """A constant column is added without writing its values to the write-ahead log (a
    timestamp default given as a typed literal logged every row), a null one stays null,
    and the values survive a restart."""
    from datetime import datetime

    rows = 300_000
    eng = connect("duckdb:///s.duckdb", base_dir=tmp_path)
    raw = eng.con.con
    raw.execute("SET checkpoint_threshold = '10GB'")  # keep the log to measure it
    work = eng.temp_name("wide")
    raw.execute(f'CREATE TABLE "{work}" AS SELECT range::VARCHAR AS id FROM range({rows})')
    raw.execute("CHECKPOINT")
    wal = tmp_path / "s.duckdb.wal"
    with eng.transaction():
        eng.replace_with(
            "traits",
            work,
            constants={
                "as_of": ibis.literal(datetime(2026, 10, 1, 3, 4, 5), type="timestamp"),
                "day": ibis.literal(datetime(2026, 10, 1).date(), type="date"),
                "none": ibis.literal(None, type="int64"),
            },
        )
    logged = wal.stat().st_size if wal.exists() else 0
    assert logged < 100_000, logged  # 8 bytes a row would be 2.4 MB
    eng.close()
    eng = connect("duckdb:///s.duckdb", base_dir=tmp_path)
    t = eng.table("traits")
    got = t.aggregate(
        n=t.count(), as_of=t.as_of.max(), stamps=t.as_of.nunique(), day=t.day.min(),
        none=t.none.count(),
    ).to_pyarrow().to_pylist()  # fmt: skip
    assert got == [
        {"n": rows, "as_of": datetime(2026, 10, 1, 3, 4, 5), "stamps": 1,
         "day": datetime(2026, 10, 1).date(), "none": 0}
    ]  # fmt: skip
    assert dict(t.schema())["none"] == ibis.dtype("int64")
