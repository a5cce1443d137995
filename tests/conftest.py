"""Shared fixtures: small projects in temporary folders."""

from __future__ import annotations

import os

# `make test` runs two test processes on a two-core machine: scikit-learn's OpenMP loops
# (gradient boosting, k-means) with a thread per core in each process spin-wait on each
# other, and one run's fits then took 30 minutes instead of seconds. One OpenMP thread per
# test process; set before scikit-learn loads its OpenMP library.
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ.setdefault("OMP_NUM_THREADS", "1")

from collections.abc import Iterator
from pathlib import Path

import pytest

from segmint import service
from segmint.engine import Engine, connect
from segmint.project import Project


@pytest.fixture
def engine() -> Iterator[Engine]:
    """An empty in-memory DuckDB engine."""
    eng = connect("duckdb:///:memory:")
    try:
        yield eng
    finally:
        eng.close()


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


@pytest.fixture(scope="session")
def b2b_demo_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small B2B demo project (1,500 companies, seed 2), built once per test process."""
    root = tmp_path_factory.mktemp("b2b_demo") / "demo"
    service.build_demo(root, customers=1500, seed=2, b2b=True)
    return root


@pytest.fixture
def b2b_demo(b2b_demo_folder: Path, tmp_path: Path) -> Iterator[Project]:
    """A private copy of the small B2B demo project, open (tests may change it)."""
    import shutil

    root = tmp_path / "b2b"
    shutil.copytree(b2b_demo_folder, root)
    p = service.open_project(root)
    try:
        yield p
    finally:
        p.close()
