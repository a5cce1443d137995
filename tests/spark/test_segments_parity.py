"""The rule language on Spark: every compile case of tests/segments/test_compile.py gives
the same members on Spark local as the independent pandas computation (and so as DuckDB)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from segmint.engine import Engine


def _compile_cases() -> ModuleType:
    path = Path(__file__).resolve().parents[1] / "segments" / "test_compile.py"
    spec = importlib.util.spec_from_file_location("segment_compile_cases", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.spark
def test_every_rule_case_has_the_same_members_on_spark(spark: Engine) -> None:
    cases = _compile_cases()
    for name, table in cases.ARROW.items():
        spark.write(name, table)
    wrong = {
        name: (sorted(got), sorted(case.expected()))
        for name, case in cases.CASES.items()
        if (got := cases.evaluate(case.rule, spark)) != case.expected()
    }
    assert not wrong, wrong
    assert len(cases.CASES) > 80  # the whole language, not a sample
