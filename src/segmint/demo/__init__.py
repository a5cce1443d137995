"""Synthetic Nordic customer data with planted truth, and messy exports of it.

``generate`` draws every table of the data model for a retailer (or, with ``b2b``, a
wholesaler) from known parameters; ``write_exports`` writes the tables the way Nordic
systems export them, with a few deliberately broken rows.
"""

from __future__ import annotations

from segmint.demo._exports import ExportFile, write_exports
from segmint.demo._generator import DemoData, generate, load_identity_truth, load_truth

__all__ = [
    "DemoData",
    "ExportFile",
    "generate",
    "load_identity_truth",
    "load_truth",
    "write_exports",
]
