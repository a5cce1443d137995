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
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from segmint.datamodel import ARROW_TYPES, Entity, Field
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


#: staged beside a text extra column: its values parsed as numbers
NUMERIC_PREFIX = "__number__"


@dataclass
class ExtraTypes:
    """Which text extra columns held only numbers (whole numbers), over all batches."""

    numeric: dict[str, bool] = field(default_factory=dict)
    integral: dict[str, bool] = field(default_factory=dict)
    seen: dict[str, bool] = field(default_factory=dict)

    def observe(self, name: str, numbers: pa.Array, bad: np.ndarray) -> None:
        present = pc.is_valid(numbers)
        whole = pc.all(pc.equal(pc.round(numbers), numbers)).as_py() is not False
        self.numeric[name] = self.numeric.get(name, True) and not bad.any()
        self.integral[name] = self.integral.get(name, True) and whole
        self.seen[name] = self.seen.get(name, False) or bool(pc.any(present).as_py())

    def type_of(self, name: str) -> str:
        """``int64``, ``float64`` or ``string`` for extra column ``name``."""
        if not (self.numeric.get(name) and self.seen.get(name)):
            return "string"
        return "int64" if self.integral.get(name) else "float64"


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
    """Any typed column as the text a person would read; text is returned as it is."""
    if _is_text(arr):
        return arr
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
    """Apply ``fn(value, key)`` once per distinct (value, key); returns (result, bad mask).

    ``key`` is the row's country where the check depends on it.  Work is proportional to
    the number of distinct pairs, not rows.
    """
    values = _as_text(values)
    if keys is None:
        combined = values
    else:
        combined = pc.binary_join_element_wise(values, pc.fill_null(keys, ""), "\x1f")
    distinct = pc.unique(combined).drop_null()
    results: list[str | None] = []
    for pair in distinct.to_pylist():
        value, _, key = pair.partition("\x1f")
        try:
            results.append(fn(value, key or None))
        except Exception:  # a library that raises instead of answering: the value is bad
            results.append(None)
    out = pc.take(pa.array(results, pa.string()), pc.index_in(combined, value_set=distinct))
    bad = _mask(pc.and_(pc.is_valid(values), pc.is_null(out)))
    return out, bad


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
        source: str,
        now: datetime | None = None,
    ) -> None:
        self.entity = entity
        self.mapping = mapping
        self.conventions = conventions
        self.file = file
        self.source = source
        self.extra_types = ExtraTypes()
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
                values, bad_arr = sniff.parse_numbers(raw, c.decimal, c.thousands)
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
                text = raw
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
            values, bad_arr = sniff.parse_booleans(raw)
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
            allowed = set(f.allowed)

            def member(v: str, _: Any) -> str | None:
                v = v.lower()
                v = ALLOWED_SYNONYMS.get(v, v)
                return v if v in allowed else None

            out, bad = _per_value(values, None, member)
            return out, bad, "not_allowed"
        return values, none, ""

    # -- per batch ------------------------------------------------------------------------
    def validate(self, batch: pa.RecordBatch | pa.Table) -> Validated:
        table = pa.Table.from_batches([batch]) if isinstance(batch, pa.RecordBatch) else batch
        table = table.combine_chunks()
        n = table.num_rows
        # the first problem of each row, as small integer codes (0 = none): cheap to update
        codes: list[str] = [""]
        headers: list[str] = [""]
        reason = np.zeros(n, dtype=np.int16)
        column = np.zeros(n, dtype=np.int16)
        out: dict[str, pa.Array] = {}

        def flag(bad: np.ndarray, code: str, header: str) -> None:
            if not bad.any():
                return
            new = bad & (reason == 0)
            if code not in codes:
                codes.append(code)
            if header not in headers:
                headers.append(header)
            reason[new] = codes.index(code)
            column[new] = headers.index(header)

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
            if _is_text(raw):
                raw = _clean_text(raw)
            present = _mask(pc.is_valid(raw))
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
                    out[f.name] = pa.nulls(n, ARROW_TYPES[f.type])
        fields = {f.name: out[f.name] for f in self.entity.fields}
        for header in self.mapping.extra:
            raw = table.column(header).combine_chunks()
            name = self.mapping.extra_names[header]
            if not _is_text(raw):
                fields[name] = raw
                continue
            text = _clean_text(raw)
            fields[name] = text
            # keep a parsed copy too: the column becomes numeric if every batch agrees
            numbers, bad = sniff.parse_numbers(
                text, self.conventions.decimal, self.conventions.thousands
            )
            fields[NUMERIC_PREFIX + name] = numbers
            self.extra_types.observe(name, numbers, _mask(bad))
        fields[ROW] = table.column(ROW).combine_chunks()
        key = self._row_key(fields)
        typed = pa.table(fields if key is None else {"_key": key, **fields})

        bad_rows = reason > 0
        if not bad_rows.any():
            return Validated(typed, QUARANTINE_SCHEMA.empty_table(), {})
        valid = typed.filter(pa.array(~bad_rows))
        idx = np.flatnonzero(bad_rows)
        row_reasons = [codes[i] for i in reason[idx]]
        row_columns = [headers[i] for i in column[idx]]
        counts: dict[str, int] = {}
        for r in row_reasons:
            counts[r] = counts.get(r, 0) + 1
        quarantine = self._quarantine(table, idx, row_reasons, row_columns)
        return Validated(valid, quarantine, counts)

    def _row_key(self, fields: dict[str, pa.Array]) -> pa.Array | None:
        """The key as one string (``source|order_id|line_no``), or None when the key must
        be computed from the whole row's content (events without an id)."""
        e = self.entity
        if e.key_from_content and not set(e.key) <= set(self.mapping.fields.values()):
            return None
        parts = [pc.fill_null(pc.cast(fields[k], pa.string()), "") for k in e.key]
        if e.per_source:
            parts.insert(0, pa.array([self.source] * len(parts[0]), pa.string()))
        return parts[0] if len(parts) == 1 else pc.binary_join_element_wise(*parts, "|")

    def _detail(self, reason: str, header: str) -> str:
        """A hint on how to fix the value, in the file's own conventions."""
        c = self.conventions
        f = (
            self.entity.field(self.mapping.fields[header])
            if header in self.mapping.fields
            else None
        )
        if reason == "bad_date":
            fmt = c.date_formats.get(header)
            return f"expected a date like {fmt}" if fmt else "no date format fits this column"
        if reason in ("bad_number", "bad_integer"):
            whole = "a whole number" if reason == "bad_integer" else "a number"
            return f"expected {whole} with decimal mark {c.decimal!r}"
        if reason == "implausible_date":
            return "before 1900 or in the future"
        if reason == "missing_required":
            return f"{f.name if f else header} is required"
        if reason == "not_allowed" and f is not None:
            return "allowed: " + ", ".join(f.allowed)
        if reason == "out_of_range":
            return "expected 0-10" if f is not None and f.check == "nps" else "must not be negative"
        return ""

    def _quarantine(
        self,
        table: pa.Table,
        idx: np.ndarray,
        reasons: list[str],
        columns: list[str],
    ) -> pa.Table:
        sub = table.take(pa.array(idx))
        records = sub.drop_columns([ROW]).to_pylist()
        values = [
            None if rec.get(col) is None else str(rec.get(col))
            for rec, col in zip(records, columns, strict=True)
        ]
        return pa.table(
            {
                "file": pa.array([self.file] * len(idx), pa.string()),
                "row": sub.column(ROW),
                "column": pa.array(columns, pa.string()),
                "value": pa.array(values, pa.string()),
                "reason": pa.array(reasons, pa.string()),
                "detail": pa.array(
                    [self._detail(r, c) for r, c in zip(reasons, columns, strict=True)],
                    pa.string(),
                ),
                "record": pa.array(
                    [json.dumps(r, ensure_ascii=False, default=str) for r in records], pa.string()
                ),
            },
            schema=QUARANTINE_SCHEMA,
        )
