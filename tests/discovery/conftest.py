"""Fixtures of the discovery tests (the planted shop is in discovery_shop.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from discovery_shop import Shop, open_shop


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shop]:
    s = open_shop(tmp_path_factory.mktemp("shop") / "shop", 150, seed=11)
    try:
        yield s
    finally:
        s.project.close()
