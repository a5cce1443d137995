"""Runs: one recorded, atomic execution of a project (traits -> segments -> snapshots).

A run first computes everything into work tables, then publishes it in one unit of work:
the snapshot, deltas and sizes of every segment, the customer traits, and its own record
as ``succeeded``. If anything fails before or during publishing, nothing of it is visible:
the previous run's results stay current and the run is recorded as ``failed`` with the
error. A run killed outside Python's control stays ``running`` in the record; the next run
marks such runs ``interrupted``.
"""

from __future__ import annotations

import json
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from segmint.engine import Engine
from segmint.fits import FITS, StoredFit, fits_table, prune_fits
from segmint.segments import _snapshots as snapshots

RUNS = "runs"
TRAITS = "customer_traits"
CARDS = "model_cards"
CARD_SCHEMA = pa.schema(
    [("run_id", pa.string()), ("as_of", pa.timestamp("us")), ("model", pa.string()),
     ("card", pa.string())]
)  # fmt: skip

RUN_SCHEMA = pa.schema(
    [
        ("run_id", pa.string()),
        ("as_of", pa.timestamp("us")),
        ("started_at", pa.timestamp("us")),
        ("finished_at", pa.timestamp("us")),
        ("status", pa.string()),
        ("customers", pa.int64()),
        ("segments", pa.int64()),
        ("seconds", pa.float64()),
        ("error", pa.string()),
    ]
)


@dataclass
class Evaluated:
    """What a run evaluates: the customer base with traits, and members per segment.

    ``traits`` is what the run stores as ``customer_traits`` (default: all of ``base``);
    ``scratch`` names work tables the evaluation made; the run drops them when done;
    ``cards`` are the model cards of the models fitted for the run (stored with it);
    ``fits`` the fitted models a later run may re-use (``segmint.fits``); ``kept`` the raw
    customer base to keep for the next run's incremental traits, ``base_path`` how the
    base was computed (``segmint.traits._incremental``); ``traits_work`` a stored work
    table whose columns, less some, are ``traits``: the run moves it into place as
    ``customer_traits`` (``Engine.replace_with``) instead of copying it.
    """

    base: ir.Table
    members: dict[str, ir.Table]
    scratch: list[str] = field(default_factory=list)
    traits: ir.Table | None = None
    cards: list[dict[str, Any]] = field(default_factory=list)
    fits: list[StoredFit] = field(default_factory=list)
    kept: Kept | None = None
    base_path: dict[str, Any] | None = None
    traits_work: str | None = None


class Kept(Protocol):
    """A run's customer base kept for the next run (``segmint.traits._incremental``)."""

    def publish(self, engine: Engine, run_id: str) -> None: ...

    def prune(self, engine: Engine) -> None: ...

    def discard(self, engine: Engine) -> None: ...


class Evaluation(Protocol):
    """Evaluates a project as of a date."""

    def __call__(self, engine: Engine, as_of: datetime) -> Evaluated: ...


@dataclass
class SegmentResult:
    size: int
    entered: int
    exited: int


@dataclass
class RunResult:
    """What one run found."""

    run_id: str
    as_of: datetime
    status: str
    customers: int
    seconds: float
    segments: dict[str, SegmentResult] = field(default_factory=dict)
    previous_run: str | None = None
    traits: dict[str, Any] | None = None  # how the customer base was computed, and why
    syncs: list[dict[str, Any]] = field(default_factory=list)  # destinations synced after it

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def new_run_id(now: datetime) -> str:
    """Sortable by time: run ids order runs."""
    return now.strftime("%Y%m%dT%H%M%S%f")


def last_successful_run(engine: Engine) -> str | None:
    if not engine.has_table(RUNS):
        return None
    r = engine.table(RUNS)
    ok = r.filter(r.status == "succeeded")
    value = ok.run_id.max().execute()
    return None if value is None or value != value else str(value)  # NaN-safe


def current_members(engine: Engine) -> ir.Table | None:
    """Membership (segment, customer_id) at the latest successful run; None before any."""
    return snapshots.run_members(engine, last_successful_run(engine))


def _record(engine: Engine, row: dict[str, Any]) -> None:
    """Insert or replace the record of one run."""
    table = pa.Table.from_pylist([row], schema=RUN_SCHEMA)
    if not engine.has_table(RUNS):
        engine.write(RUNS, table)
        return
    engine.merge(RUNS, ibis.memtable(table), on="run_id")


def _mark_interrupted(engine: Engine) -> None:
    if not engine.has_table(RUNS):
        return
    r = engine.table(RUNS)
    stale = r.filter(r.status == "running").to_pyarrow()
    for row in stale.to_pylist():
        row.update(status="interrupted", error="the process ended before the run finished")
        _record(engine, row)
    if stale.num_rows:
        for name in engine.stored_work_tables():  # the interrupted run's work tables
            engine.drop(name)


