"""Runs: snapshots, deltas, sizes and history across runs; a failed run publishes nothing."""

from __future__ import annotations

from datetime import datetime

import ibis
import pyarrow as pa
import pytest

from segmint import runs
from segmint.engine import Engine, connect
from segmint.segments import _snapshots as snapshots


def _evaluation(members: dict[str, list[str]], customers: list[str]) -> runs.Evaluation:
    def evaluate(engine: Engine, as_of: datetime) -> runs.Evaluated:
        base = ibis.memtable(pa.table({"customer_id": customers, "x": list(range(len(customers)))}))
        return runs.Evaluated(
            base,
            {
                name: ibis.memtable(pa.table({"customer_id": pa.array(ids, pa.string())}))
                for name, ids in members.items()
            },
        )

    return evaluate


@pytest.fixture
def engine() -> Engine:
    return connect("duckdb:///:memory:")


CUSTOMERS = ["1", "2", "3", "4", "5"]
RUN_MEMBERS = [
    {"vip": ["1", "2"], "lapsed": ["4"]},
    {"vip": ["2", "3"], "lapsed": ["4", "5"]},
    {"vip": ["3"], "lapsed": [], "new": ["1"]},
]


def _three_runs(engine: Engine) -> list[runs.RunResult]:
    return [
        runs.run(
            engine,
            _evaluation(m, CUSTOMERS),
            as_of=datetime(2026, 1, i + 1),
            now=datetime(2026, 1, i + 1, 12),
        )
        for i, m in enumerate(RUN_MEMBERS)
    ]


def _rows(engine: Engine, table: str, cols: list[str]) -> list[tuple]:
    t = engine.table(table).order_by(cols)
    return [tuple(r[c] for c in cols) for r in t.to_pyarrow().to_pylist()]


def test_deltas_sizes_and_history_are_exact_across_three_runs(engine: Engine) -> None:
    r1, r2, r3 = _three_runs(engine)
    assert (r1.previous_run, r2.previous_run, r3.previous_run) == (None, r1.run_id, r2.run_id)
    assert _rows(engine, "segment_deltas", ["run_id", "segment", "customer_id", "change"]) == [
        (r1.run_id, "lapsed", "4", "entered"),
        (r1.run_id, "vip", "1", "entered"),
        (r1.run_id, "vip", "2", "entered"),
        (r2.run_id, "lapsed", "5", "entered"),
        (r2.run_id, "vip", "1", "exited"),
        (r2.run_id, "vip", "3", "entered"),
        (r3.run_id, "lapsed", "4", "exited"),
        (r3.run_id, "lapsed", "5", "exited"),
        (r3.run_id, "new", "1", "entered"),
        (r3.run_id, "vip", "2", "exited"),
    ]
    assert {k: (v.size, v.entered, v.exited) for k, v in r3.segments.items()} == {
        "lapsed": (0, 0, 2),
        "new": (1, 1, 0),
        "vip": (1, 0, 1),
    }
    assert [
        (s["size"], s["entered"], s["exited"]) for s in runs.sizes_over_time(engine, "vip")
    ] == [
        (2, 2, 0),
        (2, 1, 1),
        (1, 0, 1),
    ]
    history = snapshots.customer_history(engine, "1").to_pyarrow().to_pylist()
    assert [(h["as_of"].day, h["segment"], h["change"]) for h in history] == [
        (1, "vip", "entered"),
        (2, "vip", "exited"),
        (3, "new", "entered"),
    ]
    # membership at any run can be rebuilt from deltas alone
    for r, expected in zip((r1, r2, r3), RUN_MEMBERS, strict=True):
        for seg in ("vip", "lapsed"):
            got = sorted(
                snapshots.members_at(engine, r.run_id, seg).customer_id.to_pyarrow().to_pylist()
            )
            assert got == sorted(expected.get(seg, [])), (r.run_id, seg)
    current = runs.current_members(engine)
    assert current is not None
    rows = current.to_pyarrow().to_pylist()
    assert sorted((r["segment"], r["customer_id"]) for r in rows) == [("new", "1"), ("vip", "3")]
    assert engine.count("customer_traits") == 5
    assert [r["status"] for r in runs.runs(engine)] == ["succeeded"] * 3


