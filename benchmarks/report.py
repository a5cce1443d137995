"""Report benchmark on the demo company (default 1,000,000 customers).

Times ``segmint report`` (profile base, cards of every rule segment and lifecycle stage
with index, survey and sizing, the RFM grid, CLV and churn distributions, Sankeys, the
HTML with plotly.js inlined) against a named baseline in the same process: the
``segmint run`` that produces the data the report reads (traits, CLV scores, families,
the demo's rule segments, snapshot).  Prints the ratio report / run.

Usage::

    python benchmarks/report.py [--customers 1000000] [--work DIR]

The store is built once into ``--work`` (see ``_store.py``; ``benchmarks/segments.py``
shares it).  The market table is the demo generator's households per region and age band
(written into the store when missing).
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from datetime import datetime
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from _store import build_store

from segmint import service
from segmint.demo._people import market_households
from segmint.demo._scenarios import B2C
from segmint.demo._segments import B2C_SEGMENTS
from segmint.profiles import demo_market, profile_base, profiles, trait_values
from segmint.profiles._groups import Group
from segmint.report import write_report
from segmint.segments import parse_segments

AS_OF = datetime(2026, 10, 1)


def peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--work", type=Path, default=Path("benchmarks/out"))
    args = ap.parse_args()

    project = build_store(args.work / f"store-{args.customers}", args.customers)
    eng = project.engine
    if not eng.has_table("market_households"):
        eng.write("market_households", market_households(np.random.default_rng(0), B2C))
    config = project.config
    config.segments = parse_segments(B2C_SEGMENTS)
    config.models.clv.enabled = True
    config.profiles.market = demo_market(False)
    config.profiles.card_traits = ["lifecycle_stage"]
    print(f"\nStore: {args.customers:,} customers, {eng.count('transactions'):,} transactions\n")

    t0 = time.perf_counter()
    run = service.run(project, as_of=AS_OF)
    run_s = time.perf_counter() - t0
    print(f"baseline: segmint run {run_s:.1f} s ({run.customers:,} customers)")

    t0 = time.perf_counter()
    with profile_base(eng) as pb:
        base_s = time.perf_counter() - t0
        groups = [Group(s.name) for s in config.segments]
        groups += trait_values(pb, "lifecycle_stage")
        t1 = time.perf_counter()
        profiles(pb, groups, config.profiles)
        cards_s = time.perf_counter() - t1
    print(f"profile base {base_s:.1f} s; {len(groups)} cards with index, survey, sizing "
          f"{cards_s:.1f} s")  # fmt: skip

    out = args.work / "report.html"
    t0 = time.perf_counter()
    result = write_report(project, out, lang="da")
    report_s = time.perf_counter() - t0
    size_mb = out.stat().st_size / 1e6
    print(
        f"\n| step | seconds |\n|---|---:|\n| baseline: segmint run | {run_s:.1f} |\n"
        f"| segmint report (whole) | {report_s:.1f} |\n| of which profile base | {base_s:.1f} |\n"
        f"| of which {len(groups)} cards | {cards_s:.1f} |\n"
    )
    print(
        f"ratio report / run: **{report_s / run_s:.2f}x**; {len(result.charts)} charts, "
        f"{size_mb:.1f} MB; peak RSS {peak_rss_gb():.2f} GB"
    )
    project.close()


if __name__ == "__main__":
    main()
