"""docs/traits.md may not drift from the code: the catalogue and the config keys are generated."""

from __future__ import annotations

import re
from pathlib import Path
from typing import get_args

from pydantic import BaseModel

from segmint.traits._catalogue import BUILTIN_TRAITS
from segmint.traits._config import Aggregate, FilterOp, TraitDef, TraitFilter, TraitsConfig

DOC = Path(__file__).resolve().parents[2] / "docs" / "traits.md"
EMPTY = {"0": "0", "false": "false", "null": "null"}


def render_builtin_traits() -> str:
    """The built-in trait table of docs/traits.md, generated from BUILTIN_TRAITS."""
    lines = [
        "| trait | type | from | meaning | without data |",
        "|---|---|---|---|---|",
    ]
    for t in BUILTIN_TRAITS:
        lines.append(f"| `{t.name}` | {t.type} | {t.source} | {t.description} | {EMPTY[t.empty]} |")
    return "\n".join(lines) + "\n"


def render_keys() -> str:
    """The config key tables of docs/traits.md, generated from the pydantic models."""
    parts = []
    models: list[tuple[str, type[BaseModel]]] = [
        ("traits", TraitsConfig),
        ("traits[i] (a declared trait)", TraitDef),
        ("traits[i].where[j]", TraitFilter),
    ]
    for title, model in models:
        parts.append(f"`{title}`\n\n| key | description |\n|---|---|")
        for name, field in model.model_fields.items():
            parts.append(f"| `{field.alias or name}` | {field.description} |")
        parts.append("")
    return "\n".join(parts)


def _section(text: str, name: str) -> str:
    m = re.search(rf"<!-- {name}:start -->\n(.*?)<!-- {name}:end -->", text, re.S)
    assert m, f"markers for {name} missing"
    return m.group(1)


def test_builtin_catalogue_matches_the_doc() -> None:
    doc = DOC.read_text(encoding="utf-8")
    assert _section(doc, "builtin-traits") == render_builtin_traits()


def test_config_keys_match_the_doc() -> None:
    doc = DOC.read_text(encoding="utf-8")
    assert _section(doc, "trait-keys") == render_keys()


def test_every_aggregate_and_op_is_documented() -> None:
    doc = DOC.read_text(encoding="utf-8")
    for name in (*get_args(Aggregate), *get_args(FilterOp)):
        assert f"`{name}`" in doc, name
