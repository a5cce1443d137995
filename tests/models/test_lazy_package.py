"""``segmint.models`` imports its modules on first use: a run without models stays light."""

from __future__ import annotations

import subprocess
import sys

import pytest

import segmint.models as models


def test_every_exported_name_resolves_to_its_module() -> None:
    for name in models.__all__:
        value = getattr(models, name)
        assert value.__name__ == name, name
        assert value.__module__.startswith("segmint.models._"), name
    assert set(models.__all__) <= set(dir(models))
    with pytest.raises(AttributeError, match="no attribute 'fit_everything'"):
        models.fit_everything  # noqa: B018


def test_evaluating_segments_does_not_import_scikit_learn_or_scipy() -> None:
    code = (
        "import sys, segmint.segments._evaluate, segmint.cli\n"
        "heavy = sorted(m for m in ('sklearn', 'scipy') if m in sys.modules)\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == ""


def test_the_names_for_type_checkers_are_the_lazy_names() -> None:
    """The ``TYPE_CHECKING`` imports (what mypy and editors see) name exactly the
    exported names, each from the module ``__getattr__`` imports it from."""
    import ast
    from pathlib import Path

    tree = ast.parse(Path(models.__file__).read_text(encoding="utf-8"))
    guarded = next(
        node for node in tree.body
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING"
    )  # fmt: skip
    seen = {
        alias.name: node.module
        for node in guarded.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }
    assert seen == models._EXPORTS
