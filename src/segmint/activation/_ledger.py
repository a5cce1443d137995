"""Resumable delivery: a sync's batches, stored before anything is sent, and a cursor.

A destination that delivers in batches (the webhook) gets a :class:`Ledger`.  When a sync
starts, every record is written to ``sync_outbox`` with its batch number, and
``sync_cursor`` records the sync with ``next_batch = 0``.  The cursor moves past a batch
only once the destination acknowledged it, so after a crash or a failed batch the next
export resends from the first unacknowledged batch, with the same records and the same
idempotency keys, before anything new is computed.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import ibis
import pyarrow as pa

from segmint.engine import Engine

OUTBOX = "sync_outbox"
CURSOR = "sync_cursor"
CURSOR_SCHEMA = pa.schema(
    [
        ("destination", pa.string()),
        ("sync_id", pa.string()),
        ("segment", pa.string()),
        ("run_id", pa.string()),
        ("mode", pa.string()),
        ("batches", pa.int64()),
        ("next_batch", pa.int64()),
        ("records", pa.int64()),
        ("created_at", pa.timestamp("us")),
    ]
)


@dataclass(frozen=True)
class Batch:
    """One batch to deliver: its number, idempotency key and records."""

    number: int
    of: int
    key: str
    records: list[dict[str, Any]]


@dataclass(frozen=True)
class PendingSync:
    destination: str
    sync_id: str
    segment: str
    run_id: str
    mode: str
    batches: int
    next_batch: int
    records: int
    created_at: datetime


class Ledger:
    """The outbox and cursor of one destination, in the store."""

    def __init__(self, engine: Engine, destination: str) -> None:
        self.engine = engine
        self.destination = destination

    def pending(self) -> PendingSync | None:
        """The unfinished sync of this destination, if any."""
        if not self.engine.has_table(CURSOR):
            return None
        c = self.engine.table(CURSOR)
        rows = c.filter(c.destination == self.destination).to_pyarrow().to_pylist()
        return PendingSync(**rows[0]) if rows else None

    def start(
        self,
        *,
        segment: str,
        run_id: str,
        mode: str,
        rows: pa.Table,
        batch_size: int,
        now: datetime,
    ) -> PendingSync:
        """Store every record of a new sync with its batch number; the cursor at 0.

        Call inside a transaction together with the pending membership.
        """
        sync_id = uuid.uuid4().hex
        n = rows.num_rows
        records = [
            json.dumps(
                {k: v for k, v in r.items() if v is not None}, default=str, ensure_ascii=False
            )
            for r in rows.to_pylist()
        ]
        outbox = pa.table(
            {
                "destination": pa.array([self.destination] * n, pa.string()),
                "sync_id": pa.array([sync_id] * n, pa.string()),
                "batch_no": pa.array([i // batch_size for i in range(n)], pa.int64()),
                "seq": pa.array(range(n), pa.int64()),
                "customer_id": rows.column("customer_id").cast(pa.string()),
                "change": rows.column("change").cast(pa.string()),
                "record": pa.array(records, pa.string()),
            }
        )
        if n:
            self.engine.append(OUTBOX, outbox)
        sync = PendingSync(
            destination=self.destination,
            sync_id=sync_id,
            segment=segment,
            run_id=run_id,
            mode=mode,
            batches=(n + batch_size - 1) // batch_size,
            next_batch=0,
            records=n,
            created_at=now,
        )
        self._write_cursor(sync)
        return sync

    def _write_cursor(self, sync: PendingSync) -> None:
        table = pa.Table.from_pylist([sync.__dict__], schema=CURSOR_SCHEMA)
        if not self.engine.has_table(CURSOR):
            self.engine.write(CURSOR, table)
            return
        c = self.engine.table(CURSOR)
        kept = c.filter(c.destination != self.destination)
        self.engine.write(CURSOR, kept.union(ibis.memtable(table).select(c.columns)).to_pyarrow())

    def remaining(self) -> list[int]:
        sync = self.pending()
        return [] if sync is None else list(range(sync.next_batch, sync.batches))

    def batch(self, number: int) -> Batch:
        sync = self.pending()
        assert sync is not None, "no pending sync"
        o = self.engine.table(OUTBOX)
        mine = o.filter(
            (o.destination == self.destination)
            & (o.sync_id == sync.sync_id)
            & (o.batch_no == number)
        ).order_by("seq")
        records = [json.loads(r) for r in mine.record.to_pyarrow().to_pylist()]
        return Batch(number, sync.batches, f"{sync.sync_id}-{number}", records)

    def acknowledge(self, number: int) -> None:
        """The destination accepted batch ``number``: the cursor moves past it."""
        sync = self.pending()
        if sync is None or sync.next_batch != number:
            raise RuntimeError(f"batch {number} acknowledged out of order")
        with self.engine.transaction():
            self._write_cursor(PendingSync(**{**sync.__dict__, "next_batch": number + 1}))

    def clear(self) -> None:
        """Forget the finished sync (call inside the transaction that marks it synced)."""
        for name in (OUTBOX, CURSOR):
            if self.engine.has_table(name):
                t = self.engine.table(name)
                self.engine.write(name, t.filter(t.destination != self.destination).to_pyarrow())
