"""Segment engine benchmark on the demo company (default 1,000,000 customers).

(a) The issue's example rule ("Danish customers with at least 3 orders in the last 90 days,
    total spend over 1,000 DKK, who opened an email in the last 30 days but are not in
    'VIP'", VIP = spent 15,000 DKK or more in the last year), compiled by segmint, against
    the same question hand-written in DuckDB SQL over the same store, in the same run; both
    must find the same members.
(b) RFM traits (recency, frequency, monetary) and quintile scores with named cells.
(c) A full ``segmint run``: all built-in traits, RFM, lifecycle, value tiers and 20 varied
    rule segments, published with snapshots and deltas; three in a row, the median (and
    its publishing part) reported; peak RSS of the process.
    Then the scheduled case, on a copy of the store: a run as of day D (full: it keeps its
    customer base), one day of new orders and events appended (the last day's volume, loaded
    a day later), the run as of D + 1 with incremental traits, and the same run computed in
    full (``runs.incremental: false``, the named baseline) on the same data; both must publish
    the same traits and members (the full run, right after, finds no one entered or exited).
(d) The example rule on Spark local against DuckDB (``--spark``; needs the spark extra),
    on a smaller store (``--spark-customers``, default 100,000) since the data must first be
    copied into Spark's warehouse.

Usage::

    python benchmarks/segments.py [--customers 1000000] [--work DIR] [--parts abc] [--spark]

The demo store is built once into ``--work`` (generated tables written straight into
DuckDB, see ``_store.py``) and reused.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import ibis

sys.path.insert(0, str(Path(__file__).parent))

from _store import build_store

from segmint import service
from segmint.segments import parse_segments

AS_OF = datetime(2026, 10, 1)

EXAMPLE = parse_segments(
    [
        {
            "name": "vip",
            "rule": {
                "performed": "transactions",
                "within": "365d",
                "sum": {"of": "amount", ">=": 15000},
            },
        },
        {
            "name": "active_danes",
            "rule": {
                "all": [
                    {"field": "country", "op": "=", "value": "DK"},
                    {"performed": "transactions", "within": "90d", "count": {">=": 3}},
                    {
                        "performed": "transactions",
                        "within": "90d",
                        "sum": {"of": "amount", ">": 1000},
                    },
                    {
                        "performed": "events",
                        "where": [{"field": "event_type", "op": "=", "value": "email_open"}],
                        "within": "30d",
                    },
                    {"not": {"in_segment": "vip"}},
                ]
            },
        },
    ]
)

HAND_SQL = """
WITH person AS (SELECT customer_id, person_id FROM identities),
cust AS (
  SELECT coalesce(p.person_id, c.customer_id) AS customer_id,
         max(CASE WHEN c.customer_id = coalesce(p.person_id, c.customer_id)
                  THEN c.country END) AS country
  FROM customers c LEFT JOIN person p ON p.customer_id = c.customer_id
  GROUP BY 1
),
tx AS (
  SELECT coalesce(p.person_id, t.customer_id) AS customer_id, t.order_date, t.amount
  FROM transactions t LEFT JOIN person p ON p.customer_id = t.customer_id
  WHERE t.order_date < TIMESTAMP '2026-10-01'
),
vip AS (
  SELECT customer_id FROM tx WHERE order_date >= TIMESTAMP '2025-10-01'
  GROUP BY 1 HAVING sum(amount) >= 15000
),
recent AS (
  SELECT customer_id FROM tx WHERE order_date >= TIMESTAMP '2026-07-03'
  GROUP BY 1 HAVING count(*) >= 3 AND sum(amount) > 1000
),
opened AS (
  SELECT DISTINCT coalesce(p.person_id, e.customer_id) AS customer_id
  FROM events e LEFT JOIN person p ON p.customer_id = e.customer_id
  WHERE e.event_type = 'email_open'
    AND e.event_time >= TIMESTAMP '2026-09-01' AND e.event_time < TIMESTAMP '2026-10-01'
)
SELECT c.customer_id FROM cust c
WHERE c.country = 'DK'
  AND c.customer_id IN (SELECT customer_id FROM recent)
  AND c.customer_id IN (SELECT customer_id FROM opened)
  AND c.customer_id NOT IN (SELECT customer_id FROM vip)
