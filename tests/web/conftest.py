"""A small demo project with three runs and a token per role, shared by the web UI tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from segmint import service
from segmint.project import Project

ROLES = ("viewer", "analyst", "admin")
#: the runs after the demo's own (as of 2026-10-01): sizes over runs have three points
LATER_RUNS = ("2026-10-08", "2026-10-15")


@pytest.fixture(scope="session")
def web_demo_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """3,000 demo customers, runs as of 2026-10-01, -08 and -15 (the project's as-of date
    is moved to the last, so previews and the next run count at the same date)."""
    root = tmp_path_factory.mktemp("web") / "demo"
    service.build_demo(root, customers=3000, seed=11)
    p = Project.open(root)
    try:
        for as_of in LATER_RUNS:
            service.run(p, as_of=as_of)
        p.config.runs.as_of = LATER_RUNS[-1]
        p.save()
        _publish(p)
    finally:
        p.close()
    return root


def _publish(p: Project) -> None:
    """A serving replica of the store (runs publish one; this makes sure of the last)."""
    from segmint.serving import publish

    publish(p)


@pytest.fixture(scope="session")
def web_tokens(web_demo_root: Path) -> dict[str, str]:
    from segmint.api._auth import AuthStore

    store = AuthStore(web_demo_root)
    return {role: store.create_token(f"web-{role}", role) for role in ROLES}


@pytest.fixture
def web_demo_copy(web_demo_root: Path, web_tokens: dict[str, str], tmp_path: Path) -> Path:
    """A private copy (tests that save segments or run change it), tokens included."""
    root = tmp_path / "demo"
    shutil.copytree(web_demo_root, root)
    return root
