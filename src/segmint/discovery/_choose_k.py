"""How many clusters: silhouette on a sample, BIC of a Gaussian mixture, or stability.

Every candidate k is fitted on the same sample; the values of the stated criterion for all
candidates go on the card, so a user can see how clear the choice was.  Stability is the
mean adjusted Rand index between fits on pairs of half-size resamples, compared on the
whole sample: a k that splits the data the same way whatever the sample is a real one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: above this many rows: one k-means++ start instead of four, and mixtures fit on a sample
#: of this size.  (MiniBatchKMeans does not pay here: on 300,000 customers x 13 columns it
#: took 12.5 s against about 1 s for one full-batch KMeans start; see docs/benchmarks.md.)
FULL_BATCH_MAX = 200_000
#: silhouette needs all pairwise distances: it is measured on this many rows
SILHOUETTE_SAMPLE = 5_000


@dataclass(frozen=True)
class Candidate:
    """One k tried and its criterion value."""

    k: int
    value: float


@dataclass(frozen=True)
class Choice:
    """The k chosen, by which criterion (higher is better unless ``bic``), and every value."""

    k: int
    criterion: str
    candidates: list[Candidate]


def make_model(method: str, k: int, seed: int, n: int) -> object:
    """A scikit-learn estimator for ``method`` with ``k`` groups, sized for ``n`` rows."""
    from sklearn.cluster import KMeans
    from sklearn.mixture import GaussianMixture

    if method == "gmm":
        # indicator columns make full covariances near-singular: regularise them
        return GaussianMixture(
            k, covariance_type="full", reg_covar=1e-3, max_iter=200, random_state=seed
        )
    return KMeans(k, n_init=1 if n > FULL_BATCH_MAX else 4, random_state=seed)


def choose_k(
    x: np.ndarray, *, method: str, criterion: str, k_min: int, k_max: int, seed: int,
    resamples: int = 3,
) -> Choice:  # fmt: skip
    """The best k in ``k_min..k_max`` for ``x`` (a sample) by ``criterion``."""
    from sklearn.metrics import adjusted_rand_score, silhouette_score

    rng = np.random.default_rng(seed)
    k_max = min(k_max, max(k_min, len(x) - 1))
    found: list[Candidate] = []
    for k in range(k_min, k_max + 1):
        if criterion == "stability":
            labels = []
            for _ in range(resamples):
                idx = rng.choice(len(x), size=max(k * 10, len(x) // 2), replace=False)
                m = make_model(method, k, seed, len(idx))
                m.fit(x[idx])  # type: ignore[attr-defined]
                labels.append(m.predict(x))  # type: ignore[attr-defined]
            pairs = [
                adjusted_rand_score(labels[i], labels[j])
                for i in range(len(labels))
                for j in range(i + 1, len(labels))
            ]
            value = float(np.mean(pairs))
        else:
            m = make_model(method, k, seed, len(x))
            m.fit(x)  # type: ignore[attr-defined]
            if criterion == "bic":
                value = float(m.bic(x))  # type: ignore[attr-defined]
            else:
                pred = m.predict(x)  # type: ignore[attr-defined]
                if len(set(pred.tolist())) < 2:
                    value = -1.0
                else:
                    size = min(len(x), SILHOUETTE_SAMPLE)
                    value = float(silhouette_score(x, pred, sample_size=size, random_state=seed))
        found.append(Candidate(k, value))
    pick = (min if criterion == "bic" else max)(found, key=lambda c: c.value)
    return Choice(pick.k, criterion, found)
