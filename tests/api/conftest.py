"""A small served demo project, built once per test process, and clients for each role."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from segmint import service, serving
from segmint.api import create_app
from segmint.api._auth import ROLES, AuthStore

PASSWORD = "correct horse battery"


@dataclass
class Served:
    """A served project: its folder, a token per role, and users per role."""

    root: Path
    tokens: dict[str, str]

    def client(self, role: str | None = None) -> TestClient:
        """An in-process client of a new app, with ``role``'s token (None: no token)."""
        app = create_app(self.root)
        app.state.ctx.store.check_every = 0.0  # see a new replica at once
        c = TestClient(app)
        if role is not None:
            c.headers["Authorization"] = f"Bearer {self.tokens[role]}"
        return c


def _serve(root: Path) -> dict[str, str]:
    with service.open_project(root) as project:
        serving.ensure_replica(project)
    auth = AuthStore(root)
    tokens = {role: auth.create_token(f"t-{role}", role) for role in ROLES}
    for role in ROLES:
        auth.add_user(f"u-{role}", role, PASSWORD)
    return tokens


@pytest.fixture(scope="session")
def served_folder(tmp_path_factory: pytest.TempPathFactory) -> Served:
    """A 3,000-customer demo, served (replica published, tokens and users made)."""
    root = tmp_path_factory.mktemp("api_demo") / "demo"
    service.build_demo(root, customers=3000, seed=1)
    return Served(root, _serve(root))


@pytest.fixture
def served(served_folder: Served) -> Served:
    """The shared served demo (read-only tests)."""
    return served_folder


@pytest.fixture
def served_copy(served_folder: Served, tmp_path: Path) -> Served:
    """A private copy of the served demo (tests that change it)."""
    root = tmp_path / "demo"
    shutil.copytree(served_folder.root, root)
    return Served(root, dict(served_folder.tokens))
