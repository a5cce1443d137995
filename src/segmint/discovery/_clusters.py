"""Behavioural clusters: traits -> matrix -> k chosen -> k-means or mixture -> stable names.

The fit is scikit-learn's (``KMeans``; ``GaussianMixture`` fitted on at most 200,000
customers and assigning everyone); this module ties the
steps together and records them on a card that the next run reads to keep its labels.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa

from segmint._threads import one_thread
from segmint.discovery._choose_k import FULL_BATCH_MAX, choose_k, make_model
from segmint.discovery._features import FeatureTransform, present
from segmint.discovery._labels import align, stable_labels
from segmint.discovery._naming import name_groups, text_levels
from segmint.exceptions import ConfigError
from segmint.models._card import _Card, _now, _version

if TYPE_CHECKING:
    from segmint.discovery._config import ClusterSettings

CARD_MODEL = "clusters"


@dataclass
class ClusterCard(_Card):
    """What a clustering found, how k was chosen, and each group's centre and name.

    ``groups[i]["centre"]`` is in raw units (logged traits as log1p, indicators as
    shares): the next run matches its groups to these centres.
    """

    method: str
    k: int
    criterion: str | None
    candidates: list[dict[str, float]]
    customers: int
    features: dict[str, Any]
    groups: list[dict[str, Any]]
    seed: int
    model: str = CARD_MODEL
    fitted_at: str = field(default_factory=_now)
    segmint_version: str = field(default_factory=_version)


@dataclass
class Clustering:
    """Each customer's stable label and its group's name, and the card of the fit."""

    customer_id: np.ndarray
    label: np.ndarray
    names: dict[int, str]
    card: ClusterCard

    def table(self) -> pa.Table:
        """``customer_id``, ``cluster`` (stable label) and ``cluster_name`` per customer."""
        labels = sorted(self.names)
        index = np.searchsorted(labels, self.label)
        names = pa.DictionaryArray.from_arrays(
            pa.array(index, pa.int32()), pa.array([self.names[k] for k in labels], pa.string())
        )
        return pa.table(
            {
                "customer_id": pa.array(self.customer_id.astype(str), pa.string()),
                "cluster": pa.array(self.label, pa.int64()),
                "cluster_name": names.cast(pa.string()),
            }
        )


def previous_centres(card: dict[str, Any] | None) -> dict[int, dict[str, float]]:
    """Label -> raw centre of a stored clusters card (empty without one)."""
    if not card:
        return {}
    return {int(g["label"]): dict(g["centre"]) for g in card.get("groups", [])}


def group_means(x: np.ndarray, assigned: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean row per group (k rows) and group sizes."""
    sizes = np.bincount(assigned, minlength=k)
    sums = np.column_stack([np.bincount(assigned, weights=x[:, j], minlength=k)
                            for j in range(x.shape[1])])  # fmt: skip
    return sums / np.maximum(sizes, 1)[:, None], sizes


@one_thread
def fit_clusters(
    frame: pd.DataFrame,
    settings: ClusterSettings,
    *,
    previous: dict[str, Any] | None = None,
) -> Clustering:
    """Cluster the customers in ``frame`` (``customer_id`` and trait columns).

    Parameters
    ----------
    frame
        One row per customer: ``customer_id``, the traits to cluster on and the
        ``describe_by`` attributes.
    settings
        Method, k (or its range and criterion), features, seed, names.
    previous
        The previous run's clusters card: its labels are kept for the matching groups.
    """
    features = present(frame.columns, settings.features)
    if not features:
        raise ConfigError(
            "discovery.clusters.features: none of "
            f"{', '.join(settings.features)} is a trait of this project"
        )
    if len(frame) < max(settings.k or settings.k_min, 2) * 5:
        raise ConfigError(f"too few customers to cluster: {len(frame)}")
    tf = FeatureTransform(features=features).fit(frame)
    raw = tf.raw(frame)
    x = tf.scale(raw)
    n = len(x)
    rng = np.random.default_rng(settings.seed)
    sample = np.sort(rng.choice(n, size=min(n, settings.sample), replace=False))
    choice = None
    if settings.k is None:
        choice = choose_k(
            x[sample],
            method=settings.method,
            criterion=settings.chosen_criterion(),
            k_min=settings.k_min,
            k_max=settings.k_max,
            seed=settings.seed,
            resamples=settings.resamples,
        )
        k = choice.k
    else:
        k = settings.k
    model: Any = make_model(settings.method, k, settings.seed, n)
    if settings.method == "gmm" and n > FULL_BATCH_MAX:
        model.fit(x[rng.choice(n, size=FULL_BATCH_MAX, replace=False)])
    else:
        model.fit(x)
    fitted = np.asarray(model.predict(x), dtype=np.int64)
    centres, sizes = group_means(x, fitted, k)
    raw_centres, _ = group_means(raw, fitted, k)
    prev = previous_centres(previous)
    old = {label: tf.scale(align(c, tf.names_)[None, :])[0] for label, c in prev.items()}
    match = stable_labels(centres, sizes.tolist(), old)
    label_of = np.array(match.labels, dtype=np.int64)
    label = label_of[fitted]
    base_raw = raw.mean(axis=0)
    cols = [(c.trait, c.level) for c in tf.columns_]
    z = {
        match.labels[i]: {t: float(centres[i, j]) for j, t in enumerate(tf.numeric_)}
        for i in range(k)
    }
    levels = {match.labels[i]: text_levels(raw_centres[i], base_raw, cols) for i in range(k)}
    names = name_groups(
        match.labels,
        z,
        levels,
        frame.iloc[sample].reset_index(drop=True),
        label[sample],
        settings.describe_by,
        settings.names,
    )
    groups = [
        {
            "label": match.labels[i],
            "name": names[match.labels[i]],
            "size": int(sizes[i]),
            "share": float(sizes[i] / n),
            "centre": {c: float(v) for c, v in zip(tf.names_, raw_centres[i], strict=True)},
            "z": {t: round(v, 4) for t, v in z[match.labels[i]].items()},
            "over_represented": levels[match.labels[i]],
            "distance_to_previous": match.distances[i],
        }
        for i in sorted(range(k), key=lambda i: match.labels[i])
    ]
    card = ClusterCard(
        method=type(model).__name__,
        k=k,
        criterion=None if choice is None else choice.criterion,
        candidates=[]
        if choice is None
        else [{"k": c.k, "value": c.value} for c in choice.candidates],
        customers=n,
        features=tf.describe(),
        groups=groups,
        seed=settings.seed,
    )
    ids = frame["customer_id"].to_numpy()
    return Clustering(ids, label, names, card)
