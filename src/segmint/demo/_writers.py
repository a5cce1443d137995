"""Low-level writers of the demo exports: CSV in any encoding, JSON lines, Excel, with
deliberately broken rows inserted at known spreadsheet row numbers.

pyarrow writes the CSV (fast, and it refuses unquoted values that would need quotes, so
quoting is switched on only when a value needs it); text is transcoded per batch for
Windows-1252 files.  openpyxl writes the workbooks in write-only mode, starting a new
file when Excel's row limit is reached.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

EXCEL_MAX_ROWS = 1_048_576  # per sheet, header included
CSV_BATCH = 500_000


@dataclass(frozen=True)
class ExportFile:
    """One written export: where, which table it loads into, from which source system,
    and the deliberately broken rows (spreadsheet row number -> reason code)."""

    path: Path
    table: str
    source: str
    bad_rows: dict[int, str] = field(default_factory=dict)


@dataclass(frozen=True)
class BadRow:
    """A broken row: values by header, the reason, and the earliest data index it may go at."""

    values: dict[str, Any]
    reason: str
    not_before: int = 0


def write_xlsx(
    folder: Path,
    stem: str,
    table: str,
    source: str,
    header: list[str],
    columns: list[list[Any]],
    bad: list[BadRow],
    rng: np.random.Generator,
) -> list[ExportFile]:
    """One workbook per 1,048,575 rows (Excel's limit), bad rows in the first."""
    from openpyxl import Workbook

    n = len(columns[0]) if columns else 0
    positions = bad_row_positions(rng, n, bad)
    per_file = EXCEL_MAX_ROWS - 1
    out: list[ExportFile] = []
    rows = (list(r) for r in zip(*columns, strict=True))
    pending = sorted(zip(positions, range(len(bad)), strict=True))  # (data rows before, bad)
    written = 0
    part = 0
    while written < n or pending or part == 0:
        part += 1
        path = folder / (f"{stem}.xlsx" if part == 1 else f"{stem}_{part}.xlsx")
        wb = Workbook(write_only=True)
        ws = wb.create_sheet("Data")
        ws.append(header)
        bad_rows: dict[int, str] = {}
        line = 1
        while line < per_file + 1 and (written < n or pending):
            if pending and pending[0][0] <= written:
                _, k = pending.pop(0)
                ws.append([bad[k].values.get(h) for h in header])
                line += 1
                bad_rows[line] = bad[k].reason
                continue
            ws.append(next(rows))
            written += 1
            line += 1
        wb.save(path)
        # each file its own source name: a project records one path per source
        out.append(ExportFile(path, table, source if part == 1 else f"{source}_{part}", bad_rows))
    return out


def plain(path: Path, table: str, source: str, cols: dict[str, Any]) -> ExportFile:
    """A UTF-8, comma-separated file with English (field name) headers."""
    return write_csv(
        path,
        table,
        source,
        strings(cols),
        [],
        np.random.default_rng(0),
        delimiter=",",
        encoding="utf-8",
    )


def strings(cols: dict[str, Any]) -> pa.Table:
    """A table of text columns (the values as they will stand in the file)."""
    arrays = []
    for v in cols.values():
        v = v.combine_chunks() if isinstance(v, pa.ChunkedArray) else v
        arrays.append(v if pa.types.is_string(v.type) else v.cast(pa.string()))
    return pa.Table.from_arrays(arrays, names=list(cols))


def row_values(table: pa.Table, i: int) -> dict[str, str]:
    """Row ``i`` as {header: text}, null as empty text."""
    return {k: ("" if v is None else str(v)) for k, v in table.slice(i, 1).to_pylist()[0].items()}


def fresh_ids(ids: pa.Array | pa.ChunkedArray, k: int) -> list[str]:
    """``k`` numeric ids above every existing one."""
    top = pc.max(pc.cast(ids, pa.int64())).as_py() or 0
    return [str(top + 1000 + j) for j in range(k)]


def bad_row_positions(rng: np.random.Generator, n: int, bad: Sequence[BadRow]) -> list[int]:
    """For each bad row, the number of data rows written before it."""
    return [int(rng.integers(min(b.not_before, n), n + 1)) for b in bad]


def write_csv(
    path: Path,
    table: str,
    source: str,
    data: pa.Table,
    bad: list[BadRow],
    rng: np.random.Generator,
    *,
    delimiter: str,
    encoding: str,
) -> ExportFile:
    """Write ``data`` (string columns) with the bad rows inserted; CRLF for Windows files."""
    positions = bad_row_positions(rng, data.num_rows, bad)
    order = sorted(zip(positions, range(len(bad)), strict=True))
    pieces: list[pa.Table] = []
    bad_rows: dict[int, str] = {}
    start = 0
    for inserted, (pos, k) in enumerate(order):
        pieces.append(data.slice(start, pos - start))
        values = bad[k].values
        pieces.append(
            pa.table({h: pa.array([values.get(h) or None], pa.string()) for h in data.column_names})
        )
        bad_rows[pos + inserted + 2] = bad[k].reason
        start = pos
    pieces.append(data.slice(start))
    full = pa.concat_tables(pieces) if len(pieces) > 1 else data
    try:
        _csv_file(path, full, delimiter, encoding, quote=False)
    except pa.ArrowInvalid:  # a value holds the delimiter, a quote or a line break
        _csv_file(path, full, delimiter, encoding, quote=True)
    return ExportFile(path, table, source, bad_rows)


def _csv_file(path: Path, full: pa.Table, delimiter: str, encoding: str, *, quote: bool) -> None:
    windows = encoding == "cp1252"
    with path.open("wb") as fh:
        if encoding == "utf-8-sig":
            fh.write(b"\xef\xbb\xbf")
        for start in range(0, max(full.num_rows, 1), CSV_BATCH):
            buf = io.BytesIO()
            options = pcsv.WriteOptions(
                include_header=start == 0,
                delimiter=delimiter,
                quoting_style="needed" if quote else "none",
                quoting_header="none",
                eol="\r\n" if windows else "\n",
            )
            pcsv.write_csv(full.slice(start, CSV_BATCH), buf, options)
            raw = buf.getvalue()
            fh.write(raw.decode("utf-8").encode("cp1252") if windows else raw)
