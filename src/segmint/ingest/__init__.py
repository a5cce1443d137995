"""Ingest: files and database tables into the customer-centric store, validated.

Readers, detection of encodings and formats, column mapping, validation, quarantine and the
atomic load live in private modules behind this one.
"""

from __future__ import annotations

from segmint.ingest._load import LoadReport, load_source
from segmint.ingest._readers import RawSource, open_source

__all__ = ["LoadReport", "RawSource", "load_source", "open_source"]
