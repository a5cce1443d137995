"""Incremental traits: a run from the previous run's kept base equals a full run exactly.

Every test copies one small demo project twice after a first run: twin ``inc`` runs with
incremental traits (the default), twin ``full`` with ``runs.incremental: false``.  The same
change is made to both, both run as of the same date, and everything the run publishes is
compared: every trait column of every customer, every segment's members, the deltas and
the sizes.  The run report must say which path the incremental twin took and why.
"""

from __future__ import annotations

import csv
import shutil
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import ibis
import pandas as pd
import pytest

from segmint import runs, service
from segmint.project import Project
from segmint.segments import _snapshots as snapshots
from segmint.traits import _incremental as incremental

AS_OF = datetime(2026, 9, 1)
#: declared traits with every kind of window and a days-since trait (recomputed from as_of)
DECLARED = [
    {"name": "kitchen_spend_60d", "from": "transactions", "aggregate": "sum", "of": "amount",
     "where": [{"field": "category", "op": "=", "value": "Bolig"}], "within": "60d"},
    {"name": "orders_120_to_45d", "from": "transactions", "aggregate": "count",
     "between": ["120d", "45d"]},
    {"name": "days_since_click", "from": "events", "aggregate": "days_since_last",
     "where": [{"field": "event_type", "op": "=", "value": "email_click"}]},
    {"name": "orders_since_2026", "from": "transactions", "aggregate": "count",
     "since": "2026-01-01"},
    {"name": "avg_web_order_45d", "from": "transactions", "aggregate": "avg", "of": "amount",
     "where": [{"field": "channel", "op": "=", "value": "web"}], "within": "45d"},
    {"name": "biggest_order_90d", "from": "transactions", "aggregate": "max", "of": "amount",
     "within": "90d"},
]  # fmt: skip


@pytest.fixture(scope="module")
def kept_demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small demo with declared traits, run once as of AS_OF (so its base is kept)."""
    root = tmp_path_factory.mktemp("incremental") / "demo"
    service.build_demo(root, customers=500, seed=7)
    project = Project.open(root)
    try:
        config = project.config.model_dump(mode="json", by_alias=True)
        config["traits"] = {"declared": DECLARED, "windows": ["7d", "30d", "365d"]}
        project.config = type(project.config).model_validate(config)
        project.save()
        first = service.run(project, as_of=AS_OF)
        assert first.traits is not None
        assert first.traits["path"] == "full"
        assert "traits settings" in first.traits["reason"]
    finally:
        project.close()
    return root


@pytest.fixture
def twins(kept_demo: Path, tmp_path: Path) -> Iterator[tuple[Project, Project]]:
    projects = []
    for name in ("inc", "full"):
        shutil.copytree(kept_demo, tmp_path / name)
        projects.append(Project.open(tmp_path / name))
    projects[1].config.runs.incremental = False
    try:
        yield projects[0], projects[1]
    finally:
        for p in projects:
            p.close()


def _traits(project: Project) -> pd.DataFrame:
    t = project.engine.table(runs.TRAITS).drop("run_id").to_pandas()
    return t.sort_values("customer_id").reset_index(drop=True)


def _set(project: Project, table: ibis.Table) -> set[tuple[object, ...]]:
    return {tuple(r.values()) for r in table.to_pyarrow().to_pylist()}


def _deltas(project: Project, run_id: str) -> set[tuple[object, ...]]:
    d = project.engine.table(snapshots.DELTAS)
    return _set(project, d.filter(d.run_id == run_id).select("segment", "customer_id", "change"))


def run_both(
    inc: Project, full: Project, as_of: datetime, change: Callable[[Project], object] | None = None
) -> runs.RunResult:
    """Make ``change`` to both twins, run both, assert they published the same; the
    incremental twin's result."""
    for p in (inc, full):
        if change is not None:
            change(p)
    a = service.run(inc, as_of=as_of)
    b = service.run(full, as_of=as_of)
    assert b.traits == {"path": "full", "reason": "runs.incremental is off"}
    pd.testing.assert_frame_equal(_traits(inc), _traits(full), check_exact=True)
    members_a = snapshots.run_members(inc.engine, a.run_id)
    members_b = snapshots.run_members(full.engine, b.run_id)
    assert members_a is not None
    assert members_b is not None
    assert _set(inc, members_a) == _set(full, members_b)
    assert _deltas(inc, a.run_id) == _deltas(full, b.run_id)
    assert a.segments == b.segments
    assert a.customers == b.customers
    assert len(a.segments) > 20  # the demo's rule segments and every family cell
    if a.traits is not None and a.traits["path"] == "incremental":
        kept = incremental._current(inc.engine)  # the kept base the run published
        assert kept is not None
        assert a.traits["persons"] == inc.engine.count(kept["raw_table"])
    return a


