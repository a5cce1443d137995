"""Loading: read -> map -> validate -> stage -> one atomic merge, and a report.

The guarantees a user relies on live here:

* rows in = rows loaded + rows quarantined, checked before anything is published;
* a load is atomic: the merge into the table, the quarantine entries and the load record
  are written in one unit of work, so a failure leaves the store as it was;
* a load is idempotent: rows are merged on their key (``_key``), so loading the same file
  twice changes nothing, and a corrected file replaces its earlier quarantine entries.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from segmint.config import ReadOptions
from segmint.datamodel import BOOKKEEPING_COLUMNS, Entity
from segmint.engine import Engine
from segmint.exceptions import InputError
from segmint.ingest import _sniff as sniff
from segmint.ingest._mapping import ColumnMapping, map_columns
from segmint.ingest._readers import ROW, RawSource, open_source
from segmint.ingest._validate import (
    NUMERIC_PREFIX,
    QUARANTINE_SCHEMA,
    BatchValidator,
    Conventions,
)

QUARANTINE_TABLE = "quarantine"
LOADS_TABLE = "loads"

Progress = Callable[[int], None]


@dataclass
class LoadReport:
    """What one load did. ``rows_in == rows_loaded + rows_quarantined`` always."""

    load_id: str
    table: str
    source: str
    file: str
    format: str
    rows_in: int
    rows_loaded: int
    rows_quarantined: int
    rows_new: int
    rows_updated: int
    reasons: dict[str, int]
    mapping: dict[str, str]
    extra_columns: list[str]
    encoding: str | None
    delimiter: str | None
    decimal: str | None
    thousands: str | None
    date_formats: dict[str, str | None]
    seconds: float
    examples: list[dict[str, Any]] = field(default_factory=list)
    previously_erased: int = 0  # rows of persons erased by 'segmint forget', loaded again

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def decide_conventions(
    source: RawSource, mapping: ColumnMapping, entity: Entity, options: ReadOptions
) -> Conventions:
    """Number and date formats for the whole file, from its sample unless given."""
    numeric = [h for h, f in mapping.fields.items() if entity.field(f).type in ("integer", "float")]
    # extra columns may hold numbers too (survey answers, market sizes): they vote as well
    values = [v for h in [*numeric, *mapping.extra] for v in source.sample.get(h, [])]
    decimal: str
    thousands: str
    if options.decimal is not None:
        decimal = options.decimal
        thousands = "." if decimal == "," else ""
    elif values:
        decimal, thousands = sniff.detect_number_format(values, source.delimiter)
    else:
        decimal = "," if source.delimiter == ";" else "."
        thousands = "." if decimal == "," else ""
    if options.thousands is not None:
        thousands = options.thousands
    dates: dict[str, str | None] = {}
    for h, f in mapping.fields.items():
        if entity.field(f).type in ("date", "timestamp"):
            dates[h] = options.date_format or sniff.detect_date_format(source.sample.get(h, []))
    return Conventions(decimal, thousands, dates, options.default_country)


def _content_key(t: ir.Table, entity: Entity, mapped: set[str]) -> ir.StringValue:
    """A key from the row's content (a hash of its mapped values), built in the engine.

    For entities such as events whose files often have no id column; where the id column
    is present but empty on a row, the hash stands in for it on that row.
    """
    parts = [t[f.name].cast("string").fill_null("") for f in entity.fields if f.name in mapped]
    hashed = ibis.literal("\x1f").join(parts).hexdigest("md5")
    key_value = t[entity.key[0]].cast("string") if entity.key[0] in mapped else None
    return hashed if key_value is None else key_value.fill_null(hashed)


def _type_extras(staged: ir.Table, validator: BatchValidator) -> ir.Table:
    """Text extra columns that held only numbers in the whole file become numbers."""
    parsed = [c for c in staged.columns if c.startswith(NUMERIC_PREFIX)]
    if not parsed:
        return staged
    replace = {}
    for col in parsed:
        name = col.removeprefix(NUMERIC_PREFIX)
        kind = validator.extra_types.type_of(name)
        if kind != "string":
            replace[name] = staged[col].cast(kind)
    return staged.mutate(**replace).drop(*parsed)


def _align(staged: ir.Table, target_schema: ibis.Schema) -> ir.Table:
    """``staged`` with the target's columns, in its order and types (missing ones null)."""
    cols = []
    for name, dtype in target_schema.items():
        if name in staged.columns:
            col = staged[name]
            cols.append(col if col.type() == dtype else col.cast(dtype).name(name))
        else:
            cols.append(ibis.null().cast(dtype).name(name))
    return staged.select(cols)


