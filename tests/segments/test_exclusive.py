"""Mutually exclusive assignment by priority, and the ``families:`` settings as a whole."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any, get_args, get_origin

import ibis
import pyarrow as pa
import pytest
import yaml
from pydantic import BaseModel

from segmint.engine import Engine, spark_sql
from segmint.exceptions import ConfigError
from segmint.segments._exclusive import assign_exclusive
from segmint.segments._families_config import ExclusiveGroup, FamiliesConfig


def _members(engine: Engine, segments: dict[str, list[str]]) -> dict[str, ibis.Table]:
    for name, ids in segments.items():
        engine.write(f"seg_{name}", pa.table({"customer_id": pa.array(ids, pa.string())}))
    return {name: engine.table(f"seg_{name}") for name in segments}


def python_exclusive(segments: dict[str, list[str]], priority: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name in priority:
        for cid in segments[name]:
            out.setdefault(cid, name)
    return out


def _assigned(expr: ibis.Table) -> dict[str, str]:
    df = expr.to_pandas()
    assert df["customer_id"].is_unique
    return dict(zip(df["customer_id"], df["segment"], strict=True))


SEGMENTS = {
    "vip": ["a", "b"],
    "churn_risk": ["b", "c", "c", "d"],  # a repeated id counts once
    "newsletter": ["a", "d", "e"],
    "empty": [],
}


def test_first_segment_by_priority_wins(engine: Engine) -> None:
    members = _members(engine, SEGMENTS)
    got = _assigned(assign_exclusive(members, ["vip", "churn_risk", "newsletter", "empty"]))
    assert got == {"a": "vip", "b": "vip", "c": "churn_risk", "d": "churn_risk", "e": "newsletter"}


def test_another_priority_gives_another_split(engine: Engine) -> None:
    members = _members(engine, SEGMENTS)
    got = _assigned(assign_exclusive(members, ["empty", "newsletter", "churn_risk", "vip"]))
    assert got == {
        "a": "newsletter",
        "d": "newsletter",
        "e": "newsletter",
        "b": "churn_risk",
        "c": "churn_risk",
    }


def test_random_overlapping_segments_match_python(engine: Engine) -> None:
    rng = random.Random(7)
    people = [f"p{i:03d}" for i in range(300)]
    segments = {f"s{k}": rng.sample(people, rng.randint(0, 120)) for k in range(6)}
    members = _members(engine, segments)
    for _ in range(3):
        priority = rng.sample(list(segments), len(segments))
        got = _assigned(assign_exclusive(members, priority))
        assert got == python_exclusive(segments, priority)


def test_member_tables_may_carry_other_columns() -> None:
    vip = ibis.memtable({"customer_id": ["a"], "score": [0.9]})
    rest = ibis.memtable({"customer_id": ["a", "b"], "since": ["2024-01-01", "2023-01-01"]})
    got = _assigned(assign_exclusive({"vip": vip, "rest": rest}, ["vip", "rest"]))
    assert got == {"a": "vip", "b": "rest"}


def test_bad_priority_lists_are_refused_with_the_reason() -> None:
    t = ibis.memtable({"customer_id": ["a"]})
    with pytest.raises(ConfigError, match="at least one segment"):
        assign_exclusive({"vip": t}, [])
    with pytest.raises(ConfigError, match="more than once: vip"):
        assign_exclusive({"vip": t}, ["vip", "vip"])
    with pytest.raises(ConfigError, match=r"priority\[1\]: no member table for segment 'vipp'"):
        assign_exclusive({"vip": t, "rest": t}, ["rest", "vipp"])
    with pytest.raises(ConfigError, match="did you mean 'vip'"):
        assign_exclusive({"vip": t, "rest": t}, ["rest", "vipp"])
    with pytest.raises(ConfigError, match="'rest' have members but no place"):
        assign_exclusive({"vip": t, "rest": t}, ["vip"])
    no_id = ibis.memtable({"person": ["a"]})
    with pytest.raises(ConfigError, match="members of segment 'x' needs column"):
        assign_exclusive({"x": no_id}, ["x"])


def test_exclusive_assignment_compiles_for_spark() -> None:
    tables = {n: ibis.table({"customer_id": "string"}, name=n) for n in ("a", "b", "c")}
    sql = spark_sql(assign_exclusive(tables, ["c", "a", "b"]))
    assert sql.count("UNION ALL") == 2
    assert "MIN(" in sql


# -- settings --------------------------------------------------------------------------------


def _fields_without_description(schema: dict[str, Any]) -> list[str]:
    missing = []
    for model_name, model in schema.get("$defs", {}).items():
        for field, spec in model.get("properties", {}).items():
            if not spec.get("description"):
                missing.append(f"{model_name}.{field}")
    for field, spec in schema.get("properties", {}).items():
        if not spec.get("description"):
            missing.append(f"FamiliesConfig.{field}")
    return missing


def test_every_setting_has_a_description() -> None:
    assert _fields_without_description(FamiliesConfig.model_json_schema()) == []


def test_families_settings_round_trip_through_yaml() -> None:
    text = """
rfm: {bins: 5}
lifecycle: {new_days: 60, active_days: 120, lapsed_days: 400, loyal_orders: 4}
value_tiers:
  column: clv
  n: 5
  tiers: [{name: a, share: 0.7}, {name: b}]
exclusive:
  - {name: campaign, priority: [vip, churn_risk, newsletter]}
"""
    config = FamiliesConfig.model_validate(yaml.safe_load(text))
    dumped = yaml.safe_dump(config.model_dump(mode="json", exclude_unset=True))
    assert FamiliesConfig.model_validate(yaml.safe_load(dumped)) == config
    assert config.exclusive[0].priority == ["vip", "churn_risk", "newsletter"]
    assert config.lifecycle.lapsed_days == 400
    assert config.value_tiers.tiers[-1].name == "b"


def test_settings_refuse_unknown_keys_and_repeats() -> None:
    with pytest.raises(ValueError, match="Extra inputs are not permitted"):
        FamiliesConfig.model_validate({"rfm": {"bnis": 5}})
    with pytest.raises(ValueError, match="more than once: vip"):
        ExclusiveGroup(name="g", priority=["vip", "vip"])
    with pytest.raises(ValueError, match="group names must be unique"):
        FamiliesConfig(
            exclusive=[
                ExclusiveGroup(name="g", priority=["a"]),
                ExclusiveGroup(name="g", priority=["b"]),
            ]
        )


def _leaf_keys(model: type[BaseModel], prefix: str = "") -> list[str]:
    keys = []
    for name, field in model.model_fields.items():
        sub = field.annotation
        inner = get_args(sub)[0] if get_origin(sub) is list else sub
        if isinstance(inner, type) and issubclass(inner, BaseModel) and get_origin(sub) is not list:
            keys += _leaf_keys(inner, f"{prefix}{name}.")
        elif isinstance(inner, type) and issubclass(inner, BaseModel) and prefix == "":
            keys += _leaf_keys(inner, f"{name}[].")
        else:
            keys.append(f"{prefix}{name}")
    return keys


def test_every_setting_is_in_the_docs() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "families.md").read_text("utf-8")
    keys = _leaf_keys(FamiliesConfig)
    assert "lifecycle.loyal_orders" in keys
    assert "exclusive[].priority" in keys
    for key in keys:
        assert f"| `{key}` |" in doc, key
