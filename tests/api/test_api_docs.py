"""docs/api.md may not drift from the app: every operation of the API is documented."""

from __future__ import annotations

from pathlib import Path

from .conftest import Served

DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"


def test_every_operation_is_in_docs_api_md(served: Served) -> None:
    text = DOC.read_text(encoding="utf-8")
    spec = served.client().get("/openapi.json").json()
    missing = [
        f"{method.upper()} {path}"
        for path, item in spec["paths"].items()
        for method in item
        if f"`{method.upper()} {path.removeprefix('/api/v1')}" not in text
    ]
    assert not missing
