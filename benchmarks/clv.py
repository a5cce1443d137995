"""Benchmark segmint's BG/NBD and Gamma-Gamma fits against lifetimes and PyMC-Marketing.

The demo company (``segmint.demo.generate``) with N customers; the CLV summary of its
transactions computed in DuckDB (``segmint.models``: one purchase per order, all data as
calibration, days); then in the same run, on the same summary:

- **segmint**: ``BGNBD().fit`` on the compressed summary (one weighted row per distinct
  ``(x, t_x, T)``) and ``GammaGamma().fit`` on the repeat buyers;
- **lifetimes** 0.11.3 ``BetaGeoFitter`` / ``GammaGammaFitter`` (on the same compressed
  rows with ``weights``; Gamma-Gamma per customer);
- **PyMC-Marketing** ``BetaGeoModel`` / ``GammaGammaModel`` fitted with ``method="map"``
  and flat priors (``Prior("HalfFlat")``), so MAP is the maximum-likelihood estimate
  (per customer: it takes no weights).

lifetimes and PyMC-Marketing are never dependencies of segmint: they live in a separate
virtualenv that this script calls (``benchmarks/_clv_baselines.py``).  Create it with

    python3.11 -m venv benchmarks/.venv-clv
    benchmarks/.venv-clv/bin/pip install lifetimes pymc-marketing "setuptools<81" pyarrow

(or ``make bench-clv``), then run (``--paretonbd`` also times segmint's Pareto/NBD fit)

    .venv/bin/python benchmarks/clv.py --customers 1000000
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import ibis
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from segmint.demo import generate
from segmint.models import (
    BGNBD,
    GammaGamma,
    ParetoNBD,
    collect,
    compress,
    customer_summary,
    purchases,
    spend_summary,
    window_for,
)

HERE = Path(__file__).resolve().parent
BASELINE_PY = HERE / ".venv-clv" / "bin" / "python"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip", default="", help="comma-separated: lifetimes,pymc")
    parser.add_argument(
        "--paretonbd", action="store_true", help="also time segmint's Pareto/NBD fit"
    )
    args = parser.parse_args(argv)

    t = time.perf_counter()
    data = generate(args.customers, seed=args.seed)
    tx = data.tables["transactions"].select(["order_id", "customer_id", "order_date", "amount"])
    del data
    gen_s = time.perf_counter() - t

    con = ibis.duckdb.connect()
    table = con.create_table("transactions", tx)
    t = time.perf_counter()
    bought = purchases(
        table, customer="customer_id", date="order_date", amount="amount", order="order_id"
    )
    window = window_for(bought)
    window = type(window)(window.first_purchase, window.observation_end, window.observation_end)
    window_s = time.perf_counter() - t
    summary = con.create_table("summary", customer_summary(bought, window))
    comp = collect(compress(summary), window)
    x_gg, m_gg, w_gg = spend_summary(summary)
    summary_s = time.perf_counter() - t

    t = time.perf_counter()
    bg = BGNBD().fit(comp.X, sample_weight=comp.weight)
    bg_s = time.perf_counter() - t
    t = time.perf_counter()
    gg = GammaGamma().fit(np.column_stack([x_gg, m_gg]), sample_weight=w_gg)
    gg_s = time.perf_counter() - t

    pn: ParetoNBD | None = None
    pn_s = 0.0
    if args.paretonbd:
        t = time.perf_counter()
        pn = ParetoNBD().fit(comp.X, sample_weight=comp.weight)
        pn_s = time.perf_counter() - t

    results: dict[str, dict[str, object]] = {
        "segmint": {
            "bgnbd": bg.params_,
            "bgnbd_ll": bg.log_likelihood_,
            "bgnbd_s": bg_s,
            "gg": gg.params_,
            "gg_s": gg_s,
        }
    }
    with tempfile.TemporaryDirectory() as tmp:
        comp_path, gg_path = Path(tmp) / "bgnbd.parquet", Path(tmp) / "gg.parquet"
        pq.write_table(
            pa.table({"x": comp.x, "t_x": comp.t_x, "T": comp.T, "weight": comp.weight}),
            comp_path,
        )
        pq.write_table(pa.table({"x": x_gg, "monetary": m_gg, "weight": w_gg}), gg_path)
        for name in ("lifetimes", "pymc"):
            if name in args.skip.split(","):
                continue
            if not BASELINE_PY.exists():
                print(f"{BASELINE_PY} missing: see the docstring", file=sys.stderr)
                break
            proc = subprocess.run(
                [
                    str(BASELINE_PY),
                    str(HERE / "_clv_baselines.py"),
                    name,
                    str(comp_path),
                    str(gg_path),
                ],
                capture_output=True,
                text=True,
                check=False,
            )
            if proc.returncode != 0:
                results[name] = {"error": proc.stderr.strip().splitlines()[-1:]}
                print(proc.stderr[-3000:], file=sys.stderr)
                continue
            results[name] = json.loads(proc.stdout.strip().splitlines()[-1])

    print(f"## CLV fit: {args.customers:,} customers, seed {args.seed}\n")
    print(
        f"{tx.num_rows:,} orders; generated in {gen_s:.1f} s; summary in DuckDB (Ibis) "
        f"{summary_s:.2f} s (of which the window {window_s:.2f} s); {comp.n_customers:,} "
        f"customers in {len(comp.x):,} compressed "
        f"rows; Gamma-Gamma on {int(w_gg.sum()):,} repeat buyers\n"
    )
    print(f"Python {platform.python_version()}, numpy {np.__version__}\n")
    if pn is not None:
        q = pn.params_
        print(
            f"segmint Pareto/NBD: r {q['r']:.6f}, alpha {q['alpha']:.5f}, s {q['s']:.6f}, "
            f"beta {q['beta']:.4f}, log-lik {pn.log_likelihood_:,.2f}, {pn_s:.1f} s "
            f"(converged: {pn.converged_})\n"
        )
    print("| fit | r | alpha | a | b | log-lik | seconds | vs segmint |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, res in results.items():
        if "error" in res:
            print(f"| {name} BG/NBD | error: {res['error']} | | | | | | |")
            continue
        p = res["bgnbd"]
        assert isinstance(p, dict)
        ratio = float(res["bgnbd_s"]) / bg_s  # type: ignore[arg-type]
        print(
            f"| {name} BG/NBD | {p['r']:.6f} | {p['alpha']:.5f} | {p['a']:.6f} | "
            f"{p['b']:.5f} | {float(res.get('bgnbd_ll', float('nan'))):,.2f} | "  # type: ignore[arg-type]
            f"{float(res['bgnbd_s']):.2f} | {ratio:.1f}x |"  # type: ignore[arg-type]
        )
    print("\n| fit | p | q | gamma | seconds | vs segmint |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, res in results.items():
        if "error" in res or "gg" not in res:
            continue
        p = res["gg"]
        assert isinstance(p, dict)
        ratio = float(res["gg_s"]) / gg_s  # type: ignore[arg-type]
        print(
            f"| {name} Gamma-Gamma | {p['p']:.6f} | {p['q']:.6f} | {p['gamma']:.4f} | "
            f"{float(res['gg_s']):.2f} | {ratio:.1f}x |"  # type: ignore[arg-type]
        )
    print("\nlargest relative difference of the parameters from segmint's:")
    for name, res in results.items():
        if name == "segmint" or "error" in res:
            continue
        for model in ("bgnbd", "gg"):
            mine, theirs = results["segmint"][model], res.get(model)
            if isinstance(mine, dict) and isinstance(theirs, dict):
                diff = max(abs(theirs[k] / mine[k] - 1) for k in mine)
                print(f"- {name} {model}: {diff:.2e}")
    print("\n```json\n" + json.dumps(results, default=float) + "\n```")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
