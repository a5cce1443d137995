"""Serving replicas: what ``segmint serve`` reads while ``segmint run`` writes the store.

DuckDB lets one process write a file, and while it does no other process may open that
file, not even to read. So every operation that commits to the store and changes what the
server shows (run, demo, load, forget, owners, actions) ends by *publishing a replica*,
while it still holds the store:

1. ``CHECKPOINT`` (the file alone is then the whole database), copy the store file to
   ``<project>/.segmint/serving/<stamp>.duckdb.tmp``;
2. from that copy (never from the store), write the customer lookup beside it, in the
   folder ``<stamp>.lookup``: the store's records, traits, current segments and history in
   binary Arrow files, ordered so one person is a few binary searches away, read
   memory-mapped by the server (:mod:`segmint._serving_lookup` says why and how); no JSON
   is made ahead of time (at a million customers publishing took 10.6 s on a busy 2-core
   machine, against 37 s for a JSON document per person, and the lookup files add about
   two thirds of the store's size: docs/benchmarks.md);
3. rename the copy to ``<stamp>.duckdb`` and atomically replace the pointer ``CURRENT``
   (write a temporary file, :func:`os.replace`);
4. prune older replicas and their lookups (keep the newest two; ``forget`` keeps only the
   new one, so an erased person is gone from every replica too).

:class:`ServingStore` is the reading side: it opens the replica ``CURRENT`` names read-only,
hands out pooled connections (one per concurrent request) and an :class:`Engine` view over
them, so the service layer's read functions run unchanged on the replica (they create only
TEMP tables, which read-only DuckDB allows), and answers the customer lookup from the
replica's lookup files. It looks at the pointer at most once a second and swaps to a new
replica without a restart; a connection of the old replica is closed when its request is
done.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from segmint.exceptions import SegmintError

if TYPE_CHECKING:
    import duckdb

    from segmint.engine import Engine
    from segmint.project import Project

SERVING_DIR = Path(".segmint") / "serving"
POINTER = "CURRENT"
KEEP = 2
#: the table a replica adds (never present in the store itself): run, time, persons
META = "_serving_meta"
#: the suffix of a replica's customer lookup folder (``<stamp>.lookup``)
LOOKUP_SUFFIX = ".lookup"
_OFFLINE: dict[str, str | bool | int | float | list[str]] = {
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
}


class ServerSettings(BaseModel):
    """``server:`` in ``segmint.yaml``: settings of ``segmint serve`` (docs/api.md)."""

    model_config = ConfigDict(extra="forbid")
    cors_origins: list[str] = Field(
        default_factory=list,
        description="Origins (https://crm.example.com) whose pages may call the API; "
        "none by default (CORS closed)",
    )


def serving_dir(root: Path) -> Path:
    return Path(root) / SERVING_DIR


@dataclass(frozen=True)
class Published:
    """One published replica and what publishing it cost."""

    path: Path
    run_id: str | None
    published_at: datetime
    customers: int
    seconds_copy: float
    seconds_lookup: float
    seconds_total: float
    removed: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "run_id": self.run_id,
            "published_at": self.published_at.isoformat(),
            "customers": self.customers,
            "seconds_copy": self.seconds_copy,
            "seconds_lookup": self.seconds_lookup,
            "seconds_total": self.seconds_total,
            "removed": self.removed,
        }


def lookup_dir(replica: Path) -> Path:
    """The customer lookup folder of the replica file ``replica``."""
    return replica.with_name(replica.name.removesuffix(".duckdb") + LOOKUP_SUFFIX)


def store_file(project: Project) -> Path | None:
    """The DuckDB file of the project's store; None for other engines (no replica)."""
    from segmint.engine._duckdb import duckdb_path

    url = project.config.engine.url
    if not url.startswith("duckdb://"):
        return None
    path = duckdb_path(url, project.root)
    return None if path == ":memory:" else Path(path)


