"""Churn and propensity: fit and score time on the demo company at 1,000,000 customers.

Usage: ``python benchmarks/models.py [--customers 1000000] [--work benchmarks/out]
[--max-samples 200000]``.  The store is built once by ``_store.build_store`` and reused.
The named baseline, timed in the same run on the same features and customers, is
scikit-learn's ``LogisticRegression`` (median-imputed, standardised numeric traits).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from datetime import datetime
from pathlib import Path

import numpy as np
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, str(Path(__file__).parent))

from _store import build_store

from segmint.models import churn_frame, fit_churn, fit_propensity, propensity_frame

T0, T1, HORIZON = datetime(2025, 10, 1), datetime(2026, 4, 1), 90


def _timed(label: str, results: dict[str, float], fn):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    out = fn()
    results[label] = round(time.perf_counter() - start, 1)
    print(f"{label}: {results[label]} s", flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--work", type=Path, default=Path("benchmarks/out"))
    ap.add_argument("--max-samples", type=int, default=200_000)
    args = ap.parse_args()
    project = build_store(args.work / f"store-{args.customers}", args.customers)
    eng, cfg = project.engine, project.config.traits
    t: dict[str, float] = {}
    n = args.max_samples

    x_test, y_test = _timed(
        "churn: features and labels at the test cut-off", t, lambda: churn_frame(eng, cfg, T1)
    )
    fit = _timed(
        "churn: fit_churn (features, fit on a sample, backtest, importance)",
        t,
        lambda: fit_churn(eng, cfg, train_cutoff=T0, test_cutoff=T1, max_samples=n),
    )
    _timed("churn: score probabilities", t, lambda: fit.model.predict_proba(x_test))
    scores = _timed("churn: score with 3 reasons each", t, lambda: fit.score_frame(x_test))

    x_train, y_train = churn_frame(eng, cfg, T0)
    pick = np.sort(
        np.random.default_rng(0).choice(len(x_train), min(n, len(x_train)), replace=False)
    )
    numeric = [c for c in fit.model.features_ if c not in fit.model.categories_]
    baseline = make_pipeline(
        SimpleImputer(strategy="median"), StandardScaler(), LogisticRegression(max_iter=1000)
    )
    _timed(
        "baseline: LogisticRegression fit (same sample)",
        t,
        lambda: baseline.fit(x_train.iloc[pick][numeric], y_train[pick]),
    )
    base_risk = _timed(
        "baseline: LogisticRegression score",
        t,
        lambda: baseline.predict_proba(x_test[numeric])[:, 1],
    )

    prop = _timed(
        "propensity: fit_propensity (8 categories, sample)",
        t,
        lambda: fit_propensity(eng, cfg, train_cutoff=T0, test_cutoff=T1, max_samples=n),
    )
    p_test = _timed(
        "propensity: features at the test cut-off",
        t,
        lambda: propensity_frame(eng, cfg, T1, prop.categories, 365),
    )
    _timed("propensity: score and next best category", t, lambda: prop.score_frame(p_test))

    result = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}",
        "customers": args.customers,
        "churn_population_test": len(x_test),
        "train_sample": n,
        "seconds": t,
        "churn_auc": fit.backtest.auc,
        "churn_pr_auc": fit.backtest.pr_auc,
        "churn_lift_top_decile": fit.backtest.lift_top_decile,
        "baseline_auc": float(roc_auc_score(y_test, base_risk)),
        "scored_rows": scores.num_rows,
        "propensity_pooled_auc": prop.backtest.pooled_auc,
        "popularity_pooled_auc": prop.backtest.baseline_pooled_auc,
        "propensity_top_hit": prop.backtest.top_hit_rate,
        "popularity_top_hit": prop.backtest.baseline_top_hit_rate,
    }
    print(json.dumps(result, indent=2))
    project.close()


if __name__ == "__main__":
    main()
