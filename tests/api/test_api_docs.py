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


def test_the_docs_page_loads_nothing_from_elsewhere(served: Served) -> None:
    import re

    c = served.client()
    page = c.get("/docs")
    assert page.status_code == 200
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    sources += re.findall(r"url: '([^']+)'", page.text)
    assert sources
    assert not [s for s in sources if "://" in s or s.startswith("//")]
    for s in sources:
        if s.endswith((".js", ".css")):
            assert c.get(s).status_code == 200, s
