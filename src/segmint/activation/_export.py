"""The one export path: members -> consent and suppression -> delta -> destination -> log.

Every export, whatever its destination, goes through :func:`export_segment`:

1. the segment's members at the latest successful run, with their profile;
2. consent and suppression (:mod:`segmint.activation._consent`) remove whoever may not
   be exported there; the reasons are counted;
3. in delta mode, the remaining members are compared with what the destination holds
   after its last successful sync: who entered and who exited;
4. the destination receives only these rows (an :class:`ExportBatch`), never the store;
5. only when it succeeded, the destination's membership is updated (for destinations that
   sync deltas, and webhooks); every attempt is written to the audit log.

A webhook's sync is first stored in its ledger, so a failed or interrupted one is resumed
(same batches, same idempotency keys) by the next export to that destination.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal

import ibis.expr.types as ir
import pyarrow as pa

from segmint.activation import _audit as audit
from segmint.activation._config import DestinationConfig
from segmint.activation._consent import blocked
from segmint.activation._destination import Destination, ExportBatch, destination_for
from segmint.activation._ledger import Ledger
from segmint.activation._members import profiles, segment_members
from segmint.exceptions import ConfigError

if TYPE_CHECKING:
    from segmint.engine import Engine
    from segmint.project import Project

AUDIENCE_KINDS = frozenset(
    {"meta_audience", "google_audience", "linkedin_companies", "linkedin_contacts"}
)
STATEFUL_KINDS = frozenset({"webhook", "postgres"})
ExportReport = audit.ExportReport


def find_destination(project: Project, name: str) -> DestinationConfig:
    for d in project.config.destinations:
        if d.name == name:
            return d
    from segmint.segments._parse import did_you_mean

    names = [d.name for d in project.config.destinations]
    hint = did_you_mean(name, names) or (f"; declared: {', '.join(names)}" if names else "")
    raise ConfigError(f"no destination {name!r} in segmint.yaml{hint}")


@contextlib.contextmanager
def _scratch(engine: Engine) -> Iterator[list[str]]:
    names: list[str] = []
    try:
        yield names
    finally:
        for n in names:
            engine.drop(n)


def _keep(engine: Engine, expr: ir.Table, prefix: str, names: list[str]) -> ir.Table:
    name = engine.temp_name(prefix)
    engine.write(name, expr, temp=True)
    names.append(name)
    return engine.table(name)


def export_segment(
    project: Project,
    segment: str,
    destination: str | DestinationConfig,
    *,
    mode: Literal["full", "delta"] | None = None,
    actor: str | None = None,
    now: datetime | None = None,
    plugin: Destination | None = None,
) -> ExportReport:
    """Export ``segment`` to ``destination`` (a name from segmint.yaml, or settings).

    Raises
    ------
    ConfigError, SegmentNotFoundError
        Unknown destination or segment; no run yet.
    DeliveryError
        The destination did not take the rows; the export is logged as failed (a webhook's
        as pending: the next export resumes it) and the destination's membership is kept.
    """
    dest = (
        destination
        if isinstance(destination, DestinationConfig)
        else find_destination(project, destination)
    )
    engine = project.engine
    plugin = plugin or destination_for(dest.kind)
    when = (now or datetime.now(UTC)).replace(tzinfo=None)
    who = actor or audit.default_actor()
    ledger = Ledger(engine, dest.name) if dest.kind == "webhook" else None
    if ledger is not None and ledger.pending() is not None:
        _resume(project, dest, ledger, plugin, who, when)
    mode = mode or dest.mode
    run_id, members = segment_members(engine, segment)
    report = ExportReport(
        export_id=uuid.uuid4().hex[:12],
        exported_at=when,
        segment=segment,
        destination=dest.name,
        kind=dest.kind,
        mode=mode,
        run_id=run_id,
        actor=who,
    )
    with _scratch(engine) as names:
        members = _keep(engine, members, "export_members", names)
        report.members = int(members.count().execute())
        block = _keep(
            engine,
            blocked(engine, members, dest.consent_channels(), project.config.consent, project.root),
            "export_blocked",
            names,
        )
        counts = block.group_by("reason").agg(n=block.count()).to_pyarrow().to_pylist()
        report.suppressed_by_reason = {
            r["reason"]: int(r["n"]) for r in sorted(counts, key=lambda r: r["reason"])
        }
        report.suppressed = sum(report.suppressed_by_reason.values())
        profile = profiles(engine, run_id).rename(_pid="customer_id")
        # who the destination holds is tracked for deltas: when it syncs deltas, and for the
        # systems that keep what they got (webhook, database table); a full file export
        # replaces its file and needs no second copy of the segment in the store
        tracked = mode == "delta" or dest.mode == "delta" or dest.kind in STATEFUL_KINDS
        allowed = members.anti_join(block, "customer_id")
        if tracked:
            allowed = _keep(engine, allowed, "export_allowed", names)
        kept = allowed.left_join(profile, allowed.customer_id == profile._pid).drop("_pid")
        if mode == "full":
            out = kept.to_pyarrow()
            report.entered = out.num_rows
        else:
            before = audit.synced_members(engine, dest.name, segment)
            entered = kept.anti_join(before, "customer_id").to_pyarrow()
            gone = before.anti_join(allowed, "customer_id")
            if dest.kind in AUDIENCE_KINDS:  # the identifiers to remove someone by
                gone = gone.left_join(profile, gone.customer_id == profile._pid).drop("_pid")
            exited = gone.to_pyarrow()
            report.entered, report.exited = entered.num_rows, exited.num_rows
            out = _stack(entered, exited)
        batch = ExportBatch(dest, segment, run_id, mode, out, when, project.root, ledger)
        try:
            if ledger is not None:
                with engine.transaction():
                    ledger.start(segment=segment, run_id=run_id, mode=mode, rows=_changes(out),
                                 batch_size=dest.batch_size, now=when)  # fmt: skip
                    audit.set_pending(
                        engine, dest.name, segment, run_id, allowed.select("customer_id")
                    )
            delivery = plugin.deliver(batch)
        except Exception as e:
            report.status = "pending" if ledger is not None and ledger.pending() else "failed"
            report.error = f"{type(e).__name__}: {e}"
            with engine.transaction():
                audit.record(engine, report)
            raise
        report.rows_sent, report.location = delivery.sent, delivery.location
        with engine.transaction():
            if ledger is not None:
                audit.promote_pending(engine, dest.name, segment, run_id)
                ledger.clear()
            else:
                if tracked:
                    audit.set_synced(
                        engine, dest.name, segment, run_id, allowed.select("customer_id")
                    )
            audit.record(engine, report)
    return report


def _changes(rows: pa.Table) -> pa.Table:
    if "change" in rows.column_names:
        return rows
    return rows.append_column("change", pa.array(["member"] * rows.num_rows, pa.string()))


def _stack(entered: pa.Table, exited: pa.Table) -> pa.Table:
    """Entered rows then exited rows, one schema, with ``change``."""
    entered = entered.append_column("change", pa.array(["entered"] * entered.num_rows, pa.string()))
    cols = []
    for f in entered.schema:
        if f.name == "change":
            cols.append(pa.array(["exited"] * exited.num_rows, pa.string()))
        elif f.name in exited.column_names:
            cols.append(exited.column(f.name).cast(f.type))
        else:
            cols.append(pa.nulls(exited.num_rows, f.type))
    return pa.concat_tables([entered, pa.table(cols, schema=entered.schema)])


def _resume(
    project: Project,
    dest: DestinationConfig,
    ledger: Ledger,
    plugin: Destination,
    actor: str,
    when: datetime,
) -> ExportReport:
    """Deliver the rest of the destination's unfinished sync, then mark it synced."""
    engine = project.engine
    sync = ledger.pending()
    assert sync is not None
    report = ExportReport(
        export_id=uuid.uuid4().hex[:12],
        exported_at=when,
        segment=sync.segment,
        destination=dest.name,
        kind=dest.kind,
        mode=f"{sync.mode} (resumed)",
        run_id=sync.run_id,
        actor=actor,
        members=sync.records,
    )
    empty = pa.table({"customer_id": pa.array([], pa.string())})
    batch = ExportBatch(dest, sync.segment, sync.run_id, "delta", empty, when, project.root, ledger)
    try:
        delivery = plugin.deliver(batch)
    except Exception as e:
        report.status, report.error = "pending", f"{type(e).__name__}: {e}"
        with engine.transaction():
            audit.record(engine, report)
        raise
    report.rows_sent, report.location = delivery.sent, delivery.location
    with engine.transaction():
        audit.promote_pending(engine, dest.name, sync.segment, sync.run_id)
        ledger.clear()
        audit.record(engine, report)
    return report


def sync_configured(project: Project, *, actor: str | None = None) -> list[ExportReport]:
    """Every (destination, segment) pair of segmint.yaml, as ``segmint run`` does after
    publishing.  One failing sync does not stop the others; it is in the list (and the
    audit log) with its error."""
    reports = []
    for dest in project.config.destinations:
        for segment in dest.segments:
            try:
                reports.append(export_segment(project, segment, dest, actor=actor))
            except Exception as e:
                when = datetime.now(UTC).replace(tzinfo=None)
                reports.append(
                    ExportReport(
                        export_id="", exported_at=when, segment=segment, destination=dest.name,
                        kind=dest.kind, mode=dest.mode, run_id="", actor=actor or "",
                        status="failed", error=f"{type(e).__name__}: {e}",
                    )
                )  # fmt: skip
    return reports


__all__ = ["ExportReport", "export_segment", "find_destination", "sync_configured"]