def publish(project: Project, *, erase_older: bool = False) -> Published | None:
    """Publish the project's store as the serving replica (see the module docstring).

    Call it at the end of an operation, while the project's engine still holds the store.
    ``erase_older`` deletes every older replica (after an erasure). Projects whose store is
    not a DuckDB file have no replica (None).
    """
    source = store_file(project)
    if source is None or not source.exists():
        return None
    clock = time.perf_counter()
    raw = project.engine.con.con
    raw.execute("CHECKPOINT")
    folder = serving_dir(project.root)
    folder.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC).replace(tzinfo=None)
    stamp = now.strftime("%Y%m%dT%H%M%S%f")
    tmp = folder / f"{stamp}.duckdb.tmp"
    shutil.copyfile(source, tmp)
    copied = time.perf_counter()
    final = folder / f"{stamp}.duckdb"
    lookup_tmp = folder / f"{stamp}{LOOKUP_SUFFIX}.tmp"
    try:
        run_id, customers = build_lookup(tmp, lookup_tmp, published_at=now)
        os.replace(lookup_tmp, lookup_dir(final))
        os.replace(tmp, final)
    except BaseException:
        tmp.unlink(missing_ok=True)
        shutil.rmtree(lookup_tmp, ignore_errors=True)
        shutil.rmtree(lookup_dir(final), ignore_errors=True)
        raise
    looked = time.perf_counter()
    pointer_tmp = folder / f"{POINTER}.{os.getpid()}.tmp"
    pointer_tmp.write_text(final.name + "\n", encoding="utf-8")
    os.replace(pointer_tmp, folder / POINTER)
    removed = prune(folder, keep=1 if erase_older else KEEP)
    return Published(
        path=final,
        run_id=run_id,
        published_at=now,
        customers=customers,
        seconds_copy=round(copied - clock, 3),
        seconds_lookup=round(looked - copied, 3),
        seconds_total=round(time.perf_counter() - clock, 3),
        removed=removed,
    )


def served(root: Path) -> bool:
    """Whether the project is served: ``segmint serve`` has started in it once (it made the
    serving folder). Only then do writing operations publish replicas, so projects that
    are never served pay nothing."""
    return serving_dir(root).is_dir()


def publish_if_served(project: Project, *, erase_older: bool = False) -> Published | None:
    """:func:`publish` when the project is served (see :func:`served`)."""
    if not served(project.root):
        return None
    return publish(project, erase_older=erase_older)


def ensure_replica(
    project: Project, *, say: Callable[[str], None] | None = None, wait: float = 3600.0
) -> Published | None:
    """Mark the project served and publish a replica unless a current one exists (one at
    least as new as the store file). Waits for a running operation to release the store
    when there is no replica at all; with an older one, the server starts on it and the
    running operation publishes when it ends."""
    serving_dir(project.root).mkdir(parents=True, exist_ok=True)
    source = store_file(project)
    if source is None:
        raise NoReplicaError(
            f"segmint serve needs a DuckDB store file; this project's engine is "
            f"{project.config.engine.url}"
        )
    existing = current_replica(project.root)
    if existing is not None and not lookup_dir(existing).is_dir():
        existing = None  # published by an earlier segmint, without lookup files
    wal = source.with_name(source.name + ".wal")
    changed = max(source.stat().st_mtime, wal.stat().st_mtime if wal.exists() else 0.0)
    if existing is not None and existing.stat().st_mtime >= changed:
        return None
    deadline = time.monotonic() + wait
    told = False
    while True:
        try:
            project.engine  # noqa: B018  (opens the store read-write)
            break
        except Exception as e:
            locked = "lock" in str(e).lower()
            if not locked or existing is not None or time.monotonic() > deadline:
                if locked and existing is not None:
                    return None
                raise
            if say is not None and not told:
                say("The store is busy (a run?): waiting for it to publish a replica")
                told = True
            time.sleep(1.0)
    return publish(project)


def set_aside(root: Path) -> Callable[[], None]:
    """Keep a served project's server state across a rebuild of its folder (``segmint
    demo`` into an earlier demo): its tokens, users and audit log (``server.sqlite``) and
    its served mark are moved aside; the function returned puts them back, so the rebuilt
    project's run publishes and a running server swaps to it."""
    state = Path(root) / ".segmint"
    files = list(state.glob("server.sqlite*"))
    was_served = served(root)
    if not files and not was_served:
        return lambda: None
    aside = Path(tempfile.mkdtemp(prefix=".segmint-aside-", dir=Path(root).parent))
    for f in files:
        shutil.move(f, aside / f.name)

    def restore() -> None:
        if not aside.exists():  # put back already
            return
        state.mkdir(parents=True, exist_ok=True)
        if was_served:
            serving_dir(root).mkdir(parents=True, exist_ok=True)
        for f in aside.iterdir():
            shutil.move(f, state / f.name)
        aside.rmdir()

    return restore


