"""Row validation: raw columns in, typed fields out, every failing row quarantined.

A batch of raw columns (strings from text files, typed columns from Parquet/Excel/databases)
is turned into the entity's typed fields, column by column and vectorised.  A row that fails
any check is not loaded; it goes to quarantine with the file, its row number, the first
column that failed (in file order), the value, a reason code and the whole raw record, so
it can be fixed and loaded again.  Checks that need a library per value (phone numbers,
organisation numbers) run once per distinct value.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from segmint.datamodel import Entity, Field
from segmint.ingest import _normalise as norm
from segmint.ingest import _sniff as sniff
from segmint.ingest._mapping import ColumnMapping
from segmint.ingest._readers import ROW

#: the earliest date any field may hold
MIN_DATE = datetime(1900, 1, 1)
#: fields that may lie in the future (plans, contract ends), up to this far ahead
FUTURE_OK = frozenset({"start_date", "end_date", "closed_date", "contact_date"})
FUTURE_LIMIT = timedelta(days=366 * 10)

QUARANTINE_SCHEMA = pa.schema(
    [
        ("file", pa.string()),
        ("row", pa.int64()),
        ("column", pa.string()),
        ("value", pa.string()),
        ("reason", pa.string()),
        ("detail", pa.string()),
        ("record", pa.string()),
    ]
)

#: values people write for the fixed sets of the data model
ALLOWED_SYNONYMS: dict[str, str] = {
    "person": "person",
    "privat": "person",
    "private": "person",
    "b2c": "person",
    "consumer": "person",
    "company": "company",
    "firma": "company",
    "virksomhed": "company",
    "företag": "company",
    "foretak": "company",
    "bedrift": "company",
    "business": "company",
    "b2b": "company",
    "e-mail": "email",
    "e-post": "email",
    "epost": "email",
    "mail": "email",
    "telefon": "phone",
    "tlf": "phone",
    "brev": "post",
    "annoncer": "ads",
    "annonser": "ads",
    "profilering": "profiling",
    "profilering/analyse": "profiling",
    "treated": "treatment",
    "test": "treatment",
    "behandling": "treatment",
    "behandlet": "treatment",
    "kontrol": "control",
    "kontroll": "control",
    "kontrollgrupp": "control",
    "kontrolgruppe": "control",
    "holdout": "control",
    "vundet": "won",
    "vunnen": "won",
    "vunnet": "won",
    "tabt": "lost",
    "förlorad": "lost",
    "tapt": "lost",
    "åben": "open",
    "öppen": "open",
    "åpen": "open",
}


@dataclass
class Conventions:
    """Per-file decisions, made once from the sample so every batch is read alike."""

    decimal: str = "."
    thousands: str = ""
    date_formats: dict[str, str | None] = field(default_factory=dict)
    default_country: str = "DK"


@dataclass
class Validated:
    """One batch after validation."""

    valid: pa.Table
    quarantine: pa.Table
    reasons: dict[str, int]


def _is_text(arr: pa.ChunkedArray | pa.Array) -> bool:
    return pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)


def _clean_text(arr: pa.Array) -> pa.Array:
    """Trim white space; empty becomes null."""
    trimmed = pc.utf8_trim_whitespace(arr)
    return pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, pa.string()), trimmed)


def _as_text(arr: pa.Array) -> pa.Array:
    """Any typed column as the text a person would read (for messages and string fields)."""
    if _is_text(arr):
        return _clean_text(arr)
    if pa.types.is_floating(arr.type):
        as_int = pc.equal(pc.round(arr), arr)
        return pc.if_else(
            as_int,
            pc.cast(pc.cast(arr, pa.int64(), safe=False), pa.string()),
            pc.cast(arr, pa.string()),
        )
    if pa.types.is_timestamp(arr.type) or pa.types.is_date(arr.type):
        return pc.cast(arr, pa.string())
    return pc.cast(arr, pa.string())


def _per_value(
    values: pa.Array,
    keys: pa.Array | None,
    fn: Callable[[str, Any], str | None],
) -> tuple[pa.Array, np.ndarray]:
    """Apply ``fn(value, key)`` once per distinct (value, key); returns (result, bad mask)."""
    vals = values.to_pylist()
    ks: list[Any] = keys.to_pylist() if keys is not None else [None] * len(vals)
    cache: dict[Hashable, str | None] = {}
    out: list[str | None] = []
    bad = np.zeros(len(vals), dtype=bool)
    for i, (v, k) in enumerate(zip(vals, ks, strict=True)):
        if v is None:
            out.append(None)
            continue
        ck = (v, k)
        if ck not in cache:
            try:
                cache[ck] = fn(v, k)
            except Exception:
                cache[ck] = None
        r = cache[ck]
        out.append(r)
        if r is None:
            bad[i] = True
    return pa.array(out, pa.string()), bad


def _mask(arr: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A boolean pyarrow array (nulls = False) as numpy."""
    return np.asarray(pc.fill_null(arr, False).to_numpy(zero_copy_only=False), dtype=bool)