def _csv(path: Path, rows: list[dict[str, object]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return path


def _merged_ids(project: Project, n: int) -> list[str]:
    ids = project.engine.table("identities")
    merged = ids.filter(ids.customer_id != ids.person_id).order_by("customer_id").limit(n)
    return [str(x) for x in merged.customer_id.to_pyarrow().to_pylist()]


def _append_day(project: Project, day: datetime, tag: str) -> None:
    """One day of orders and email events for a few customers (one a merged record)."""
    cids = ["100010", "100020", "100030", *_merged_ids(project, 1)]
    orders = [
        {"order_id": f"{tag}-{i}", "customer_id": cid, "order_date": f"{day:%Y-%m-%d} 12:00:00",
         "amount": 250.5 + 100 * i, "category": "Bolig", "channel": "web"}
        for i, cid in enumerate(cids)
    ]  # fmt: skip
    service.load(project, "transactions", _csv(project.root / f"{tag}-o.csv", orders), source="day")
    events = [
        {"event_id": f"{tag}-e{i}", "customer_id": cid, "event_type": kind,
         "event_time": f"{day:%Y-%m-%d} 09:30:00"}
        for i, (cid, kind) in enumerate(
            [("100040", "email_open"), ("100050", "email_click"), (cids[-1], "web_visit")]
        )
    ]  # fmt: skip
    service.load(project, "events", _csv(project.root / f"{tag}-e.csv", events), source="day")


def test_appended_day_equals_a_full_run(twins: tuple[Project, Project]) -> None:
    inc, full = twins
    # the same as_of again, no new rows: nothing to recompute
    same = run_both(inc, full, AS_OF)
    assert same.traits is not None
    assert same.traits["path"] == "incremental"
    assert same.traits["recomputed"] == 0
    # a day of new orders and events, then the next day's run
    day = run_both(inc, full, AS_OF + timedelta(days=1), lambda p: _append_day(p, AS_OF, "d1"))
    assert day.traits is not None
    assert day.traits["path"] == "incremental", day.traits
    assert 4 <= day.traits["recomputed"] < day.traits["persons"] // 2


@pytest.mark.slow
def test_as_of_across_every_window_boundary(
    twins: tuple[Project, Project], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Days with new rows, then steps of 7, 29, 45 and 61 days without: they cross the 7d,
    30d, 45d, 60d, 120d and 365d boundaries of the built-in and declared traits (and the
    90d of open_rate_90d).  The incremental path is forced: on 500 customers a step of a
    week touches most of them (a campaign day), where a run would switch to full."""
    monkeypatch.setattr(incremental, "MAX_DIRTY_SHARE", 1.0)
    inc, full = twins
    when = AS_OF
    shifted = []
    for _day in range(2):
        when += timedelta(days=1)
        before = when - timedelta(days=1)
        found = run_both(inc, full, when, lambda p, b=before: _append_day(p, b, f"d{b:%d}"))
        assert found.traits is not None
        assert found.traits["path"] == "incremental"
    for step in (7, 29, 45, 61):
        when += timedelta(days=step)
        found = run_both(inc, full, when)
        assert found.traits is not None
        assert found.traits["path"] == "incremental"
        shifted.append(found.traits["shifted"])
    # persons with rows only on additive boundaries had their kept counts and sums moved
    assert min(shifted) > 0


def _two_persons(project: Project) -> list[str]:
    """Two customers, each a person of one record with an email and a phone."""
    c = project.engine.table("customers")
    ids = project.engine.table("identities")
    alone = ids.filter(ids.n_customer_ids == 1).select("customer_id")
    c = c.filter(c.email.notnull() & c.phone.notnull()).semi_join(alone, "customer_id")
    chosen = c.order_by("customer_id").limit(2).customer_id.to_pyarrow().to_pylist()
    return [str(x) for x in chosen]


def _link(pair: list[str]) -> Callable[[Project], None]:
    """A new web-shop account with the first one's email and the second one's phone."""

    def link(project: Project) -> None:
        c = project.engine.table("customers")
        a, b = (c.filter(c.customer_id == i).to_pyarrow().to_pylist()[0] for i in pair)
        row = {"customer_id": "W-LINK-1", "email": a["email"], "phone": b["phone"],
               "first_name": "Link", "signup_date": "2026-08-15"}  # fmt: skip
        service.load(project, "customers", _csv(project.root / "link.csv", [row]), source="shop")
        service.identities(project)

    return link


def test_merge_of_two_persons(twins: tuple[Project, Project]) -> None:
    inc, full = twins
    pair = _two_persons(inc)
    found = run_both(inc, full, AS_OF + timedelta(days=1), _link(pair))
    assert found.traits is not None
    assert found.traits["path"] == "incremental", found.traits
    # the two persons are now one, with the new record
    ids = inc.engine.table("identities")
    persons = ids.filter(ids.customer_id.isin([*pair, "W-LINK-1"])).person_id
    assert len(set(persons.to_pyarrow().to_pylist())) == 1


def _split(project: Project) -> None:
    """Identity resolution (here: by hand) gives a merged record its own person again."""
    moved = _merged_ids(project, 2)
    ids = project.engine.table("identities")
    split = ids.mutate(
        person_id=ibis.ifelse(ids.customer_id.isin(moved), ids.customer_id, ids.person_id)
    )
    project.engine.write("identities", split.to_pyarrow())


def test_split_of_a_person(twins: tuple[Project, Project]) -> None:
    inc, full = twins
    found = run_both(inc, full, AS_OF, _split)
    assert found.traits is not None
    assert found.traits["path"] == "incremental"
    assert found.traits["recomputed"] >= 4  # two new persons, and the two they left


def test_a_forget_falls_back(twins: tuple[Project, Project]) -> None:
    inc, full = twins
    forget = run_both(inc, full, AS_OF, lambda p: service_forget(p, "100300"))
    assert forget.traits is not None
    assert forget.traits["path"] == "full"
    assert "forget" in forget.traits["reason"]
    # back on the incremental path after it
    again = run_both(inc, full, AS_OF + timedelta(days=1))
    assert again.traits is not None
    assert again.traits["path"] == "incremental"


@pytest.mark.slow
def test_a_replaced_row_or_an_earlier_as_of_falls_back(twins: tuple[Project, Project]) -> None:
    inc, full = twins
    # a re-load that replaces an order (new amount): full
    t = inc.engine.table("transactions")
    order = t.filter(t.customer_id == "100010").order_by("order_id").limit(1).to_pyarrow()
    row = {"order_id": order["order_id"][0].as_py(), "customer_id": "100010",
           "order_date": order["order_date"][0].as_py().isoformat(sep=" "), "amount": 9999.0,
           "line_no": order["line_no"][0].as_py()}  # fmt: skip

    def reload(p: Project) -> None:
        service.load(p, "transactions", _csv(p.root / "fix.csv", [row]), source="fix")

    replaced = run_both(inc, full, AS_OF + timedelta(days=1), reload)
    assert replaced.traits is not None
    assert replaced.traits["path"] == "full"
    assert "replaced" in replaced.traits["reason"]
    # an earlier as_of: full
    earlier = run_both(inc, full, AS_OF - timedelta(days=10))
    assert earlier.traits is not None
    assert earlier.traits["path"] == "full"
    assert "before the kept run" in earlier.traits["reason"]


def service_forget(project: Project, customer_id: str) -> None:
    from segmint.activation import forget

    forget(project.engine, customer_id, actor="test")


def test_a_config_change_falls_back(twins: tuple[Project, Project]) -> None:
    inc, full = twins

    def windows(p: Project) -> None:
        p.config.traits.windows = ["14d", "30d", "365d"]

    found = run_both(inc, full, AS_OF + timedelta(days=1), windows)
    assert found.traits is not None
    assert found.traits["path"] == "full"
    assert "traits settings" in found.traits["reason"]


def _kept(project: Project) -> tuple[list[dict[str, object]], set[str], pd.DataFrame]:
    """The record of kept bases, the kept tables, and the current kept raw base."""
    eng = project.engine
    record = eng.table(incremental.CACHES).order_by("run_id").to_pyarrow().to_pylist()
    tables = {t for t in eng.con.list_tables() if t.startswith(incremental.PREFIX)}
    raw = eng.table(str(record[-1]["raw_table"])).to_pandas()
    return record, tables, raw.sort_values("customer_id").reset_index(drop=True)


def test_a_crash_keeps_the_previous_kept_base_usable(
    twins: tuple[Project, Project], monkeypatch: pytest.MonkeyPatch
) -> None:
    inc, full = twins
    record, tables, raw = _kept(inc)

    def crash(*_a: object, **_k: object) -> None:
        raise RuntimeError("power cut while publishing")

    record_run = runs._record

    def crash_at_the_end(engine: object, row: dict[str, object]) -> None:
        if row["status"] == "succeeded":  # the kept base is already updated in the unit
            raise RuntimeError("power cut while publishing")
        record_run(engine, row)  # type: ignore[arg-type]

    _append_day(inc, AS_OF, "d1")
    for module, name, fail in ((snapshots, "publish", crash), (runs, "_record", crash_at_the_end)):
        with monkeypatch.context() as m:
            m.setattr(module, name, fail)
            with pytest.raises(RuntimeError, match="power cut"):
                service.run(inc, as_of=AS_OF + timedelta(days=1))
        after, after_tables, after_raw = _kept(inc)
        assert after == record
        assert after_tables == tables
        pd.testing.assert_frame_equal(after_raw, raw, check_exact=True)
    # the next run starts from the previous kept base and equals a full run
    _append_day(full, AS_OF, "d1")
    found = run_both(inc, full, AS_OF + timedelta(days=1))
    assert found.traits is not None
    assert found.traits["path"] == "incremental", found.traits
    assert str(record[-1]["run_id"]) in found.traits["reason"]
    # the kept raw table was updated in place; the earlier identity map is dropped
    _, left, _ = _kept(inc)
    assert str(record[-1]["raw_table"]) in left
    assert len(left) == 2
    assert str(record[-1]["ids_table"]) not in left


def test_moves_of_several_tables_change_only_their_own_columns() -> None:
    """The moves of every activity table are one work table: a person moved by one table
    only keeps the other table's columns as they were, a null included, both in the run's
    base (``_shifted``) and in the kept table it publishes (the UPDATE)."""
    from decimal import Decimal

    import pyarrow as pa

    from segmint.engine import connect

    engine = connect("duckdb:///:memory:")
    kept = pa.table(
        {
            "customer_id": ["a", "b", "c"],
            "orders_30d": pa.array([2, 5, None], pa.int64()),
            "spend_30d": pa.array([Decimal("10.5"), None, Decimal("1")], pa.decimal128(38, 10)),
            "email_sends_30d": pa.array([None, 3, 4], pa.int64()),
        }
    )
    moves = pa.table(
        {
            "_mid": ["a", "b"],
            "_d_orders_30d": pa.array([-1, None], pa.int64()),
            "_d_spend_30d": pa.array([Decimal("-0.5"), None], pa.decimal128(38, 10)),
            "_d_email_sends_30d": pa.array([None, 2], pa.int64()),
        }
    )
    engine.write("kept", kept)
    engine.write("moves", moves)
    columns = ["orders_30d", "spend_30d", "email_sends_30d"]
    expected = {
        "customer_id": ["a", "b", "c"],
        "orders_30d": [1, 5, None],
        "spend_30d": [Decimal("10.0"), None, Decimal("1")],
        "email_sends_30d": [None, 5, 4],
    }
    shifted = incremental._shifted(engine, engine.table("kept"), [("moves", columns)])
    assert shifted.order_by("customer_id").to_pyarrow().to_pydict() == expected
    base = incremental.KeptBase(
        raw=engine.table("kept"), path="incremental", reason="", persons=3, recomputed=0,
        shifted=2, seconds=0.0, state={}, raw_table="kept", ids_table="", as_of=AS_OF,
        changed="none", rows="no_rows", shifts=[("moves", columns)],
    )  # fmt: skip
    engine.write("none", pa.table({"person_id": pa.array([], pa.string())}))
    engine.write("no_rows", kept.slice(0, 0))
    base.publish(engine, "r1")
    assert engine.table("kept").order_by("customer_id").to_pyarrow().to_pydict() == expected


def test_a_b2b_month_equals_a_full_run(
    b2b_demo_folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On the B2B demo three activity tables have windowed counts and sums (orders, events,
    deals): their moves are stacked into one work table, and the month's incremental run
    publishes what the full one does."""
    monkeypatch.setattr(incremental, "MAX_DIRTY_SHARE", 1.0)  # a month touches many
    projects = []
    for name in ("inc", "full"):
        shutil.copytree(b2b_demo_folder, tmp_path / name)
        projects.append(Project.open(tmp_path / name))
    inc, full = projects
    full.config.runs.incremental = False
    try:
        service.run(inc, as_of=AS_OF)
        service.run(full, as_of=AS_OF)
        found = run_both(inc, full, datetime(2026, 10, 1))
        assert found.traits is not None
        assert found.traits["path"] == "incremental", found.traits
        assert found.traits["shifted"] > 0
        shifted_tables = {
            t
            for t in incremental._tables(inc.engine)
            if incremental._windowed(t, inc.config.traits, True)
        }
        assert len(shifted_tables) >= 3, shifted_tables
    finally:
        for p in projects:
            p.close()