def _widen_target(engine: Engine, name: str, staged: ir.Table) -> None:
    """Add columns the new file brings; turn a typed column into text if the file disagrees.

    Never drops data: a value that fits no common type is kept as text.
    """
    target = engine.table(name)
    tschema = target.schema()
    changes: dict[str, ir.Value] = {}
    for col, dtype in staged.schema().items():
        if col not in tschema:
            changes[col] = ibis.null().cast(dtype)
        elif tschema[col] != dtype and col not in BOOKKEEPING_COLUMNS:
            have = tschema[col]
            if have.is_string() or (have.is_floating() and dtype.is_numeric()):
                continue  # the staged values are cast to the column's type on insert
            if have.is_integer() and dtype.is_floating():
                changes[col] = target[col].cast("float64")
            else:
                changes[col] = target[col].cast("string")
    if changes:
        engine.write(name, target.mutate(**changes))


def load_source(
    engine: Engine,
    table: str,
    entity: Entity,
    path: str | Path,
    *,
    source_name: str,
    options: ReadOptions | None = None,
    overrides: Mapping[str, str] | None = None,
    saved_mapping: Mapping[str, str] | None = None,
    progress: Progress | None = None,
    now: datetime | None = None,
) -> LoadReport:
    """Load one file (or database table) into ``table``.

    Parameters
    ----------
    engine
        The project's engine.
    table
        Stored table name (the entity's name, or an external table's).
    entity
        The entity the rows are validated against.
    path
        File path or database URL.
    source_name
        Stored with every row as ``_source``; customer records are kept per source.
    options
        Read options; anything left empty is detected.
    overrides
        ``{source column: field}`` that win over automatic mapping (``--map``).
    saved_mapping
        The mapping this source used last time: applied where its columns are still in
        the file and ``overrides`` do not give the field another column.
    progress
        Called with the number of rows read so far, after each batch.

    Raises
    ------
    InputError
        The file cannot be read, or required fields cannot be mapped.
    """
    started = time.perf_counter()
    options = options or ReadOptions()
    loaded_at = (now or datetime.now(UTC)).replace(tzinfo=None)
    src = open_source(path, options)
    given = dict(overrides or {})
    soft = {
        col: fld
        for col, fld in (saved_mapping or {}).items()
        if col in src.columns and fld not in given.values() and col not in given
    }
    mapping = map_columns(src.columns, entity, soft | given)
    if mapping.missing_required:
        raise InputError(
            f"no column for required field(s) {', '.join(mapping.missing_required)} of table "
            f"{table!r}. The file has: {', '.join(src.columns)}. Map one with "
            f"--map COLUMN={mapping.missing_required[0]}",
            file=src.name,
        )
    conv = decide_conventions(src, mapping, entity, options)
    file_label = Path(src.name).name if src.format != "database" else src.name
    validator = BatchValidator(entity, mapping, conv, file=file_label, source=source_name, now=now)

    stage = engine.temp_name("stage")
    try:
        staging = _stage(engine, stage, src, validator, entity, progress)
        if src.bad_rows:
            staging.add(_bad_row_entries(src, file_label), {"bad_row": len(src.bad_rows)})
        staged = engine.table(stage).mutate(
            _source=ibis.literal(source_name),
            _loaded_at=ibis.literal(loaded_at, type="timestamp"),
        )
        staged = _type_extras(staged, validator)
        if "_key" not in staged.columns:
            mapped = set(mapping.fields.values())
            staged = staged.mutate(_key=_content_key(staged, entity, mapped))
            # rows without an id get their content key as id, so they can be referred to
            key_field = entity.key[0]
            staged = staged.mutate(**{key_field: staged[key_field].fill_null(staged._key)})
        ordered = ["_key", "_source", "_loaded_at", ROW]
        staged = staged.select(*ordered, *[c for c in staged.columns if c not in ordered])
        clean = _drop_duplicates(staged, staging, entity, mapping, file_label)

        quarantine = staging.quarantine()
        rows_loaded = int(clean.count().execute())
        rows_in = staging.rows_read + len(src.bad_rows)
        if rows_in != rows_loaded + quarantine.num_rows:  # the one invariant we never break
            raise AssertionError(
                f"{file_label}: {rows_in} rows in but {rows_loaded} loaded + "
                f"{quarantine.num_rows} quarantined"
            )
        rows_updated = (
            int(clean.semi_join(engine.table(table), "_key").count().execute())
            if engine.has_table(table)
            else 0
        )
        report = LoadReport(
            load_id=uuid.uuid4().hex[:12],
            table=table,
            source=source_name,
            file=src.name,
            format=src.format,
            rows_in=rows_in,
            rows_loaded=rows_loaded,
            rows_quarantined=quarantine.num_rows,
            rows_new=rows_loaded - rows_updated,
            rows_updated=rows_updated,
            reasons=dict(sorted(staging.reasons.items(), key=lambda kv: -kv[1])),
            mapping=dict(mapping.fields),
            extra_columns=[mapping.extra_names[h] for h in mapping.extra],
            encoding=src.encoding,
            delimiter=src.delimiter,
            decimal=conv.decimal if src.format in ("csv", "jsonl", "xlsx") else None,
            thousands=conv.thousands if src.format in ("csv", "jsonl", "xlsx") else None,
            date_formats=conv.date_formats,
            seconds=0.0,
            examples=_examples(quarantine),
        )
        with engine.transaction():
            if engine.has_table(table):
                _widen_target(engine, table, clean)
                engine.merge(table, _align(clean, engine.table(table).schema()))
            else:
                engine.con.create_table(table, clean)
            _replace_quarantine(engine, quarantine, source_name, file_label, table, report.load_id)
            report.seconds = round(time.perf_counter() - started, 3)
            _record_load(engine, report, loaded_at)
        return report
    finally:
        engine.drop(stage)


