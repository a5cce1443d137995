"""Read a transaction file for a CLV fit: customer, date and amount columns, typed.

Uses ingest's readers (CSV with detected encoding and delimiter, Excel, Parquet, JSON
lines) and its number and date detection, so a Danish ERP export with ``;``, decimal
commas and ``31.12.2024`` dates reads as it does in ``segmint load``.  Unlike a load,
nothing is stored or quarantined: rows without a customer or a readable date are left
out and counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from segmint.exceptions import InputError
from segmint.ingest import open_source
from segmint.ingest._sniff import (
    detect_date_format,
    detect_number_format,
    parse_dates,
    parse_numbers,
)


@dataclass(frozen=True)
class TransactionFile:
    """The typed columns of a transaction file and how many rows were unusable."""

    table: pa.Table  # customer (string), date (timestamp), amount (float64), [order]
    rows_in: int
    rows_skipped: int
    source: str


def _column(table: pa.Table, name: str, file: str) -> pa.ChunkedArray:
    if name not in table.column_names:
        known = ", ".join(c for c in table.column_names if c != "_row")
        raise InputError(f"no column {name!r}; the file has: {known}", file=file, column=name)
    return table.column(name)


def read_transactions(
    path: Path | str, *, customer: str, date: str, amount: str, order: str | None = None
) -> TransactionFile:
    """Read ``path`` and type its customer, date, amount (and order) columns."""
    src = open_source(path)
    raw = pa.Table.from_batches(list(src.batches)) if src.columns else pa.table({})
    file = str(path)
    cust = pc.cast(_column(raw, customer, file), pa.string())
    when = _column(raw, date, file)
    money = _column(raw, amount, file)
    if pa.types.is_string(when.type) or pa.types.is_large_string(when.type):
        sample = [v for v in when.slice(0, 2000).to_pylist() if v]
        fmt = detect_date_format(sample)
        if fmt is None:
            raise InputError("cannot read the dates", file=file, column=date)
        when, _ = parse_dates(when, fmt)
    elif pa.types.is_date(when.type):
        when = pc.cast(when, pa.timestamp("us"))
    if pa.types.is_string(money.type) or pa.types.is_large_string(money.type):
        sample = [v for v in money.slice(0, 2000).to_pylist() if v]
        decimal, thousands = detect_number_format(sample, src.delimiter)
        money, _ = parse_numbers(money, decimal, thousands)
    money = pc.cast(money, pa.float64())
    columns = {"customer": cust, "date": when, "amount": pc.fill_null(money, 0.0)}
    if order:
        columns["order"] = pc.cast(_column(raw, order, file), pa.string())
    table = pa.table(columns)
    stripped = pc.utf8_trim_whitespace(table["customer"])
    ok = pc.and_(
        pc.fill_null(pc.greater(pc.utf8_length(stripped), 0), False),
        pc.is_valid(table["date"]),
    )
    kept = table.filter(ok)
    if kept.num_rows == 0:
        raise InputError("no row has both a customer and a readable date", file=file)
    return TransactionFile(kept, raw.num_rows, raw.num_rows - kept.num_rows, file)
