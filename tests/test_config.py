"""segmint.yaml round-trips, validates with named keys, and has a JSON Schema."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

from segmint.config import (
    ExternalTableConfig,
    ProjectConfig,
    ReadOptions,
    SourceConfig,
    json_schema,
    load_config,
    save_config,
)
from segmint.exceptions import ConfigError, ProjectExistsError, ProjectNotFoundError
from segmint.project import Project


def _config() -> ProjectConfig:
    cfg = ProjectConfig(name="Butik A/S", currency="DKK")
    cfg.upsert_source(
        SourceConfig(
            name="kunder",
            table="customers",
            path="exports/kunder.csv",
            mapping={"Kundenummer": "customer_id", "Fødselsdato": "birth_date"},
            options=ReadOptions(encoding="cp1252", delimiter=";", decimal=","),
        )
    )
    cfg.external["market_households"] = ExternalTableConfig(key=["region", "age_band"])
    cfg.identity.max_records_per_value = 5
    return cfg


def test_round_trip(tmp_path: Path) -> None:
    cfg = _config()
    path = tmp_path / "segmint.yaml"
    save_config(cfg, path)
    assert load_config(path) == cfg
    text = path.read_text(encoding="utf-8")
    assert "Fødselsdato" in text  # unicode kept readable
    assert "engine" not in text  # defaults are not written


def test_upsert_source_replaces_by_name() -> None:
    cfg = _config()
    cfg.upsert_source(SourceConfig(name="kunder", table="customers", path="new.csv"))
    assert [s.path for s in cfg.sources] == ["new.csv"]


def test_schema_validates_the_saved_file(tmp_path: Path) -> None:
    path = tmp_path / "segmint.yaml"
    save_config(_config(), path)
    jsonschema.validate(yaml.safe_load(path.read_text()), json_schema())
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"sources": [{"name": "x"}]}, json_schema())


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("identity:\n  max_records_per_value: 1\n", "identity.max_records_per_value"),
        ("sourcez: []\n", "unknown key 'sourcez' at the top level; did you mean 'sources'?"),
        ("identity:\n  keys: [email, shoe_size]\n", "at identity.keys[1]"),
        (
            "segments:\n- name: a\n  rule: {field: country, op: '==', value: DK}\n",
            "unknown op '==' at segments[0].rule.op; did you mean '='?",
        ),
        ("- a\n- b\n", "expected a mapping"),
        ("name: [unclosed\n", "not valid YAML"),
    ],
)
def test_invalid_config_names_the_key(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "segmint.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_config(path)


def test_project_create_open(tmp_path: Path) -> None:
    p = Project.create(tmp_path / "p", name="test")
    p.close()
    assert (tmp_path / "p" / "segmint.yaml").exists()
    schema = json.loads((tmp_path / "p" / "segmint.schema.json").read_text())
    assert schema["title"] == "segmint project (segmint.yaml)"
    with pytest.raises(ProjectExistsError):
        Project.create(tmp_path / "p")
    with pytest.raises(ProjectNotFoundError, match="segmint init"):
        Project.open(tmp_path / "nothing")
    with Project.open(tmp_path / "p") as q:
        assert q.config.name == "test"
        assert q.engine.name == "duckdb"
    assert (tmp_path / "p" / "store.duckdb").exists()
