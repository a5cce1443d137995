"""Activation: segments to the systems that act on them, with consent enforced.

Destinations (files, CRM import files, ad audiences, webhook, PostgreSQL) are plugins
behind one interface (:class:`Destination`); every export goes through one path
(:func:`export_segment`) that filters for consent and suppression, computes deltas and
writes the audit log.  :func:`forget` erases a person everywhere.  See docs/activation.md.

Names are imported on first use: ``segmint.config`` reads the settings models from here,
and the export path needs the rest of segmint.
"""

from __future__ import annotations

import importlib
from typing import Any

from segmint.activation._config import ConsentConfig, DestinationConfig, SuppressionList

_LAZY = {
    "ExportReport": "_audit",
    "export_log": "_audit",
    "Delivery": "_destination",
    "DeliveryError": "_destination",
    "Destination": "_destination",
    "ExportBatch": "_destination",
    "register_destination": "_destination",
    "ErasureReport": "_erasure",
    "forget": "_erasure",
    "export_segment": "_export",
    "sync_configured": "_export",
}

__all__ = ["ConsentConfig", "DestinationConfig", "SuppressionList", *sorted(_LAZY)]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f"segmint.activation.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'segmint.activation' has no attribute {name!r}")
