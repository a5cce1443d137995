"""Segment discovery: the groups the data finds, not the ones rules describe.

Behavioural clusters on a run's traits (k-means or Gaussian mixture, k chosen by a stated
criterion, labels kept stable across runs, readable names), needs-based macro segments
from survey answers (latent class analysis, projected onto every customer), and
lookalikes (prospects ranked by similarity to a seed segment).  See docs/discovery.md.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from segmint.discovery._config import ClusterSettings, DiscoveryConfig, MacroSettings

if TYPE_CHECKING:
    from segmint.discovery._clusters import ClusterCard, Clustering, fit_clusters
    from segmint.discovery._features import FeatureTransform
    from segmint.discovery._labels import stable_labels
    from segmint.discovery._lookalike import Lookalikes, lookalikes
    from segmint.discovery._macro import MacroCard, MacroSegments, fit_macro
    from segmint.discovery._run import CLUSTER_TRAITS, MACRO_TRAITS, discovery_traits

#: public name -> private module; imported on first use, so that reading the settings
#: (segmint.config) does not import scikit-learn
_LAZY = {
    "ClusterCard": "_clusters",
    "Clustering": "_clusters",
    "fit_clusters": "_clusters",
    "FeatureTransform": "_features",
    "stable_labels": "_labels",
    "Lookalikes": "_lookalike",
    "lookalikes": "_lookalike",
    "MacroCard": "_macro",
    "MacroSegments": "_macro",
    "fit_macro": "_macro",
    "CLUSTER_TRAITS": "_run",
    "MACRO_TRAITS": "_run",
    "discovery_traits": "_run",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(f"segmint.discovery.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'segmint.discovery' has no attribute {name!r}")


__all__ = [
    "CLUSTER_TRAITS",
    "MACRO_TRAITS",
    "ClusterCard",
    "ClusterSettings",
    "Clustering",
    "DiscoveryConfig",
    "FeatureTransform",
    "Lookalikes",
    "MacroCard",
    "MacroSegments",
    "MacroSettings",
    "discovery_traits",
    "fit_clusters",
    "fit_macro",
    "lookalikes",
    "stable_labels",
]