def prune(folder: Path, *, keep: int = KEEP) -> list[str]:
    """Delete all but the newest ``keep`` replicas (never the one ``CURRENT`` names).

    Unlinking a replica a server still has open is safe on POSIX: the server keeps reading
    it until it swaps to the new one, then the space is freed.
    """
    current = current_replica(folder.parent.parent)
    files = sorted(folder.glob("*.duckdb"), reverse=True)
    removed = []
    for f in files[keep:]:
        if current is not None and f == current:
            continue
        f.unlink(missing_ok=True)
        shutil.rmtree(lookup_dir(f), ignore_errors=True)
        removed.append(f.name)
    kept = {lookup_dir(f).name for f in folder.glob("*.duckdb")}
    for orphan in folder.glob(f"*{LOOKUP_SUFFIX}"):  # its replica is gone
        if orphan.name not in kept:
            shutil.rmtree(orphan, ignore_errors=True)
    for stale in folder.glob("*.tmp"):  # a publisher that died half way
        if time.time() - stale.stat().st_mtime > 3600:
            if stale.is_dir():
                shutil.rmtree(stale, ignore_errors=True)
            else:
                stale.unlink(missing_ok=True)
    return removed


def current_replica(root: Path) -> Path | None:
    """The replica ``CURRENT`` names, if any."""
    pointer = serving_dir(root) / POINTER
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    path = serving_dir(root) / name
    return path if name and path.exists() else None


