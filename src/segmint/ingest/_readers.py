"""Readers: turn a file or database table into batches of raw columns with row numbers.

Text formats (CSV, JSON lines) arrive as strings so that validation, not the reader,
decides what a value means (``1.234`` is a thousand in a Danish export).  Typed formats
(Parquet, database tables, typed Excel columns) keep their types.  Every batch carries
``_row``: the row a person would point at in the file (spreadsheet numbering for CSV and
Excel: the header is row 1; line number for JSON lines; record number for Parquet and
database tables).  Rows a reader cannot split into fields are not lost: they come back as
:class:`BadRow` with their text.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from segmint.config import ReadOptions
from segmint.exceptions import InputError
from segmint.ingest._sniff import detect_delimiter, detect_encoding

ROW = "_row"
SAMPLE_BYTES = 1 << 20
BATCH_ROWS = 1 << 20
_URL_SCHEMES = ("duckdb://", "sqlite://", "postgres://", "postgresql://", "mysql://")


@dataclass(frozen=True)
class BadRow:
    """A row the reader could not split into the file's columns."""

    row: int | None
    text: str
    reason: str = "bad_row"
    detail: str = ""


@dataclass
class RawSource:
    """An opened source: its columns, what was detected, and a one-pass batch iterator."""

    name: str
    format: str
    columns: list[str]
    batches: Iterator[pa.RecordBatch]
    encoding: str | None = None
    delimiter: str | None = None
    bad_rows: list[BadRow] = field(default_factory=list)
    sample: dict[str, list[str]] = field(default_factory=dict)


def is_url(path: str) -> bool:
    return path.startswith(_URL_SCHEMES)


def open_source(path: str | Path, options: ReadOptions | None = None) -> RawSource:
    """Open ``path`` (a file or a database URL) for reading in batches.

    Raises
    ------
    InputError
        The file is missing, empty or of an unknown format, or has no header.
    """
    options = options or ReadOptions()
    text_path = str(path)
    if is_url(text_path):
        return _open_database(text_path, options)
    p = Path(path)
    if not p.exists():
        raise InputError("no such file", file=str(p))
    if p.stat().st_size == 0:
        raise InputError("the file is empty", file=str(p))
    suffix = p.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _open_excel(p, options)
    if suffix in (".parquet", ".pq"):
        return _open_parquet(p)
    if suffix in (".jsonl", ".ndjson", ".json"):
        return _open_jsonl(p, options)
    if suffix in (".csv", ".txt", ".tsv", ".tab", ""):
        return _open_csv(p, options)
    raise InputError(
        f"unknown file format {suffix!r}: use .csv, .txt, .tsv, .xlsx, .parquet or .jsonl",
        file=str(p),
    )


