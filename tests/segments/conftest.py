"""Fixtures shared by the segment tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from segmint.engine import Engine, connect


@pytest.fixture
def engine() -> Iterator[Engine]:
    """An empty in-memory DuckDB engine."""
    eng = connect("duckdb:///:memory:")
    try:
        yield eng
    finally:
        eng.close()