# -- the lookup -----------------------------------------------------------------------------
def _memory_limit() -> str:
    """A third of the machine's memory (at least 1 GB) for building the lookup."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return "4GB"
    return f"{max(1, total // 3 // 2**30)}GB"


def build_lookup(path: Path, folder: Path, *, published_at: datetime) -> tuple[str | None, int]:
    """Write the customer lookup of the replica at ``path`` into ``folder`` and record
    what the replica holds in its :data:`META` table; returns (run, persons).

    A person's answer is what :func:`segmint.service.customer` returns: ``customer_id``
    (the person), ``records`` (every source record of the person's customer ids),
    ``traits`` (of the last run), ``segments`` (current, sorted) and ``history`` (entered
    and exited, by run and segment); any customer id merged into the person finds them.
    """
    import duckdb

    from segmint._serving_lookup import build

    con = duckdb.connect(str(path), config=_OFFLINE)
    try:
        rows = con.execute("SELECT table_name FROM information_schema.tables").fetchall()
        have = {r[0] for r in rows}
        run_id = None
        if "runs" in have:
            row = con.execute("SELECT max(run_id) FROM runs WHERE status = 'succeeded'").fetchone()
            run_id = row[0] if row else None
        spill = path.parent / "tmp"
        spill.mkdir(exist_ok=True)
        con.execute(f"SET temp_directory = '{spill}'")
        con.execute(f"SET memory_limit = '{_memory_limit()}'")
        count = build(con, folder, run_id=run_id)
        con.execute(
            f"CREATE TABLE {META} AS SELECT $run::VARCHAR AS run_id, "
            "$at::TIMESTAMP AS published_at, $n::BIGINT AS customers",
            {"run": run_id, "at": published_at, "n": count},
        )
        con.execute("CHECKPOINT")
    finally:
        con.close()
    return run_id, count


# -- the reading side ---------------------------------------------------------------------
class NoReplicaError(SegmintError, LookupError):
    """The project has no serving replica yet."""


class _Replica:
    """One opened replica: a read-only database and a pool of its connections."""

    def __init__(self, path: Path) -> None:
        import duckdb

        from segmint._serving_lookup import CustomerIndex

        self.path = path
        self.con = duckdb.connect(str(path), read_only=True, config=_OFFLINE)
        folder = lookup_dir(path)
        # a replica published by an earlier segmint has no lookup files (the next
        # publication adds them)
        self.customers_index = CustomerIndex(folder) if folder.is_dir() else None
        row = self.con.execute(f"SELECT run_id, published_at, customers FROM {META}").fetchone()
        self.run_id: str | None = row[0] if row else None
        self.published_at: datetime | None = row[1] if row else None
        self.customers: int = int(row[2]) if row else 0
        self._idle: list[Any] = []
        self._lock = threading.Lock()
        self._in_use = 0
        self.retired = False
        self.closed = False

    def take(self) -> Any | None:
        """A pooled connection; None once the replica is retired and closed."""
        with self._lock:
            if self.closed:
                return None
            self._in_use += 1
            if self._idle:
                return self._idle.pop()
            return _Pooled(self.con.cursor())

    def give(self, item: Any) -> None:
        with self._lock:
            self._in_use -= 1
            if not self.retired:
                self._idle.append(item)
                return
            item.close()
            self._close_if_unused()

    def retire(self) -> None:
        """Close the idle connections now, the busy ones as their requests end, and the
        database with the last of them (closing it first would break them)."""
        with self._lock:
            self.retired = True
            idle, self._idle = self._idle, []
            for item in idle:
                item.close()
            self._close_if_unused()

    def _close_if_unused(self) -> None:
        if self._in_use == 0 and not self.closed:
            self.closed = True
            if self.customers_index is not None:
                self.customers_index.close()
            with contextlib.suppress(Exception):
                self.con.close()


class _Pooled:
    """A pooled connection and, made on first use, an Engine over it."""

    def __init__(self, cursor: duckdb.DuckDBPyConnection) -> None:
        self.cursor = cursor
        self._engine: Engine | None = None

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            import ibis

            from segmint.engine._duckdb import DuckDBEngine

            self._engine = DuckDBEngine(ibis.duckdb.from_connection(self.cursor), "replica")
        return self._engine

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.cursor.close()


@dataclass(frozen=True)
class ReplicaInfo:
    """Which replica the server reads, and what it holds."""

    name: str
    run_id: str | None
    published_at: datetime | None
    customers: int


class ServingStore:
    """Read-only access to a project's current serving replica, swapped when a new one
    is published (the pointer is looked at no more than every ``check_every`` seconds)."""

    def __init__(self, root: Path | str, *, check_every: float = 1.0) -> None:
        self.root = Path(root).resolve()
        self.check_every = check_every
        self._replica: _Replica | None = None
        self._checked = 0.0
        self._pointer: tuple[int, int] | None = None
        self._lock = threading.Lock()

    def _pointer_state(self) -> tuple[int, int] | None:
        try:
            st = os.stat(serving_dir(self.root) / POINTER)
        except FileNotFoundError:
            return None
        return (st.st_mtime_ns, st.st_ino)

    def _current(self) -> _Replica:
        now = time.monotonic()
        replica = self._replica
        if replica is not None and now - self._checked < self.check_every:
            return replica
        with self._lock:
            if self._replica is not None and now - self._checked < self.check_every:
                return self._replica
            self._checked = now
            state = self._pointer_state()
            if state != self._pointer or self._replica is None:
                path = current_replica(self.root)
                if path is None:
                    if self._replica is not None:
                        return self._replica
                    raise NoReplicaError(
                        f"{self.root} has no serving replica yet: run 'segmint run' "
                        "(every run publishes one)"
                    )
                if self._replica is None or path != self._replica.path:
                    old, self._replica = self._replica, _Replica(path)
                    if old is not None:
                        old.retire()
                self._pointer = state
            assert self._replica is not None
            return self._replica

    def info(self) -> ReplicaInfo:
        r = self._current()
        return ReplicaInfo(r.path.name, r.run_id, r.published_at, r.customers)

    @contextlib.contextmanager
    def _connection(self) -> Iterator[_Pooled]:
        while True:
            replica = self._current()
            item = replica.take()
            if item is not None:
                break
            self._checked = 0.0  # retired under our feet: look at the pointer again
        try:
            yield item
        finally:
            replica.give(item)

    @contextlib.contextmanager
    def engine(self) -> Iterator[Engine]:
        """An Engine over a pooled read-only connection, for the service layer's reads."""
        with self._connection() as item:
            yield item.engine

    def customer_json(self, customer_id: str) -> str | None:
        """The customer's lookup answer (JSON text), or None when there is no such id."""
        # the lookup files need no connection; the index stays readable after a swap
        # retires its replica, for as long as this call holds it
        index = self._current().customers_index
        if index is None:
            raise NoReplicaError(
                f"{self.root}: the serving replica has no customer lookup yet: run "
                "'segmint run' or restart 'segmint serve' (either publishes one)"
            )
        return index.customer_json(customer_id)

    def customer(self, customer_id: str) -> dict[str, Any] | None:
        doc = self.customer_json(customer_id)
        return None if doc is None else json.loads(doc)

    def close(self) -> None:
        with self._lock:
            if self._replica is not None:
                self._replica.retire()
                self._replica = None
