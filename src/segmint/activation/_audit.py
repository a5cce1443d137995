"""The audit log of exports and the membership each destination holds.

``export_log``: one row per export: when, segment, destination, kind, mode, run, who
(the OS user or ``--actor``), rows sent, entered, exited, suppressed (total and per
reason), where it went, status and error.  No personal data.

``destination_members``: who each destination holds per segment after its last
successful sync, the base of the next delta.
"""

from __future__ import annotations

import getpass
import json
import os
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from segmint.engine import Engine

EXPORT_LOG = "export_log"
DESTINATION_MEMBERS = "destination_members"
PENDING_MEMBERS = "destination_members_pending"
LOG_SCHEMA = pa.schema(
    [
        ("export_id", pa.string()),
        ("exported_at", pa.timestamp("us")),
        ("segment", pa.string()),
        ("destination", pa.string()),
        ("kind", pa.string()),
        ("mode", pa.string()),
        ("run_id", pa.string()),
        ("actor", pa.string()),
        ("members", pa.int64()),
        ("rows_sent", pa.int64()),
        ("entered", pa.int64()),
        ("exited", pa.int64()),
        ("suppressed", pa.int64()),
        ("suppressed_by_reason", pa.string()),
        ("location", pa.string()),
        ("status", pa.string()),
        ("error", pa.string()),
    ]
)


def default_actor() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no user name in a container without passwd entry
        return os.environ.get("USER", "unknown")


@dataclass
class ExportReport:
    """What one export did."""

    export_id: str
    exported_at: datetime
    segment: str
    destination: str
    kind: str
    mode: str
    run_id: str
    actor: str
    members: int = 0
    rows_sent: int = 0
    entered: int = 0
    exited: int = 0
    suppressed: int = 0
    suppressed_by_reason: dict[str, int] = field(default_factory=dict)
    location: str = ""
    status: str = "succeeded"
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def record(engine: Engine, report: ExportReport) -> None:
    row = report.to_dict()
    row["suppressed_by_reason"] = json.dumps(report.suppressed_by_reason, sort_keys=True)
    engine.append(EXPORT_LOG, pa.Table.from_pylist([row], schema=LOG_SCHEMA))


def export_log(engine: Engine, limit: int = 50) -> list[dict[str, Any]]:
    if not engine.has_table(EXPORT_LOG):
        return []
    t = engine.table(EXPORT_LOG).order_by(ibis.desc("exported_at")).limit(limit)
    return list(t.to_pyarrow().to_pylist())


_MEMBER_SCHEMA = ibis.schema(
    {"destination": "string", "segment": "string", "customer_id": "string", "run_id": "string"}
)


def synced_members(engine: Engine, destination: str, segment: str) -> ir.Table:
    """``customer_id`` of everyone ``destination`` holds for ``segment``."""
    if not engine.has_table(DESTINATION_MEMBERS):
        return ibis.memtable({"customer_id": []}, schema={"customer_id": "string"})
    m = engine.table(DESTINATION_MEMBERS)
    return m.filter((m.destination == destination) & (m.segment == segment)).select("customer_id")


def _stamped(ids: ir.Table, destination: str, segment: str, run_id: str) -> ir.Table:
    return ids.select(
        destination=ibis.literal(destination, type="string"),
        segment=ibis.literal(segment, type="string"),
        customer_id=ids.customer_id.cast("string"),
        run_id=ibis.literal(run_id, type="string"),
    )


def _replace(
    engine: Engine, name: str, destination: str, segment: str, new: ir.Table | None
) -> None:
    if engine.has_table(name):
        if engine.name == "duckdb":  # a DELETE: the table is not rewritten on every sync
            engine.con.con.execute(
                f'DELETE FROM "{name}" WHERE destination = ? AND segment = ?',
                [destination, segment],
            )
        else:
            m = engine.table(name)
            keep = ~((m.destination == destination) & (m.segment == segment))
            engine.write(name, m.filter(keep).to_pyarrow())
    if new is not None:
        engine.append(name, new)


def set_synced(engine: Engine, destination: str, segment: str, run_id: str, ids: ir.Table) -> None:
    """``destination`` now holds exactly ``ids`` for ``segment``."""
    _replace(
        engine,
        DESTINATION_MEMBERS,
        destination,
        segment,
        _stamped(ids, destination, segment, run_id),
    )


def set_pending(engine: Engine, destination: str, segment: str, run_id: str, ids: ir.Table) -> None:
    """What ``destination`` will hold once its pending sync is delivered."""
    _replace(
        engine, PENDING_MEMBERS, destination, segment, _stamped(ids, destination, segment, run_id)
    )


def promote_pending(engine: Engine, destination: str, segment: str, run_id: str) -> None:
    """The pending sync was delivered: its membership becomes the synced one."""
    p = engine.table(PENDING_MEMBERS)
    mine = p.filter((p.destination == destination) & (p.segment == segment)).select("customer_id")
    ids = mine.to_pyarrow()
    set_synced(engine, destination, segment, run_id, ibis.memtable(ids))
    _replace(engine, PENDING_MEMBERS, destination, segment, None)