def run(
    engine: Engine,
    evaluate: Evaluation,
    *,
    as_of: datetime | None = None,
    keep_snapshots: int = 10,
    progress: Callable[[str], None] | None = None,
    now: datetime | None = None,
) -> RunResult:
    """Evaluate and publish one run; see the module docstring for the guarantees."""
    say = progress or (lambda _m: None)
    started = (now or datetime.now(UTC)).replace(tzinfo=None)
    as_of = as_of or started
    run_id = new_run_id(started)
    clock = time.perf_counter()
    _mark_interrupted(engine)
    previous = last_successful_run(engine)
    record: dict[str, Any] = {
        "run_id": run_id,
        "as_of": as_of,
        "started_at": started,
        "finished_at": None,
        "status": "running",
        "customers": None,
        "segments": None,
        "seconds": None,
        "error": None,
    }
    _record(engine, record)
    work: list[str] = []
    result: Evaluated | None = None
    committed = False
    try:
        say("Computing traits and segments")
        result = evaluate(engine, as_of)
        work.extend(result.scratch)
        customers = int(result.base.count().execute())
        members = result.members
        say("Publishing")
        with engine.transaction():
            snapshots.publish(
                engine, run_id=run_id, as_of=as_of, members=members, previous_run=previous
            )
            _publish_traits(engine, result, run_id, as_of)
            if result.cards:
                engine.append(CARDS, _cards_table(run_id, as_of, result.cards))
            if result.fits:
                engine.append(FITS, fits_table(run_id, result.fits))
            if result.kept is not None:
                result.kept.publish(engine, run_id)
            record.update(
                status="succeeded",
                finished_at=datetime.now(UTC).replace(tzinfo=None),
                customers=customers,
                segments=len(members),
                seconds=round(time.perf_counter() - clock, 3),
            )
            _record(engine, record)
        committed = True
        kept = _recent_successful(engine, keep_snapshots)
        snapshots.prune_snapshots(engine, kept)
        prune_fits(engine, kept)
        if result.kept is not None:
            result.kept.prune(engine)
    except BaseException as e:
        if result is not None and result.kept is not None and not committed:
            result.kept.discard(engine)
        record.update(
            status="failed",
            finished_at=datetime.now(UTC).replace(tzinfo=None),
            seconds=round(time.perf_counter() - clock, 3),
            error=f"{type(e).__name__}: {e}\n{traceback.format_exc(limit=5)}",
        )
        _record(engine, record)
        raise
    finally:
        for name in work:
            engine.drop(name)
    return RunResult(
        run_id=run_id,
        as_of=as_of,
        status="succeeded",
        customers=customers,
        seconds=record["seconds"],
        segments=segment_results(engine, run_id),
        previous_run=previous,
        traits=result.base_path,
    )


def _publish_traits(engine: Engine, result: Evaluated, run_id: str, as_of: datetime) -> None:
    """Replace ``customer_traits`` by the run's traits, stamped with the run."""
    stamps = {
        "run_id": ibis.literal(run_id, type="string"),
        "as_of": ibis.literal(as_of, type="timestamp"),
    }
    traits = result.base if result.traits is None else result.traits
    if result.traits_work is None:
        engine.write(TRAITS, traits.mutate(**stamps))
        return
    work = engine.table(result.traits_work).columns
    if list(traits.columns) != [c for c in work if c in traits.columns]:
        raise ValueError(f"traits are not the columns of work table {result.traits_work}")
    drop = [c for c in work if c not in traits.columns]
    engine.replace_with(TRAITS, result.traits_work, drop=drop, constants=stamps)


def _cards_table(run_id: str, as_of: datetime, cards: list[dict[str, Any]]) -> pa.Table:
    rows = [
        {
            "run_id": run_id,
            "as_of": as_of,
            "model": str(c.get("model", "")),
            "card": json.dumps(c, ensure_ascii=False, default=str),
        }
        for c in cards
    ]
    return pa.Table.from_pylist(rows, schema=CARD_SCHEMA)


def model_cards(engine: Engine, run_id: str | None = None) -> list[dict[str, Any]]:
    """The model cards stored with ``run_id`` (default: the last successful run)."""
    run_id = run_id or last_successful_run(engine)
    if run_id is None or not engine.has_table(CARDS):
        return []
    c = engine.table(CARDS)
    rows = c.filter(c.run_id == run_id).order_by("model").to_pyarrow().to_pylist()
    return [json.loads(r["card"]) for r in rows]


def _recent_successful(engine: Engine, n: int) -> list[str]:
    r = engine.table(RUNS)
    ok = r.filter(r.status == "succeeded").order_by(ibis.desc("run_id")).limit(n)
    return [str(x) for x in ok.run_id.to_pyarrow().to_pylist()]


def segment_results(engine: Engine, run_id: str) -> dict[str, SegmentResult]:
    s = engine.table(snapshots.SIZES)
    rows = s.filter(s.run_id == run_id).order_by("segment").to_pyarrow().to_pylist()
    return {r["segment"]: SegmentResult(r["size"], r["entered"], r["exited"]) for r in rows}


def runs(engine: Engine, limit: int = 20) -> list[dict[str, Any]]:
    """The latest runs, newest first."""
    if not engine.has_table(RUNS):
        return []
    r = engine.table(RUNS).order_by(ibis.desc("run_id")).limit(limit)
    return list(r.to_pyarrow().to_pylist())


def sizes_over_time(engine: Engine, segment: str) -> list[dict[str, Any]]:
    if not engine.has_table(snapshots.SIZES):
        return []
    s = engine.table(snapshots.SIZES)
    return list(s.filter(s.segment == segment).order_by("run_id").to_pyarrow().to_pylist())