@dataclass
class _Staging:
    """What staging found besides the valid rows: quarantine entries and reason counts."""

    rows_read: int = 0
    parts: list[pa.Table] = field(default_factory=list)
    reasons: dict[str, int] = field(default_factory=dict)

    def add(self, entries: pa.Table, reasons: Mapping[str, int]) -> None:
        self.parts.append(entries)
        for k, v in reasons.items():
            self.reasons[k] = self.reasons.get(k, 0) + v

    def quarantine(self) -> pa.Table:
        return pa.concat_tables(self.parts) if self.parts else QUARANTINE_SCHEMA.empty_table()


def _stage(
    engine: Engine,
    stage: str,
    src: RawSource,
    validator: BatchValidator,
    entity: Entity,
    progress: Progress | None,
) -> _Staging:
    """Validate every batch; valid rows go to a temporary table, the rest to quarantine."""
    staging = _Staging()
    created = False
    for batch in src.batches:
        result = validator.validate(batch)
        staging.rows_read += batch.num_rows
        staging.add(result.quarantine, result.reasons)
        if created and result.valid.num_rows:
            engine.con.insert(stage, result.valid)
        elif not created:
            engine.con.create_table(stage, result.valid, temp=True, overwrite=True)
            created = True
        if progress:
            progress(staging.rows_read)
    if not created:  # a file with a header and no rows
        schema = pa.schema([("_key", pa.string()), *entity.arrow_schema])
        empty = schema.append(pa.field(ROW, pa.int64())).empty_table()
        engine.con.create_table(stage, empty, temp=True, overwrite=True)
    return staging


def _drop_duplicates(
    staged: ir.Table,
    staging: _Staging,
    entity: Entity,
    mapping: ColumnMapping,
    file_label: str,
) -> ir.Table:
    """Duplicate keys inside one file: the first occurrence loads, later ones are quarantined.

    A hash aggregate finds the duplicated keys; the ranking runs on those keys only.
    """
    dup_keys = (
        staged.group_by("_key").aggregate(n=staged.count()).filter(lambda t: t.n > 1)
    ).select("_key")
    if not int(dup_keys.count().execute()):
        return staged
    among = staged.semi_join(dup_keys, "_key")
    ranked = among.mutate(_dup=ibis.row_number().over(group_by="_key", order_by=among[ROW]))
    dups = ranked.filter(ranked._dup > 0).drop("_dup").to_pyarrow()
    staging.add(
        _duplicate_entries(dups, entity, mapping, file_label), {"duplicate_key": dups.num_rows}
    )
    return staged.anti_join(ibis.memtable(dups.select([ROW])), ROW)