def test_a_crash_mid_run_keeps_the_previous_snapshot(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs.run(engine, _evaluation(RUN_MEMBERS[0], CUSTOMERS), now=datetime(2026, 1, 1))
    before = {
        t: engine.table(t).to_pyarrow()
        for t in (
            "segment_memberships",
            "segment_snapshot_runs",
            "segment_deltas",
            "segment_sizes",
            "customer_traits",
        )
    }

    real_publish = snapshots.publish

    def publish_then_crash(engine: Engine, **kwargs: object) -> None:
        real_publish(engine, **kwargs)  # type: ignore[arg-type]  # every write happens...
        raise OSError("disk full")  # ...and then the process fails before the commit

    monkeypatch.setattr(runs.snapshots, "publish", publish_then_crash)
    with pytest.raises(OSError, match="disk full"):
        runs.run(engine, _evaluation(RUN_MEMBERS[1], CUSTOMERS), now=datetime(2026, 1, 2))
    for t, table in before.items():
        assert engine.table(t).to_pyarrow().equals(table), t
    records = runs.runs(engine)
    assert [r["status"] for r in records] == ["failed", "succeeded"]
    assert "disk full" in records[0]["error"]
    assert runs.last_successful_run(engine) == records[1]["run_id"]


def _left_running(engine: Engine) -> None:
    """The record a process killed during a run leaves: its run still ``running``."""
    runs._record(
        engine,
        {
            "run_id": "20260101T000000000000",
            "as_of": datetime(2026, 1, 1),
            "started_at": datetime(2026, 1, 1),
            "finished_at": None,
            "status": "running",
            "customers": None,
            "segments": None,
            "seconds": None,
            "error": None,
        },
    )


def test_a_killed_run_is_marked_interrupted(engine: Engine) -> None:
    _left_running(engine)
    runs.run(engine, _evaluation(RUN_MEMBERS[0], CUSTOMERS), now=datetime(2026, 1, 2))
    assert [r["status"] for r in runs.runs(engine)] == ["succeeded", "interrupted"]


def test_snapshots_are_pruned_but_history_is_not(engine: Engine) -> None:
    stored, results = [], []
    for i in range(4):
        results.append(
            runs.run(
                engine,
                _evaluation(RUN_MEMBERS[i % 3], CUSTOMERS),
                keep_snapshots=2,
                now=datetime(2026, 1, i + 1),
            )
        )
        stored.append(len(snapshots.snapshot_runs(engine)))
    # pruned once twice as many runs as kept are stored, back to the two newest
    assert stored == [1, 2, 3, 2]
    ids = [r.run_id for r in results]
    assert snapshots.snapshot_runs(engine) == ids[2:]
    assert [snapshots.run_members(engine, r) is None for r in ids] == [True, True, False, False]
    for r, expected in zip(ids[2:], (RUN_MEMBERS[2], RUN_MEMBERS[0]), strict=True):
        assert _members(engine, r) == _pairs(expected)
    # no span that ended at or before the oldest kept run is left
    spans = engine.table("segment_memberships").to_pyarrow().to_pylist()
    assert all(s["to_run"] is None or s["to_run"] > ids[2] for s in spans)
    assert engine.table("segment_sizes").run_id.nunique().execute() == 4


def _pairs(members: dict[str, list[str]]) -> list[tuple[str, str]]:
    return sorted((seg, c) for seg, ids in members.items() for c in ids)


def _members(engine: Engine, run_id: str) -> list[tuple[str, str]]:
    m = snapshots.run_members(engine, run_id)
    assert m is not None
    return sorted((r["segment"], r["customer_id"]) for r in m.to_pyarrow().to_pylist())


def test_every_stored_run_is_read_back_from_spans_of_the_changes_alone(
    engine: Engine,
) -> None:
    results = _three_runs(engine)
    for r, expected in zip(results, RUN_MEMBERS, strict=True):
        assert _members(engine, r.run_id) == _pairs(expected), r.run_id
    # one span per entry, whatever the number of runs a member stays: 3 + 2 + 1 entries
    spans = _rows(engine, "segment_memberships", ["segment", "customer_id", "from_run", "to_run"])
    r1, r2, r3 = (r.run_id for r in results)
    assert spans == [
        ("lapsed", "4", r1, r3),
        ("lapsed", "5", r2, r3),
        ("new", "1", r3, None),
        ("vip", "1", r1, r2),
        ("vip", "2", r1, r3),
        ("vip", "3", r2, None),
    ]


def test_a_store_of_whole_snapshots_is_converted_on_its_next_run(engine: Engine) -> None:
    legacy = pa.table(
        {
            "run_id": ["20251230T000000000000"] * 2 + ["20251231T000000000000"] * 3,
            "segment": ["vip", "vip", "vip", "vip", "lapsed"],
            "customer_id": ["9", "1", "1", "2", "4"],
        }
    )
    engine.write("segment_snapshots", legacy)
    runs._record(
        engine,
        {
            "run_id": "20251231T000000000000",
            "as_of": datetime(2025, 12, 31),
            "started_at": datetime(2025, 12, 31),
            "finished_at": datetime(2025, 12, 31),
            "status": "succeeded",
            "customers": 5,
            "segments": 2,
            "seconds": 1.0,
            "error": None,
        },
    )
    r = runs.run(engine, _evaluation(RUN_MEMBERS[1], CUSTOMERS), now=datetime(2026, 1, 1))
    assert not engine.has_table("segment_snapshots")
    # the deltas are against the latest whole snapshot, as before the conversion
    assert _rows(engine, "segment_deltas", ["segment", "customer_id", "change"]) == [
        ("lapsed", "5", "entered"),
        ("vip", "1", "exited"),
        ("vip", "3", "entered"),
    ]
    assert _members(engine, "20251231T000000000000") == [
        ("lapsed", "4"),
        ("vip", "1"),
        ("vip", "2"),
    ]
    assert _members(engine, r.run_id) == _pairs(RUN_MEMBERS[1])


def _moving_evaluation(values: list[int], fail: bool = False) -> runs.Evaluation:
    """An evaluation whose traits are a stored work table less its attribute column, as a
    project's run makes them; ``fail``: the run fails after publishing its traits."""

    class Failing:
        def publish(self, engine: Engine, run_id: str) -> None:
            raise OSError("disk full")

        def prune(self, engine: Engine) -> None: ...

        def discard(self, engine: Engine) -> None: ...

    def evaluate(engine: Engine, as_of: datetime) -> runs.Evaluated:
        work = engine.temp_name("wide")
        rows = {"customer_id": CUSTOMERS[: len(values)], "country": ["DK"] * len(values)}
        engine.write(work, pa.table({**rows, "x": values}))
        base = engine.table(work)
        found = runs.Evaluated(base, {"vip": base.select("customer_id")}, [work])
        found.traits, found.traits_work = base.drop("country"), work
        found.kept = Failing() if fail else None
        return found

    return evaluate


def test_a_run_moves_its_stored_traits_into_place_and_a_failure_keeps_the_old_ones(
    engine: Engine,
) -> None:
    first = runs.run(engine, _moving_evaluation([1, 2, 3]), now=datetime(2026, 1, 1))
    traits = engine.table("customer_traits").order_by("customer_id").to_pyarrow().to_pydict()
    assert traits == {
        "customer_id": ["1", "2", "3"],
        "x": [1, 2, 3],
        "run_id": [first.run_id] * 3,
        "as_of": [datetime(2026, 1, 1)] * 3,
    }
    assert engine.stored_work_tables() == []  # moved, and nothing else left
    with pytest.raises(OSError, match="disk full"):
        runs.run(engine, _moving_evaluation([7, 8], fail=True), now=datetime(2026, 1, 2))
    after = engine.table("customer_traits").order_by("customer_id").to_pyarrow().to_pydict()
    assert after == traits
    assert engine.stored_work_tables() == []  # the failed run's work table is dropped
    runs.run(engine, _moving_evaluation([7, 8]), now=datetime(2026, 1, 3))
    assert engine.table("customer_traits").x.to_pyarrow().to_pylist() == [7, 8]


def test_the_next_run_drops_the_work_tables_a_killed_run_left(engine: Engine) -> None:
    left = engine.temp_name("wide")
    engine.write(left, pa.table({"customer_id": ["1"]}))  # stored: it outlives a kill
    engine.write("kept_table", pa.table({"customer_id": ["1"]}))
    runs.run(engine, _evaluation(RUN_MEMBERS[0], CUSTOMERS), now=datetime(2026, 1, 1))
    assert engine.has_table(left)  # no run was interrupted: it may be another's
    _left_running(engine)
    runs.run(engine, _evaluation(RUN_MEMBERS[0], CUSTOMERS), now=datetime(2026, 1, 2))
    assert not engine.has_table(left)
    assert engine.has_table("kept_table")