"""

VARIED = [
    {"name": "s01_danes", "rule": {"field": "country", "op": "=", "value": "DK"}},
    {
        "name": "s02_swedes_young",
        "rule": {
            "all": [
                {"field": "country", "op": "=", "value": "SE"},
                {"field": "age", "op": "<", "value": 35},
            ]
        },
    },
    {"name": "s03_big_spenders", "rule": {"field": "monetary", "op": ">=", "value": 10000}},
    {"name": "s04_frequent_90d", "rule": {"field": "orders_90d", "op": ">=", "value": 5}},
    {"name": "s05_lapsed_180d", "rule": {"not_performed": "transactions", "within": "180d"}},
    {
        "name": "s06_kitchen_buyers",
        "rule": {
            "performed": "transactions",
            "where": [{"field": "category", "op": "=", "value": "Bolig"}],
            "within": "365d",
        },
    },
    {"name": "s07_store_only", "rule": {"field": "top_channel", "op": "=", "value": "store"}},
    {
        "name": "s08_openers_30d",
        "rule": {
            "performed": "events",
            "where": [{"field": "event_type", "op": "=", "value": "email_open"}],
            "within": "30d",
        },
    },
    {
        "name": "s09_clickers_no_buy",
        "rule": {
            "all": [
                {
                    "performed": "events",
                    "where": [{"field": "event_type", "op": "=", "value": "email_click"}],
                    "within": "90d",
                },
                {"not_performed": "transactions", "within": "90d"},
            ]
        },
    },
    {
        "name": "s10_tickets",
        "rule": {
            "performed": "events",
            "where": [{"field": "event_type", "op": "=", "value": "service_ticket"}],
            "within": "365d",
            "count": {">=": 2},
        },
    },
    {"name": "s11_high_aov", "rule": {"field": "avg_order_value", "op": ">", "value": 500}},
    {"name": "s12_email_consent", "rule": {"field": "consent_email", "op": "=", "value": True}},
    {"name": "s13_nps_promoters", "rule": {"field": "nps_last", "op": ">=", "value": 9}},
    {"name": "s14_subscribers", "rule": {"field": "subscription_active", "op": "=", "value": True}},
    {"name": "s15_mobile", "rule": {"field": "top_device", "op": "=", "value": "mobile"}},
    {
        "name": "s16_between_90_30",
        "rule": {
            "performed": "transactions",
            "between": ["90d", "30d"],
            "sum": {"of": "amount", ">": 500},
        },
    },
    {
        "name": "s17_browse_then_buy",
        "rule": {
            "sequence": [
                {
                    "performed": "events",
                    "where": [{"field": "event_type", "op": "=", "value": "web_visit"}],
                },
                {"performed": "transactions"},
            ],
            "within": "7d",
            "during": {"within": "90d"},
        },
    },
    {
        "name": "s18_champions_dk",
        "rule": {
            "all": [
                {"field": "rfm_cell", "op": "=", "value": "champions"},
                {"in_segment": "s01_danes"},
            ]
        },
    },
    {
        "name": "s19_at_risk_valuable",
        "rule": {
            "all": [
                {"field": "lifecycle_stage", "op": "in", "value": ["at_risk", "lapsed"]},
                {"field": "value_tier", "op": "=", "value": "gold"},
            ]
        },
    },
    {
        "name": "s20_any_mix",
        "rule": {
            "any": [
                {"in_segment": "s03_big_spenders"},
                {
                    "all": [
                        {"in_segment": "s08_openers_30d"},
                        {"not": {"in_segment": "s05_lapsed_180d"}},
                    ]
                },
            ]
        },
    },
]


def timed(fn: Callable[[], object], repeat: int = 3) -> tuple[float, object]:
    """Median wall time of ``repeat`` calls (after one warm-up) and the last result."""
    fn()
    times = []
    result: object = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def bench_example(project: service.Project) -> tuple[float, float, int]:
    from segmint.segments._compile import ActivityPasses, compile_segment
    from segmint.segments._evaluate import rule_context
    from segmint.traits._attributes import customer_attributes

    engine = project.engine

    def segmint_once() -> int:
        # as a run does: the base (here the one attribute the rules read, merged per
        # person) materialised once, both rules' activity measures in one pass per table,
        # then VIP materialised, then the example reading it
        scratch: list[str] = []

        def keep(expr: ibis.Table) -> ibis.Table:
            scratch.append(engine.temp_name("bench"))
            engine.write(scratch[-1], expr, temp=True)
            return engine.table(scratch[-1])

        base = keep(customer_attributes(engine, only=["country"]).select("customer_id", "country"))
        members: dict[str, ibis.Table] = {}
        passes = ActivityPasses()
        ctx = rule_context(engine, base, project.config, AS_OF, members, passes=passes)
        for seg in EXAMPLE:
            passes.register(seg.rule, ctx)
        passes.keep(keep)
        members["vip"] = keep(compile_segment(EXAMPLE[0].rule, ctx))
        found = compile_segment(EXAMPLE[1].rule, ctx).to_pyarrow()
        for name in scratch:
            engine.drop(name)
        return found.num_rows

    raw = engine.con.con

    def sql_once() -> int:
        return len(raw.execute(HAND_SQL).fetchall())

    seg_s, seg_n = timed(segmint_once)
    sql_s, sql_n = timed(sql_once)
    assert seg_n == sql_n, (seg_n, sql_n)
    return seg_s, sql_s, int(seg_n)  # type: ignore[call-overload]


def bench_rfm(project: service.Project) -> tuple[float, int]:
    from segmint.segments import rfm
    from segmint.traits import activity
    from segmint.traits._builtin import days_between, one_line_per_order, order_count

    engine = project.engine

    def once() -> int:
        tx = activity(engine, "transactions", AS_OF)
        assert tx is not None
        # the product's own path: orders counted without DISTINCT when every line is an order
        agg = tx.group_by("customer_id").aggregate(
            recency_days=days_between(tx._time.max(), AS_OF),
            frequency=order_count(tx, one_line=one_line_per_order(engine)),
            monetary=tx.amount.sum(),
        )
        cells = rfm(agg, project.config.families.rfm)
        return int(cells.to_pyarrow().num_rows)

    return timed(once)  # type: ignore[return-value]


def bench_run(project: service.Project, rounds: int = 3) -> dict[str, object]:
    """(c): ``rounds`` full runs in a row; the median seconds of the whole run and of its
    publishing part (snapshot, deltas, sizes, traits stored: from the run's "Publishing"
    step to its end), each round's, customers and segments.  One run varies by a few
    seconds with what DuckDB has to checkpoint when the run commits."""
    project.config.segments = parse_segments(VARIED)
    project.config.runs.incremental = False  # the full computation, as every run did before
    totals: list[float] = []
    publishing: list[float] = []
    for _ in range(rounds):
        steps: dict[str, float] = {}

        def step(name: str, steps: dict[str, float] = steps) -> None:
            steps[name] = time.perf_counter()

        t0 = time.perf_counter()
        result = service.run(project, as_of=AS_OF, progress=step)
        end = time.perf_counter()
        totals.append(end - t0)
        publishing.append(end - steps["Publishing"])
    return {
        "seconds": statistics.median(totals),
        "publishing": statistics.median(publishing),
        "all": [round(x, 1) for x in totals],
        "customers": result.customers,
        "segments": len(result.segments),
    }


NEXT_DAY = AS_OF + timedelta(days=1)


def append_day(engine: object) -> tuple[int, int]:
    """One more day of orders and events: the rows of the day before AS_OF again, a day
    later, with new ids, loaded a day after AS_OF.  Returns (orders, events) added."""
    raw = engine.con.con  # type: ignore[attr-defined]
    loaded = "TIMESTAMP '2026-10-02 01:00:00'"
    added = []
    for table, key, at in (("transactions", "order_id", "order_date"),
                             ("events", "event_id", "event_time")):  # fmt: skip
        day = f"{at} >= TIMESTAMP '2026-09-30' AND {at} < TIMESTAMP '2026-10-01'"
        raw.execute(
            f"""INSERT INTO {table} BY NAME
            SELECT * REPLACE ({key} || '-n' AS {key}, _key || '-n' AS _key,
                              {loaded} AS _loaded_at, {at} + INTERVAL 1 DAY AS {at})
            FROM {table} WHERE {day}"""
        )
        n = raw.execute(f"SELECT count(*) FROM {table} WHERE _loaded_at = {loaded}")
        added.append(int(n.fetchone()[0]))
    return added[0], added[1]


def bench_incremental(folder: Path, work: Path, rounds: int = 2) -> dict[str, object]:
    """(c'): day D in full (it keeps its base), a day appended, then ``rounds`` times: the
    run as of D + 1 with incremental traits, the same run in full (the baseline), and a
    full run as of D again, which keeps a base as of D for the next round (see the
    docstring).  Median seconds of each, and whether the two D + 1 runs published the same."""
    from segmint.project import Project
    from segmint.runs import TRAITS

    copy = work / f"{folder.name}-incremental"
    if copy.exists():
        shutil.rmtree(copy)
    shutil.copytree(folder, copy)
    project = Project.open(copy)
    project.config.segments = parse_segments(VARIED)
    eng = project.engine
    raw = eng.con.con
    out: dict[str, object] = {"loads": [os.getloadavg()]}
    t0 = time.perf_counter()
    first = service.run(project, as_of=AS_OF)
    out["first_s"], out["first"] = time.perf_counter() - t0, first.traits
    out["orders"], out["events"] = append_day(eng)
    incremental: list[float] = []
    full: list[float] = []
    checks: list[tuple[int, int, bool]] = []
    for i in range(rounds):
        if i:  # a base kept as of D again (the appended rows are then old rows on the cut)
            project.config.runs.incremental = True
            service.run(project, as_of=AS_OF)
        project.config.runs.incremental = True
        t0 = time.perf_counter()
        inc = service.run(project, as_of=NEXT_DAY)
        incremental.append(time.perf_counter() - t0)
        out["incremental"] = inc.traits
        eng.write("_bench_inc_traits", eng.table(TRAITS).drop("run_id"))
        project.config.runs.incremental = False
        t0 = time.perf_counter()
        again = service.run(project, as_of=NEXT_DAY)
        full.append(time.perf_counter() - t0)
        differ = raw.execute(
            f"SELECT count(*) FROM ((SELECT * FROM _bench_inc_traits EXCEPT ALL "
            f"SELECT * EXCLUDE (run_id) FROM {TRAITS}) UNION ALL (SELECT * EXCLUDE (run_id) "
            f"FROM {TRAITS} EXCEPT ALL SELECT * FROM _bench_inc_traits))"
        ).fetchone()[0]
        moved = sum(r.entered + r.exited for r in again.segments.values())
        sizes = {k: v.size for k, v in again.segments.items()} == {
            k: v.size for k, v in inc.segments.items()
        }
        checks.append((int(differ), moved, sizes))
        out["loads"].append(os.getloadavg())  # type: ignore[attr-defined]
    out["incremental_s"] = statistics.median(incremental)
    out["full_s"] = statistics.median(full)
    out["all_incremental_s"], out["all_full_s"] = incremental, full
    out["checks"] = checks
    out["customers"] = inc.customers
    project.close()
    shutil.rmtree(copy)
    return out


def bench_spark(customers: int, work: Path) -> tuple[float, float, int, float]:
    """(d): the example rule on Spark local and on DuckDB, on the same smaller store."""
    from segmint.engine import connect
    from segmint.segments._compile import compile_segment
    from segmint.segments._evaluate import rule_context
    from segmint.traits._attributes import customer_attributes

    duck_project = build_store(work / f"store-{customers}", customers)
    spark = connect("spark://local[2]", base_dir=work / f"spark-{customers}")
    t0 = time.perf_counter()
    for name in ("customers", "identities", "transactions", "events"):
        if not spark.has_table(name):
            spark.write(name, duck_project.engine.table(name).to_pyarrow())
    copy_s = time.perf_counter() - t0

    def example_on(engine: object) -> Callable[[], int]:
        def once() -> int:
            base = customer_attributes(engine)  # type: ignore[arg-type]
            members: dict[str, ibis.Table] = {}
            ctx = rule_context(engine, base, duck_project.config, AS_OF, members)  # type: ignore[arg-type]
            members["vip"] = compile_segment(EXAMPLE[0].rule, ctx).cache()
            n = compile_segment(EXAMPLE[1].rule, ctx).count().execute()
            return int(n)

        return once

    spark_s, spark_n = timed(example_on(spark), repeat=2)
    duck_s, duck_n = timed(example_on(duck_project.engine), repeat=2)
    assert spark_n == duck_n, (spark_n, duck_n)
    return spark_s, duck_s, int(duck_n), copy_s  # type: ignore[call-overload]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--work", type=Path, default=Path("benchmarks/out"))
    ap.add_argument(
        "--parts", default="abc", help="which of (a), (b), (c) to run; i: only (c') of (c)"
    )
    ap.add_argument("--spark", action="store_true")
    ap.add_argument("--spark-customers", type=int, default=100_000)
    args = ap.parse_args()

    folder = args.work / f"store-{args.customers}"
    project = build_store(folder, args.customers)
    eng = project.engine
    n_tx, n_ev = eng.count("transactions"), eng.count("events")
    size = f"{args.customers:,} customers, {n_tx:,} transactions, {n_ev:,} events"
    threads = eng.con.con.execute("SELECT current_setting('threads')").fetchone()
    print(f"\nStore: {size}; as of {AS_OF:%Y-%m-%d}")
    # every figure here scales with the cores DuckDB runs on (docs/benchmarks.md, "Cores")
    print(f"Machine: {os.cpu_count()} cores, DuckDB threads {threads[0] if threads else '?'}\n")

    if "a" in args.parts:
        seg_s, sql_s, members = bench_example(project)
        print("| (a) example rule | seconds | members |\n|---|---:|---:|")
        print(f"| segmint (compiled rule, incl. VIP segment) | {seg_s:.2f} | {members:,} |")
        print(f"| hand-written DuckDB SQL | {sql_s:.2f} | {members:,} |")
        print(f"\nratio segmint / SQL: **{seg_s / sql_s:.2f}x** (goal: at most 1.2x)\n")

    if "b" in args.parts:
        rfm_s, scored = bench_rfm(project)
        print(
            f"| (b) RFM traits + quintiles + cells | {rfm_s:.2f} s | {scored:,} scored "
            f"| goal 1.5 s |\n"
        )

    if "c" in args.parts or "i" in args.parts:
        if "c" in args.parts:
            print(f"load average before (c): {os.getloadavg()}")
            c = bench_run(project)
            print(
                f"| (c) segmint run: all traits, RFM, lifecycle, tiers, 20 rule segments, "
                f"snapshot, median of {len(c['all'])} | {c['seconds']:.1f} s (of which "  # type: ignore[arg-type]
                f"publishing {c['publishing']:.1f} s; each: {c['all']}) | "
                f"{c['customers']:,} customers | {c['segments']} segments incl. family cells | "
                f"peak RSS {peak_rss_gb():.2f} GB | goal 10 s, 4 GB |"
            )
        project.close()
        r = bench_incremental(folder, args.work)
        inc, first = r["incremental"], r["first"]
        assert isinstance(inc, dict)
        assert isinstance(first, dict)
        print(
            f"\n(c') next day: {r['orders']:,} orders and {r['events']:,} events appended; "
            f"day D run ({first['path']}, keeps its base) {r['first_s']:.1f} s\n"
            f"| (c') run as of D + 1, median of {len(r['all_full_s'])} | seconds |\n"  # type: ignore[arg-type]
            f"|---|---:|\n"
            f"| incremental traits: {inc['recomputed']:,} of {inc['persons']:,} persons "
            f"recomputed, {inc['shifted']:,} shifted ({inc['path']}; base "
            f"{inc['seconds']:.1f} s) | {r['incremental_s']:.1f} |\n"
            f"| baseline: the same run with the base computed in full | {r['full_s']:.1f} |\n"
            f"\nratio incremental / full: **{r['incremental_s'] / r['full_s']:.2f}x** "  # type: ignore[operator]
            f"(each: {r['all_incremental_s']} / {r['all_full_s']}); per round (trait rows "
            f"differing, members entered or exited between the two, same sizes): "
            f"{r['checks']}; peak RSS {peak_rss_gb():.2f} GB; load averages {r['loads']}"
        )
    else:
        project.close()

    if args.spark:
        spark_s, duck_s, n, copy_s = bench_spark(args.spark_customers, args.work)
        print(
            f"\n| (d) example rule, {args.spark_customers:,} customers | Spark local[2] "
            f"{spark_s:.2f} s | DuckDB {duck_s:.2f} s | ratio {spark_s / duck_s:.1f}x | "
            f"{n:,} members, same on both | (copying the store into Spark: {copy_s:.0f} s) |"
        )


if __name__ == "__main__":
    main()