class BatchValidator:
    """Validate batches of one source against one entity.

    Parameters
    ----------
    entity
        The table the rows load into.
    mapping
        Source column -> field, and the extra columns kept.
    conventions
        Number and date formats decided for the whole file.
    file
        The file name used in quarantine entries.
    """

    def __init__(
        self,
        entity: Entity,
        mapping: ColumnMapping,
        conventions: Conventions,
        *,
        file: str,
        now: datetime | None = None,
    ) -> None:
        self.entity = entity
        self.mapping = mapping
        self.conventions = conventions
        self.file = file
        self.now = (now or datetime.now(UTC)).replace(tzinfo=None)

    # -- per field ------------------------------------------------------------------------
    def _convert(self, f: Field, header: str, raw: pa.Array) -> tuple[pa.Array, np.ndarray, str]:
        """Typed values, bad mask and reason code for one field's raw column."""
        c = self.conventions
        if f.type == "string":
            return _as_text(raw), np.zeros(len(raw), bool), ""
        if f.type in ("integer", "float"):
            if pa.types.is_integer(raw.type) or pa.types.is_floating(raw.type):
                values: pa.Array = pc.cast(raw, pa.float64())
                bad = np.zeros(len(raw), bool)
            else:
                values, bad_arr = sniff.parse_numbers(_clean_text(raw), c.decimal, c.thousands)
                bad = _mask(bad_arr)
            if f.type == "integer":
                frac = _mask(pc.not_equal(pc.round(values), values))
                values = pc.if_else(pa.array(frac), pa.scalar(None, pa.float64()), values)
                return pc.cast(values, pa.int64()), bad | frac, "bad_integer"
            return values, bad, "bad_number"
        if f.type in ("date", "timestamp"):
            if pa.types.is_timestamp(raw.type) or pa.types.is_date(raw.type):
                ts = pc.cast(raw, pa.timestamp("us"))
                bad = np.zeros(len(raw), bool)
            else:
                text = _clean_text(raw)
                fmt = c.date_formats.get(header)
                if fmt is None:
                    ts = pa.nulls(len(raw), pa.timestamp("us"))
                    bad = _mask(pc.is_valid(text))
                else:
                    ts, bad_arr = sniff.parse_dates(text, fmt)
                    ts = pc.cast(ts, pa.timestamp("us"))
                    bad = _mask(bad_arr)
            if f.type == "date":
                return pc.cast(ts, pa.date32()), bad, "bad_date"
            return ts, bad, "bad_date"
        if f.type == "boolean":
            if pa.types.is_boolean(raw.type):
                return raw, np.zeros(len(raw), bool), ""
            if pa.types.is_integer(raw.type) or pa.types.is_floating(raw.type):
                raw = _as_text(raw)
            values, bad_arr = sniff.parse_booleans(_clean_text(raw))
            return values, _mask(bad_arr), "bad_boolean"
        raise AssertionError(f"unknown field type {f.type}")  # pragma: no cover

    def _plausible(self, f: Field, values: pa.Array) -> np.ndarray:
        if f.type not in ("date", "timestamp"):
            return np.zeros(len(values), bool)
        ts = pc.cast(values, pa.timestamp("us"))
        latest = self.now + (FUTURE_LIMIT if f.name in FUTURE_OK else timedelta(days=1))
        too_early = pc.less(ts, pa.scalar(MIN_DATE, pa.timestamp("us")))
        too_late = pc.greater(ts, pa.scalar(latest, pa.timestamp("us")))
        return _mask(pc.or_(too_early, too_late))

    def _check(
        self, f: Field, values: pa.Array, country: pa.Array | None
    ) -> tuple[pa.Array, np.ndarray, str]:
        """Semantic check of one converted field; returns normalised values."""
        n = len(values)
        none = np.zeros(n, bool)
        c = self.conventions
        if f.check == "email":
            out, bad_arr = norm.normalise_emails(values)
            return out, _mask(bad_arr), "bad_email"
        if f.check == "phone":
            keys = country if country is not None else None
            out, bad = _per_value(
                values, keys, lambda v, k: norm.normalise_phone(v, k or c.default_country)
            )
            return out, bad, "bad_phone"
        if f.check == "country":
            out, bad = _per_value(values, None, lambda v, _: norm.normalise_country(v))
            return out, bad, "bad_country"
        if f.check == "postal_code":
            out, bad = _per_value(
                values, country, lambda v, k: norm.normalise_postal_code(v, k or c.default_country)
            )
            return out, bad, "bad_postal_code"
        if f.check == "org_number":
            out, bad = _per_value(values, country, norm.normalise_org_number)
            return out, bad, "bad_org_number"
        if f.check == "personal_number":
            out, bad = _per_value(
                values,
                country,
                lambda v, k: norm.normalise_personal_number(v, k or c.default_country),
            )
            return out, bad, "bad_personal_number"
        if f.check == "nace":
            out, bad = _per_value(values, None, lambda v, _: norm.normalise_nace(v))
            return out, bad, "bad_nace"
        if f.check == "nps":
            bad = _mask(pc.or_(pc.less(values, 0), pc.greater(values, 10)))
            return values, bad, "out_of_range"
        if f.check == "non_negative":
            return values, _mask(pc.less(values, 0)), "out_of_range"
        if f.allowed:
            lowered = pc.utf8_lower(values)
            mapped = pa.array(
                [
                    ALLOWED_SYNONYMS.get(v, v) if v is not None else None
                    for v in lowered.to_pylist()
                ],
                pa.string(),
            )
            ok = pc.is_in(mapped, value_set=pa.array(list(f.allowed)))
            bad = _mask(pc.and_(pc.is_valid(mapped), pc.invert(ok)))
            return mapped, bad, "not_allowed"
        return values, none, ""

    # -- per batch ------------------------------------------------------------------------
    def validate(self, batch: pa.RecordBatch | pa.Table) -> Validated:
        table = pa.Table.from_batches([batch]) if isinstance(batch, pa.RecordBatch) else batch
        table = table.combine_chunks()
        n = table.num_rows
        reason = np.full(n, None, dtype=object)
        column = np.full(n, None, dtype=object)
        detail = np.full(n, None, dtype=object)
        out: dict[str, pa.Array] = {}

        def flag(bad: np.ndarray, code: str, header: str) -> None:
            new = bad & (reason == None)  # noqa: E711  (numpy elementwise)
            reason[new] = code
            column[new] = header

        by_field = {fld: hdr for hdr, fld in self.mapping.fields.items()}
        # country first: phones, postal codes and org numbers are read by the row's country
        country: pa.Array | None = None
        order = sorted(
            self.mapping.fields.items(),
            key=lambda kv: (kv[1] != "country", table.column_names.index(kv[0])),
        )
        for header, name in order:
            f = self.entity.field(name)
            raw = table.column(header).combine_chunks()
            present = _mask(pc.is_valid(_as_text(raw)))
            values, bad, code = self._convert(f, header, raw)
            flag(bad, code, header)
            flag(self._plausible(f, values) & ~bad, "implausible_date", header)
            if f.check or f.allowed:
                values, bad2, code2 = self._check(f, values, country if name != "country" else None)
                flag(bad2 & ~bad, code2, header)
            if f.default is not None:
                default = self._convert(f, header, pa.array([f.default], pa.string()))[0][0]
                values = pc.fill_null(values, default)
            if f.required:
                flag(~present, "missing_required", header)
            if name == "country":
                country = values
            out[name] = values
        for name in self.entity.required:
            if name not in by_field:  # checked at mapping time; guard all the same
                flag(np.ones(n, bool), "missing_required", name)

        for f in self.entity.fields:
            if f.name not in out:
                if f.default is not None:
                    dv = self._convert(f, f.name, pa.array([f.default] * n, pa.string()))[0]
                    out[f.name] = dv
                else:
                    out[f.name] = pa.nulls(n, _arrow_type(f))
        fields = {f.name: out[f.name] for f in self.entity.fields}
        for header in self.mapping.extra:
            raw = table.column(header).combine_chunks()
            fields[self.mapping.extra_names[header]] = _clean_text(raw) if _is_text(raw) else raw
        fields[ROW] = table.column(ROW).combine_chunks()
        typed = pa.table(fields)

        bad_rows = reason != None  # noqa: E711
        valid = typed.filter(pa.array(~bad_rows))
        idx = np.flatnonzero(bad_rows)
        reasons: dict[str, int] = {}
        for r in reason[idx]:
            reasons[r] = reasons.get(r, 0) + 1
        quarantine = self._quarantine(table, idx, reason, column, detail)
        return Validated(valid, quarantine, reasons)

    def _quarantine(
        self,
        table: pa.Table,
        idx: np.ndarray,
        reason: np.ndarray,
        column: np.ndarray,
        detail: np.ndarray,
    ) -> pa.Table:
        if len(idx) == 0:
            return QUARANTINE_SCHEMA.empty_table()
        sub = table.take(pa.array(idx))
        records = sub.drop_columns([ROW]).to_pylist()
        values = [
            None if rec.get(col) is None else str(rec.get(col))
            for rec, col in zip(records, column[idx], strict=True)
        ]
        return pa.table(
            {
                "file": pa.array([self.file] * len(idx), pa.string()),
                "row": sub.column(ROW),
                "column": pa.array(list(column[idx]), pa.string()),
                "value": pa.array(values, pa.string()),
                "reason": pa.array(list(reason[idx]), pa.string()),
                "detail": pa.array(list(detail[idx]), pa.string()),
                "record": pa.array(
                    [json.dumps(r, ensure_ascii=False, default=str) for r in records], pa.string()
                ),
            },
            schema=QUARANTINE_SCHEMA,
        )


_ARROW_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "integer": pa.int64(),
    "float": pa.float64(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("us"),
    "boolean": pa.bool_(),
}


def _arrow_type(f: Field) -> pa.DataType:
    return _ARROW_TYPES[f.type]


def entity_schema(entity: Entity) -> pa.Schema:
    """The typed Arrow schema of an entity's fields."""
    return pa.schema([(f.name, _arrow_type(f)) for f in entity.fields])
