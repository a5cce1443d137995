"""Ingest benchmark: rows/s for a large Danish order export, against DuckDB's own CSV reader.

Writes a transactions CSV the way a Danish ERP exports it (cp1252, ``;``, decimal commas
with thousands dots, ``31.12.2024`` dates, Danish headers), then times in the same run:

* **segmint**: ``segmint load transactions`` — detection, mapping, per-row validation
  (types, dates, plausibility, required fields, duplicate keys), quarantine, key build and
  the atomic merge into the store;
* **baseline**: DuckDB ``read_csv`` straight into a table, told the delimiter, decimal
  separator, date format and encoding (no validation, no mapping, no quarantine, no keys).

Usage: ``python benchmarks/ingest.py [--rows 20000000] [--out DIR]``; prints a Markdown table.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

CATEGORIES = ["Køkken", "Bøger", "Tøj", "Sko", "Have", "Legetøj", "Elektronik", "Skønhed"]
CHANNELS = ["webshop", "butik", "app"]


def write_export(path: Path, rows: int, seed: int = 0) -> None:
    """A realistic cp1252 ';' export with decimal commas, written in chunks."""
    rng = np.random.default_rng(seed)
    chunk = 2_000_000
    start_day = np.datetime64("2022-01-01")
    with path.open("wb") as fh:
        fh.write(
            "Ordrenummer;Kundenummer;Dato;Varenummer;Kategori;Antal;Beløb;Kanal\n".encode("cp1252")
        )
        for lo in range(0, rows, chunk):
            n = min(chunk, rows - lo)
            days = rng.integers(0, 1400, n)
            dates = pa.array(start_day + days.astype("timedelta64[D]"), pa.date32())
            amount = np.round(rng.gamma(2.0, 300.0, n), 2)
            cents = np.round(amount * 100).astype(np.int64)
            whole = cents // 100
            with_dots = _thousands(whole)  # Danish number format: 1.234,50
            frac = pc.utf8_lpad(pc.cast(pa.array(cents % 100), pa.string()), 2, "0")
            table = pa.table(
                {
                    "Ordrenummer": pc.cast(
                        pa.array(np.arange(lo, lo + n) + 1_000_000), pa.string()
                    ),
                    "Kundenummer": pc.cast(
                        pa.array(rng.integers(1, rows // 20 + 2, n)), pa.string()
                    ),
                    "Dato": pc.strftime(dates, format="%d.%m.%Y"),
                    "Varenummer": pc.cast(pa.array(rng.integers(10000, 99999, n)), pa.string()),
                    "Kategori": pa.array(np.array(CATEGORIES)[rng.integers(0, len(CATEGORIES), n)]),
                    "Antal": pc.cast(pa.array(rng.integers(1, 5, n)), pa.string()),
                    "Beløb": pc.binary_join_element_wise(with_dots, frac, ","),
                    "Kanal": pa.array(np.array(CHANNELS)[rng.integers(0, 3, n)]),
                }
            )
            buf = pa.BufferOutputStream()
            pcsv.write_csv(
                table,
                buf,
                write_options=pcsv.WriteOptions(
                    include_header=False, delimiter=";", quoting_style="none"
                ),
            )
            fh.write(buf.getvalue().to_pybytes().decode("utf-8").encode("cp1252"))


def _thousands(whole: np.ndarray) -> pa.Array:
    """Integers as text with '.' every three digits (vectorised)."""
    txt = pc.cast(pa.array(whole), pa.string())
    # amounts here stay below 10^9: at most two separators
    millions = whole // 1_000_000
    thousands = (whole // 1000) % 1000
    units = whole % 1000
    pad3 = lambda a: pc.utf8_lpad(pc.cast(pa.array(a), pa.string()), 3, "0")  # noqa: E731
    m = pc.cast(pa.array(millions), pa.string())
    t_plain = pc.cast(pa.array(thousands), pa.string())
    ge_m = pa.array(whole >= 1_000_000)
    ge_t = pa.array(whole >= 1000)
    with_m = pc.binary_join_element_wise(m, pad3(thousands), pad3(units), ".")
    with_t = pc.binary_join_element_wise(t_plain, pad3(units), ".")
    return pc.if_else(ge_m, with_m, pc.if_else(ge_t, with_t, txt))


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=20_000_000)
    ap.add_argument("--out", type=Path, default=None, help="work folder (default: a temp dir)")
    args = ap.parse_args()

    import duckdb

    from segmint import service

    work = args.out or Path(tempfile.mkdtemp(prefix="segmint-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    csv_path = work / "ordrer.csv"
    t0 = time.perf_counter()
    write_export(csv_path, args.rows)
    write_s = time.perf_counter() - t0
    size_mb = csv_path.stat().st_size / 1e6

    proj_dir = work / "project"
    shutil.rmtree(proj_dir, ignore_errors=True)
    project = service.init_project(proj_dir)
    t0 = time.perf_counter()
    report = service.load(project, "transactions", csv_path)
    seg_s = time.perf_counter() - t0
    project.close()
    assert report.rows_in == args.rows == report.rows_loaded + report.rows_quarantined

    base_db = work / "baseline.duckdb"
    base_db.unlink(missing_ok=True)
    con = duckdb.connect(str(base_db))
    t0 = time.perf_counter()
    con.execute(
        "CREATE TABLE t AS SELECT * FROM read_csv(?, delim=';', decimal_separator=',', "
        "dateformat='%d.%m.%Y', encoding='latin-1', header=true, "
        "types={'Beløb': 'VARCHAR'})",
        [str(csv_path)],
    )
    # the baseline must at least turn '1.234,50' into a number to be comparable
    con.execute(
        "CREATE OR REPLACE TABLE t AS SELECT * REPLACE "
        "(CAST(replace(replace(\"Beløb\", '.', ''), ',', '.') AS DOUBLE) AS \"Beløb\") FROM t"
    )
    base_s = time.perf_counter() - t0
    base_rows = con.execute("SELECT count(*) FROM t").fetchone()[0]  # type: ignore[index]
    con.close()
    assert base_rows == args.rows

    title = f"{args.rows:,}-row cp1252 ';' CSV ({size_mb:,.0f} MB; written in {write_s:.1f} s)"
    seg = "segmint load (validated, quarantined, keyed, merged)"
    base = "baseline: DuckDB read_csv, no validation"
    print(f"\nIngest of a {title}\n")
    print("| what | seconds | rows/s | vs baseline |")
    print("|---|---:|---:|---:|")
    print(f"| {seg} | {seg_s:.1f} | {args.rows / seg_s:,.0f} | {seg_s / base_s:.2f}x |")
    print(f"| {base} | {base_s:.1f} | {args.rows / base_s:,.0f} | 1.00x |")
    print(f"\npeak RSS {peak_rss_mb():,.0f} MB; rows quarantined {report.rows_quarantined}")
    if args.out is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
