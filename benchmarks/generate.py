"""Benchmark ``segmint.demo.generate`` against writing its output to Parquet.

The baseline, timed in the same run on the same tables, is ``pyarrow.parquet.write_table``
of every generated table: generating a table should cost about as much as writing it
once.  Prints a Markdown report (rows per table, seconds, rows/s, the ratio).

    .venv/bin/python benchmarks/generate.py --customers 1000000 --seed 0
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from segmint.demo import generate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--b2b", action="store_true", help="the wholesaler scenario")
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="folder for the Parquet files (default: a temporary folder)",
    )
    args = parser.parse_args(argv)

    start = time.perf_counter()
    data = generate(args.customers, seed=args.seed, b2b=args.b2b)
    gen_seconds = time.perf_counter() - start
    rss_after_generate = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6

    write_seconds: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.out or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        for name, table in data.tables.items():
            t = time.perf_counter()
            pq.write_table(table, folder / f"{name}.parquet")
            write_seconds[name] = time.perf_counter() - t
    total_write = sum(write_seconds.values())
    rows = {name: t.num_rows for name, t in data.tables.items()}
    total_rows = sum(rows.values())

    scenario = "B2B wholesaler" if args.b2b else "B2C retailer"
    print(f"## demo data: {args.customers:,} customers ({scenario}), seed {args.seed}\n")
    print(
        f"Machine: {os.cpu_count()} cores, {platform.machine()}, Python "
        f"{sys.version.split()[0]}, numpy {np.__version__}, pyarrow {pa.__version__}.  "
        f"Peak RSS after generate(): {rss_after_generate:.1f} GB; "
        f"in-memory tables: {sum(t.nbytes for t in data.tables.values()) / 1e9:.2f} GB.\n"
    )
    print("| table | rows | write Parquet (s) | Parquet rows/s |")
    print("|---|---:|---:|---:|")
    for name, n in rows.items():
        s = write_seconds[name]
        print(f"| {name} | {n:,} | {s:.2f} | {_rate(n, s)} |")
    print(
        f"| **all** | **{total_rows:,}** | **{total_write:.2f}** | "
        f"**{_rate(total_rows, total_write)}** |\n"
    )
    print("| step | seconds | rows/s |")
    print("|---|---:|---:|")
    print(f"| `generate()` | {gen_seconds:.1f} | {_rate(total_rows, gen_seconds)} |")
    for stage, s in data.timings.items():
        print(f"| - {stage} | {s:.1f} | |")
    print(f"| write Parquet (baseline) | {total_write:.1f} | {_rate(total_rows, total_write)} |")
    print(f"\nRatio generate / write Parquet: **{gen_seconds / total_write:.1f}x**")
    print(
        f"Orders per customer {rows['transactions'] / args.customers:.1f}, "
        f"events per customer {rows['events'] / args.customers:.1f}."
    )
    return 0


def _rate(rows: int, seconds: float) -> str:
    return f"{rows / seconds:,.0f}" if seconds > 0 else "-"


if __name__ == "__main__":
    raise SystemExit(main())
