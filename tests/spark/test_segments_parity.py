"""The rule language on Spark: every compile case of tests/segments/test_compile.py gives
the same members on Spark local as the independent pandas computation (and so as DuckDB)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from segmint.engine import Engine


def _module(relative: str, name: str) -> ModuleType:
    path = Path(__file__).resolve().parents[1] / relative
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # its dataclasses look themselves up there
    spec.loader.exec_module(module)
    return module


@pytest.mark.spark
def test_every_rule_case_has_the_same_members_on_spark(spark: Engine) -> None:
    cases = _module("segments/test_compile.py", "segment_compile_cases")
    for name, table in cases.ARROW.items():
        spark.write(name, table)
    wrong = {
        name: (sorted(got), sorted(case.expected()))
        for name, case in cases.CASES.items()
        if (got := cases.evaluate(case.rule, spark)) != case.expected()
    }
    assert not wrong, wrong
    assert len(cases.CASES) > 80  # the whole language, not a sample


@pytest.mark.spark
def test_the_customer_base_is_identical_on_spark(spark: Engine) -> None:
    from segmint.engine import connect
    from segmint.traits import customer_base, parse_traits_config

    tb = _module("traits/test_traits_base.py", "trait_base_cases")
    duck = connect("duckdb:///:memory:")
    frames = tb._frames()
    for engine in (duck, spark):
        tb._write(engine, frames)
    config = parse_traits_config(tb.DECLARED)
    expected = {
        r["customer_id"]: r for r in customer_base(duck, config, tb.AS_OF).to_pyarrow().to_pylist()
    }
    got = {
        r["customer_id"]: r for r in customer_base(spark, config, tb.AS_OF).to_pyarrow().to_pylist()
    }
    assert set(got) == set(expected)
    wrong = [
        (person, key, value, got[person].get(key))
        for person, row in expected.items()
        for key, value in row.items()
        if not tb._same(got[person].get(key), value)
    ]
    assert not wrong, wrong[:10]
    assert len(next(iter(expected.values()))) > 60  # every trait, not a sample