def _bad_row_entries(src: RawSource, file_label: str) -> pa.Table:
    return pa.table(
        {
            "file": [file_label] * len(src.bad_rows),
            "row": pa.array([b.row for b in src.bad_rows], pa.int64()),
            "column": pa.nulls(len(src.bad_rows), pa.string()),
            "value": pa.array([b.text[:200] for b in src.bad_rows], pa.string()),
            "reason": [b.reason for b in src.bad_rows],
            "detail": [b.detail for b in src.bad_rows],
            "record": [b.text for b in src.bad_rows],
        },
        schema=QUARANTINE_SCHEMA,
    )


def _duplicate_entries(
    dups: pa.Table, entity: Entity, mapping: ColumnMapping, file_label: str
) -> pa.Table:
    import json

    by_field = {f: h for h, f in mapping.fields.items()}
    key_field = next((k for k in entity.key if k in by_field), entity.key[0])
    column = by_field.get(key_field, key_field)
    records = dups.drop_columns(
        [c for c in dups.column_names if c in BOOKKEEPING_COLUMNS and c != ROW]
    ).to_pylist()
    return pa.table(
        {
            "file": [file_label] * dups.num_rows,
            "row": dups.column(ROW),
            "column": [column] * dups.num_rows,
            "value": [None if r.get(key_field) is None else str(r.get(key_field)) for r in records],
            "reason": ["duplicate_key"] * dups.num_rows,
            "detail": [
                "the same key appears on an earlier row of this file; the first one was loaded"
            ]
            * dups.num_rows,
            "record": [
                json.dumps(
                    {k: v for k, v in r.items() if k != ROW and v is not None},
                    default=str,
                    ensure_ascii=False,
                )
                for r in records
            ],
        },
        schema=QUARANTINE_SCHEMA,
    )


def _examples(quarantine: pa.Table, per_reason: int = 3) -> list[dict[str, Any]]:
    if quarantine.num_rows == 0:
        return []
    seen: dict[str, int] = {}
    out = []
    for r in quarantine.select(["file", "row", "column", "value", "reason"]).to_pylist():
        if seen.get(r["reason"], 0) < per_reason:
            seen[r["reason"]] = seen.get(r["reason"], 0) + 1
            out.append(r)
    return sorted(out, key=lambda r: r["row"] or 0)


def _replace_quarantine(
    engine: Engine,
    quarantine: pa.Table,
    source: str,
    file_label: str,
    table: str,
    load_id: str,
) -> None:
    """This source's quarantine entries for this file are replaced by the new ones."""
    q = quarantine
    n = q.num_rows
    q = q.append_column("table", pa.array([table] * n, pa.string()))
    q = q.append_column("_source", pa.array([source] * n, pa.string()))
    q = q.append_column("load_id", pa.array([load_id] * n, pa.string()))
    if not engine.has_table(QUARANTINE_TABLE):
        engine.con.create_table(QUARANTINE_TABLE, q)
        return
    old = engine.table(QUARANTINE_TABLE)
    kept = old.filter(~((old._source == source) & (old.file == file_label)))
    new = ibis.memtable(q)
    engine.write(QUARANTINE_TABLE, kept.union(new.select(old.columns)))


def _record_load(engine: Engine, report: LoadReport, loaded_at: datetime) -> None:
    import json

    row = pa.table(
        {
            "load_id": [report.load_id],
            "loaded_at": pa.array([loaded_at], pa.timestamp("us")),
            "table": [report.table],
            "source": [report.source],
            "file": [report.file],
            "rows_in": [report.rows_in],
            "rows_loaded": [report.rows_loaded],
            "rows_quarantined": [report.rows_quarantined],
            "rows_new": [report.rows_new],
            "rows_updated": [report.rows_updated],
            "report": [json.dumps(report.to_dict(), ensure_ascii=False, default=str)],
        }
    )
    engine.append(LOADS_TABLE, row)
