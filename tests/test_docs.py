"""The docs may not drift from the code: every field and CLI command is documented."""

from __future__ import annotations

import re
from pathlib import Path

from segmint.cli import app
from segmint.datamodel import BOOKKEEPING_COLUMNS, ENTITIES

DOCS = Path(__file__).resolve().parents[1] / "docs"
README = Path(__file__).resolve().parents[1] / "README.md"


def render_entities() -> str:
    """The field tables of docs/datamodel.md, generated from segmint.datamodel."""
    parts = []
    for e in ENTITIES.values():
        parts.append(f"### `{e.name}`\n\n{e.description}\n")
        key = ", ".join(e.key) + (" (per source)" if e.per_source else "")
        if e.key_from_content:
            key += "; without that column, a hash of the row's mapped values"
        parts.append(f"Key: {key}.\n")
        parts.append("| field | type | required | check | allowed values / default | description |")
        parts.append("|---|---|---|---|---|---|")
        for f in e.fields:
            allowed = ", ".join(f.allowed) if f.allowed else ""
            if f.default is not None:
                allowed = (allowed + "; " if allowed else "") + f"default {f.default}"
            parts.append(
                f"| `{f.name}` | {f.type} | {'yes' if f.required else ''} | {f.check or ''} "
                f"| {allowed} | {f.description} |"
            )
        parts.append("")
    return "\n".join(parts).strip() + "\n"


def _section(text: str, name: str) -> str:
    m = re.search(rf"<!-- {name}:start -->\n(.*?)<!-- {name}:end -->", text, re.S)
    assert m, f"markers for {name} missing"
    return m.group(1)


def test_datamodel_doc_matches_code() -> None:
    doc = (DOCS / "datamodel.md").read_text(encoding="utf-8")
    assert _section(doc, "entities") == render_entities()
    for col in BOOKKEEPING_COLUMNS:
        assert f"`{col}`" in doc


def test_every_cli_command_is_in_the_readme() -> None:
    readme = README.read_text(encoding="utf-8")
    names = [c.name or (c.callback.__name__ if c.callback else "") for c in app.registered_commands]
    assert names
    for name in names:
        assert f"segmint {name}" in readme, name
