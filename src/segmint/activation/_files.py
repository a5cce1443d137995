"""File destinations: CSV (separator and encoding of choice), XLSX and Parquet.

Files are written beside their final name and moved into place, so a reader never sees
half a file.  CSV goes through pyarrow's writer (fast on millions of rows); an encoding
other than UTF-8 is transcoded afterwards, and a value the encoding cannot hold is an
error naming its row and column rather than a silent '?'.
"""

from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.csv as pacsv

from segmint.activation._destination import Delivery, ExportBatch, output_path
from segmint.exceptions import InputError

if TYPE_CHECKING:
    from collections.abc import Iterator

#: fields written by the plain file kinds unless ``columns`` picks some
FILE_FIELDS = (
    "customer_id",
    "customer_type",
    "first_name",
    "last_name",
    "company_name",
    "email",
    "phone",
    "address",
    "postal_code",
    "city",
    "region",
    "country",
    "org_number",
    "nace_code",
    "employees",
    "revenue",
    "owner",
    "website",
)
XLSX_MAX_ROWS = 1_048_575  # Excel's sheet limit, less the header


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A temporary sibling of ``path`` that replaces it when the block succeeds."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def _as_text(table: pa.Table) -> pa.Table:
    """Timestamps and dates as ISO text, so every reader sees the same value."""
    cols = []
    for col in table.columns:
        if pa.types.is_temporal(col.type):
            col = col.cast(pa.string())
        cols.append(col)
    return pa.table(cols, names=table.column_names)


def write_csv(
    table: pa.Table, path: Path, *, delimiter: str = ",", encoding: str = "utf-8"
) -> None:
    """``table`` as CSV with a header; empty cells for nulls."""
    options = pacsv.WriteOptions(include_header=True, delimiter=delimiter, quoting_style="needed")
    table = _as_text(table)
    with atomic_path(path) as tmp:
        if encoding in ("utf-8", "utf8"):
            pacsv.write_csv(table, tmp, write_options=options)
            return
        buf = io.BytesIO()
        pacsv.write_csv(table, buf, write_options=options)
        text = buf.getvalue().decode("utf-8")
        try:
            data = text.encode(encoding)
        except UnicodeEncodeError as e:
            raise _encoding_error(table, path, encoding, e) from None
        tmp.write_bytes(data)


def _encoding_error(
    table: pa.Table, path: Path, encoding: str, e: UnicodeEncodeError
) -> InputError:
    bad = e.object[e.start : e.end]
    for name in table.column_names:
        values = table.column(name).to_pylist()
        for i, v in enumerate(values):
            if isinstance(v, str) and bad in v:
                return InputError(
                    f"{path}: row {i + 2}, column {name!r}: {v!r} cannot be written in {encoding}; "
                    f"use encoding utf-8-sig (Excel reads it too)"
                )
    return InputError(f"{path}: a value cannot be written in {encoding}: {bad!r}")


def write_xlsx(table: pa.Table, path: Path, *, sheet: str = "segment") -> None:
    from openpyxl import Workbook

    if table.num_rows > XLSX_MAX_ROWS:
        raise InputError(
            f"{path}: {table.num_rows:,} rows do not fit one Excel sheet "
            f"({XLSX_MAX_ROWS:,}); export to csv or parquet instead"
        )
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(sheet[:31])
    ws.append(table.column_names)
    for batch in table.to_batches(50_000):
        for row in zip(*(c.to_pylist() for c in batch.columns), strict=True):
            ws.append(list(row))
    with atomic_path(path) as tmp:
        wb.save(tmp)


def write_parquet(table: pa.Table, path: Path) -> None:
    import pyarrow.parquet as pq

    with atomic_path(path) as tmp:
        pq.write_table(table, tmp)


def mapped(rows: pa.Table, columns: dict[str, str], *, name: str) -> pa.Table:
    """``rows`` as the output columns of ``columns`` (output column -> field)."""
    missing = sorted({f for f in columns.values() if f not in rows.column_names})
    if missing:
        raise InputError(
            f"destination {name!r}: no field(s) {', '.join(missing)}; "
            f"fields are {', '.join(rows.column_names)}"
        )
    return pa.table([rows.column(f) for f in columns.values()], names=list(columns))


def select_fields(batch: ExportBatch, default: tuple[str, ...] = FILE_FIELDS) -> pa.Table:
    """The columns a plain file gets: the destination's ``columns`` (output column ->
    field), or the default fields; ``change`` too in delta mode."""
    rows = batch.rows
    columns = dict(batch.destination.columns) or {c: c for c in default if c in rows.column_names}
    if batch.mode == "delta":
        columns["change"] = "change"
    return mapped(rows, columns, name=batch.destination.name)


class CsvFile:
    def deliver(self, batch: ExportBatch) -> Delivery:
        path = output_path(batch, ".csv")
        d = batch.destination
        write_csv(select_fields(batch), path, delimiter=d.delimiter, encoding=d.encoding)
        return Delivery(batch.rows.num_rows, str(path))


class XlsxFile:
    def deliver(self, batch: ExportBatch) -> Delivery:
        path = output_path(batch, ".xlsx")
        write_xlsx(select_fields(batch), path, sheet=batch.segment)
        return Delivery(batch.rows.num_rows, str(path))


class ParquetFile:
    def deliver(self, batch: ExportBatch) -> Delivery:
        path = output_path(batch, ".parquet")
        write_parquet(select_fields(batch), path)
        return Delivery(batch.rows.num_rows, str(path))
