"""Behavioural clusters of 1,000,000 customers end to end, against plain scikit-learn KMeans.

segmint: pull the traits of the store's last run (and the region for names), transform
them (log1p for skewed columns, scaling, one-hot), fit (KMeans, one k-means++ start above
200,000 customers), assign every customer, match labels and name the groups.  Baseline: scikit-learn
``KMeans(k)`` with its defaults, fitted and predicting on the same transformed matrix (so
the baseline gets the feature pull and the transform for free), with its default threads
and on one thread (segmint pins its fits to one thread, see ``segmint/_threads.py``).
Both with the same k; segmint also once with k chosen by the silhouette on a
20,000-customer sample (k = 2..8).

The store is the benchmark store of ``benchmarks/_store.py`` after one ``segmint run`` (as
``benchmarks/segments.py`` leaves it); it is opened read-only.

    python benchmarks/discovery.py --store benchmarks/out/store-1000000 [--k 5]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import ibis
import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from threadpoolctl import threadpool_limits

from segmint.discovery import ClusterSettings, FeatureTransform, fit_clusters
from segmint.discovery._features import present


def pull(store: Path, columns: list[str]) -> pd.DataFrame:
    """The last run's traits and each person's region, read-only."""
    con = ibis.duckdb.connect(str(store / "store.duckdb"), read_only=True)
    t = con.table("customer_traits")
    c = con.table("customers")
    region = c.group_by("customer_id").aggregate(region=c.region.max())
    cols = present(t.columns, columns)
    joined = t.select("customer_id", *cols).left_join(region, "customer_id")
    frame = joined.select("customer_id", *cols, "region").to_pyarrow().to_pandas()
    con.disconnect()
    return frame


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--store", type=Path, default=Path("benchmarks/out/store-1000000"))
    ap.add_argument("--k", type=int, default=5)
    args = ap.parse_args()
    settings = ClusterSettings(enabled=True, k=args.k)
    wanted = [*settings.features, "age"]

    t0 = time.perf_counter()
    frame = pull(args.store, wanted)
    t_pull = time.perf_counter() - t0
    t0 = time.perf_counter()
    found = fit_clusters(frame, settings)
    t_fit = time.perf_counter() - t0
    n = len(frame)

    x = FeatureTransform(features=present(frame.columns, settings.features)).fit(frame)
    matrix = x.transform(frame)
    t0 = time.perf_counter()
    km = KMeans(args.k, random_state=0)
    base_labels = km.fit_predict(matrix)
    t_base = time.perf_counter() - t0
    t0 = time.perf_counter()
    with threadpool_limits(limits=1):
        KMeans(args.k, random_state=0).fit_predict(matrix)
    t_base1 = time.perf_counter() - t0

    t0 = time.perf_counter()
    chosen = fit_clusters(frame, ClusterSettings(enabled=True))
    t_chosen = time.perf_counter() - t0

    # quality: the within-group sum of squares of segmint's groups on the same matrix
    ours = np.zeros(n)
    for label in np.unique(found.label):
        rows = found.label == label
        ours[rows] = ((matrix[rows] - matrix[rows].mean(axis=0)) ** 2).sum(axis=1)
    total = t_pull + t_fit
    print(f"\n{n:,} customers, {matrix.shape[1]} matrix columns, k = {args.k}\n")
    print("| step | seconds |\n|---|---:|")
    print(f"| segmint: feature pull (DuckDB -> pandas) | {t_pull:.1f} |")
    print(f"| segmint: transform, fit, assign, labels, names | {t_fit:.1f} |")
    print(f"| **segmint end to end** | **{total:.1f}** |")
    print(f"| scikit-learn KMeans (defaults) fit + predict on the same matrix | {t_base:.1f} |")
    print(f"| the same KMeans on one thread (as segmint runs it) | {t_base1:.1f} |")
    print(f"| segmint end to end, k chosen by silhouette (2..8) | {t_chosen:.1f} |")
    print(
        f"\nratio segmint end to end / plain KMeans: **{total / t_base:.2f}x** "
        f"(against KMeans on one thread: {total / t_base1:.2f}x)"
    )
    print(
        f"within-group sum of squares: segmint {ours.sum():,.0f}, "
        f"KMeans {km.inertia_:,.0f} ({ours.sum() / km.inertia_ - 1:+.1%}); "
        f"k chosen: {chosen.card.k}; "
        f"agreement (ARI) {_ari(found.label, base_labels):.3f}"
    )
    for g in found.card.groups:
        print(f"  {g['label']}: {g['size']:,} {g['name']}")


def _ari(a: np.ndarray, b: np.ndarray) -> float:
    from sklearn.metrics import adjusted_rand_score

    return float(adjusted_rand_score(a, b))


if __name__ == "__main__":
    main()
