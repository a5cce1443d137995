"""Read a transaction file for a CLV fit: customer, date and amount columns, typed.

Uses ingest's readers (CSV with detected encoding and delimiter, Excel, Parquet, JSON
lines) and its number and date detection, so a Danish ERP export with ``;``, decimal
commas and ``31.12.2024`` dates reads as it does in ``segmint load``.  Unlike a load,
nothing is stored or quarantined: rows without a customer or a date are left out and
counted, and a value that is there but cannot be read (a date or an amount) stops the fit
with an error naming its row and column, since fitting without it would silently change
the answer.
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


def _refuse_bad(
    raw: pa.Table, bad: pa.Array | pa.ChunkedArray, file: str, column: str, problem: str
) -> None:
    """Raise naming the first row whose ``column`` value could not be read."""
    if not pc.any(bad).as_py():
        return
    i = pc.index(bad, True).as_py()
    value = raw.column(column)[i].as_py()
    row = raw.column("_row")[i].as_py() if "_row" in raw.column_names else i + 1
    count = pc.sum(bad).as_py()
    raise InputError(
        f"{value!r} is {problem} ({count} such row{'s' if count != 1 else ''})",
        file=file,
        row=row,
        column=column,
    )


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
        when, bad = parse_dates(when, fmt)
        _refuse_bad(raw, bad, file, date, "not a date in the format of the others")
    elif pa.types.is_date(when.type):
        when = pc.cast(when, pa.timestamp("us"))
    if pa.types.is_string(money.type) or pa.types.is_large_string(money.type):
        sample = [v for v in money.slice(0, 2000).to_pylist() if v]
        decimal, thousands = detect_number_format(sample, src.delimiter)
        money, bad = parse_numbers(money, decimal, thousands)
        _refuse_bad(raw, bad, file, amount, "not a number")
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
