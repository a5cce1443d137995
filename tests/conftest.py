"""Shared fixtures: small projects in temporary folders."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from segmint import service
from segmint.project import Project


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Project]:
    """A fresh project with a DuckDB file store."""
    p = service.init_project(tmp_path / "proj")
    try:
        yield p
    finally:
        p.close()


def write_bytes(path: Path, text: str, encoding: str) -> Path:
    path.write_bytes(text.encode(encoding))
    return path