# -- CSV ---------------------------------------------------------------------------------
def _open_csv(path: Path, options: ReadOptions) -> RawSource:
    import pyarrow.csv as pcsv

    with path.open("rb") as fh:
        head = fh.read(SAMPLE_BYTES)
    encoding = options.encoding or detect_encoding(head)
    py_encoding = "utf-8-sig" if encoding in ("utf-8", "utf-8-sig") else encoding
    text = head.decode(py_encoding, errors="replace")
    if len(head) == SAMPLE_BYTES:  # drop the possibly cut last line
        text = text[: text.rfind("\n") + 1] or text
    delimiter = options.delimiter or detect_delimiter(text)
    if delimiter in ("\\t", "tab"):
        delimiter = "\t"
    sample_rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    if not sample_rows or not any(c.strip() for c in sample_rows[0]):
        raise InputError("no header row", file=str(path), row=1)
    header = _unique_headers([c.strip() for c in sample_rows[0]])
    sample = {
        h: [r[i] for r in sample_rows[1:2001] if i < len(r) and r[i].strip()]
        for i, h in enumerate(header)
    }
    bad_rows: list[BadRow] = []

    def on_invalid(row: Any) -> str:
        bad_rows.append(
            BadRow(
                row=row.number,
                text=row.text,
                detail=f"{row.actual_columns} fields where the header has {len(header)}",
            )
        )
        return "skip"

    reader = pcsv.open_csv(
        path,
        read_options=pcsv.ReadOptions(
            encoding="utf8" if encoding in ("utf-8", "utf-8-sig") else encoding,
            column_names=header,
            skip_rows=1,
            block_size=8 << 20,
            use_threads=False,  # keeps row numbers of malformed rows known
        ),
        parse_options=pcsv.ParseOptions(
            delimiter=delimiter, newlines_in_values=True, invalid_row_handler=on_invalid
        ),
        convert_options=pcsv.ConvertOptions(
            column_types={h: pa.string() for h in header},
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )

    def batches() -> Iterator[pa.RecordBatch]:
        seen = 0  # valid records so far
        for batch in reader:
            n = batch.num_rows
            if n == 0:
                continue
            rows = np.arange(seen, seen + n, dtype=np.int64) + 2
            # malformed rows were skipped by the parser: shift the numbers past them
            for skipped in sorted(b.row for b in bad_rows if b.row is not None):
                rows[rows >= skipped] += 1
            seen += n
            yield batch.append_column(ROW, pa.array(rows))

    return RawSource(
        name=str(path),
        format="csv",
        columns=header,
        batches=batches(),
        encoding=encoding,
        delimiter=delimiter,
        bad_rows=bad_rows,
        sample=sample,
    )


def _unique_headers(header: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for i, h in enumerate(header):
        name = h or f"column_{i + 1}"
        if name in seen:
            seen[name] += 1
            name = f"{name}_{seen[name]}"
        else:
            seen[name] = 1
        out.append(name)
    return out


# -- Excel -------------------------------------------------------------------------------
def _open_excel(path: Path, options: ReadOptions) -> RawSource:
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as e:  # openpyxl raises many kinds for a broken file
        raise InputError(f"not a readable Excel file: {e}", file=str(path)) from e
    if options.sheet is not None and options.sheet not in wb.sheetnames:
        raise InputError(
            f"no sheet {options.sheet!r}; the workbook has {', '.join(wb.sheetnames)}",
            file=str(path),
        )
    ws = wb[options.sheet] if options.sheet else wb.worksheets[0]
    rows = ws.iter_rows(values_only=True)
    first = next(rows, None)
    if first is None or not any(v is not None for v in first):
        raise InputError("no header row", file=str(path), row=1)
    header = _unique_headers([str(v).strip() if v is not None else "" for v in first])
    width = len(header)
    cols: list[list[Any]] = [[] for _ in range(width)]
    numbers: list[int] = []
    for i, values in enumerate(rows, start=2):
        if values is None or all(v is None or v == "" for v in values):
            continue
        numbers.append(i)
        for j in range(width):
            cols[j].append(values[j] if j < len(values) else None)
    wb.close()
    arrays = {h: _excel_column(c) for h, c in zip(header, cols, strict=True)}
    arrays[ROW] = pa.array(numbers, pa.int64())
    table = pa.table(arrays)
    sample = {
        h: [str(v) for v in c[:2000] if v is not None and str(v).strip()]
        for h, c in zip(header, cols, strict=True)
    }
    return RawSource(
        name=str(path),
        format="xlsx",
        columns=header,
        batches=iter(table.to_batches(max_chunksize=BATCH_ROWS)),
        sample=sample,
    )


def _excel_column(values: list[Any]) -> pa.Array:
    """Typed when every cell agrees on a type, else strings as a person would type them."""
    present = [v for v in values if v is not None and v != ""]
    if present and all(isinstance(v, datetime) for v in present):
        return pa.array(
            [v if isinstance(v, datetime) else None for v in values], pa.timestamp("us")
        )
    if present and all(isinstance(v, bool) for v in present):
        return pa.array([v if isinstance(v, bool) else None for v in values], pa.bool_())
    if present and all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        if all(float(v).is_integer() for v in present):
            return pa.array(
                [int(v) if v is not None and v != "" else None for v in values], pa.int64()
            )
        return pa.array(
            [float(v) if isinstance(v, int | float) else None for v in values], pa.float64()
        )
    return pa.array([_cell_text(v) for v in values], pa.string())


def _cell_text(v: Any) -> str | None:
    if v is None:
        return None
    if isinstance(v, datetime):
        return v.isoformat(sep=" ")
    if isinstance(v, date | time):
        return v.isoformat()
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


# -- Parquet -----------------------------------------------------------------------------
def _open_parquet(path: Path) -> RawSource:
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
    except Exception as e:
        raise InputError(f"not a readable Parquet file: {e}", file=str(path)) from e
    columns = list(pf.schema_arrow.names)

    def batches() -> Iterator[pa.RecordBatch]:
        seen = 0
        for batch in pf.iter_batches(batch_size=BATCH_ROWS):
            n = batch.num_rows
            rows = pa.array(np.arange(seen + 1, seen + n + 1, dtype=np.int64))
            seen += n
            yield batch.append_column(ROW, rows)

    return RawSource(name=str(path), format="parquet", columns=columns, batches=batches())


# -- JSON lines --------------------------------------------------------------------------
def _open_jsonl(path: Path, options: ReadOptions) -> RawSource:
    """JSON lines, one object per line; a line that is not an object becomes a bad row."""
    encoding = options.encoding or detect_encoding(path.open("rb").read(SAMPLE_BYTES))
    py_encoding = "utf-8-sig" if encoding in ("utf-8", "utf-8-sig") else encoding
    bad_rows: list[BadRow] = []
    columns: dict[str, None] = {}
    records: list[dict[str, Any]] = []
    numbers: list[int] = []
    with path.open(encoding=py_encoding, errors="strict", newline="") as fh:
        for i, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                bad_rows.append(BadRow(row=i, text=line.rstrip("\r\n"), detail=str(e)))
                continue
            if not isinstance(obj, dict):
                bad_rows.append(BadRow(row=i, text=line.rstrip("\r\n"), detail="not an object"))
                continue
            for k in obj:
                columns.setdefault(k, None)
            records.append(obj)
            numbers.append(i)
    if not columns:
        raise InputError("no JSON objects found", file=str(path))
    names = list(columns)
    arrays = {k: pa.array([_json_text(r.get(k)) for r in records], pa.string()) for k in names}
    arrays[ROW] = pa.array(numbers, pa.int64())
    table = pa.table(arrays)
    sample = {k: [v for v in table.column(k).to_pylist()[:2000] if v] for k in names}
    return RawSource(
        name=str(path),
        format="jsonl",
        columns=names,
        batches=iter(table.to_batches(max_chunksize=BATCH_ROWS)),
        encoding=encoding,
        bad_rows=bad_rows,
        sample=sample,
    )


def _json_text(v: Any) -> str | None:
    if v is None:
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, dict | list):
        return json.dumps(v, ensure_ascii=False)
    return str(v)


# -- databases ---------------------------------------------------------------------------
def _open_database(url: str, options: ReadOptions) -> RawSource:
    """A table from a database URL, read through Ibis in Arrow batches."""
    import ibis

    if not options.query_table:
        raise InputError(
            "a database source needs the table to read: --table NAME "
            "(sources[].options.query_table in segmint.yaml)",
            file=_redact(url),
        )
    try:
        con = ibis.connect(url, read_only=True) if url.startswith("duckdb") else ibis.connect(url)
        table = con.table(options.query_table)
    except Exception as e:
        raise InputError(
            f"cannot read table {options.query_table!r}: {e}", file=_redact(url)
        ) from e
    columns = list(table.columns)

    def batches() -> Iterator[pa.RecordBatch]:
        seen = 0
        try:
            for batch in table.to_pyarrow_batches(chunk_size=BATCH_ROWS):
                n = batch.num_rows
                rows = pa.array(np.arange(seen + 1, seen + n + 1, dtype=np.int64))
                seen += n
                yield batch.append_column(ROW, rows)
        finally:
            con.disconnect()

    return RawSource(
        name=f"{_redact(url)}#{options.query_table}",
        format="database",
        columns=columns,
        batches=batches(),
    )


def _redact(url: str) -> str:
    """Never echo a password from a database URL."""
    scheme, sep, rest = url.partition("://")
    if "@" in rest:
        creds, _, host = rest.rpartition("@")
        user = creds.split(":", 1)[0]
        return f"{scheme}{sep}{user}:***@{host}"
    return url
