"""``traits:`` in segmint.yaml: parsing, round trips, windows and errors that name the path."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
import yaml

from segmint.exceptions import ConfigError
from segmint.traits._catalogue import attribute_names, builtin_trait_names, trait_catalog
from segmint.traits._config import (
    DEFAULT_WINDOWS,
    TraitDef,
    TraitFilter,
    TraitsConfig,
    Window,
    parse_duration,
    parse_traits_config,
)

EXAMPLE = """
traits:
  - name: kitchen_spend_90d
    description: Spend on kitchenware in the last 90 days
    from: transactions
    aggregate: sum
    of: amount
    where: [{field: category, op: "=", value: Køkken}]
    within: 90d
  - name: opens_last_quarter
    from: events
    aggregate: count
    where: [{field: event_type, value: email_open}]
    between: [90d, 30d]
  - name: spring_2024_orders
    from: transactions
    aggregate: count_distinct
    of: order_id
    since: 2024-03-01
    until: 2024-06-01
"""


def test_the_documented_example_parses_and_round_trips() -> None:
    data = yaml.safe_load(EXAMPLE)["traits"]
    config = parse_traits_config(data)

    kitchen = config.declared[0]
    assert (kitchen.source, kitchen.aggregate, kitchen.of, kitchen.within) == (
        "transactions", "sum", "amount", "90d"
    )  # fmt: skip
    assert kitchen.where == [TraitFilter(field="category", op="=", value="Køkken")]
    assert config.declared[1].between == ("90d", "30d")
    assert config.declared[2].since == date(2024, 3, 1)
    assert config.windows == list(DEFAULT_WINDOWS)

    dumped = config.model_dump(mode="json", exclude_defaults=True)
    assert dumped["declared"][0]["from"] == "transactions"  # the YAML key, not the attribute
    text = yaml.safe_dump(dumped, allow_unicode=True, sort_keys=False)
    assert parse_traits_config(yaml.safe_load(text)) == config
    assert list(dumped["declared"][0])[:2] == ["name", "description"]  # readable order


def test_mapping_form_takes_builtin_windows() -> None:
    config = parse_traits_config({"windows": ["7d", "4w"], "declared": []})

    assert config.windows == ["7d", "4w"]
    assert "orders_4w" in builtin_trait_names(config.windows)
    assert parse_traits_config(None) == TraitsConfig()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([{"name": "x", "from": "transactions", "aggregate": "sum"}],
         r"^traits\[0\]\.of: aggregate 'sum' needs 'of'"),
        ([{"name": "x", "from": "events", "aggregate": "count", "of": "event_type"}],
         r"^traits\[0\]\.of: count counts rows and takes no 'of'"),
        ([{"name": "frequency", "from": "transactions", "aggregate": "count"}],
         r"^traits\[0\]\.name: 'frequency' is a built-in trait"),
        ([{"name": "ok", "from": "events", "aggregate": "count"},
          {"name": "orders_30d", "from": "transactions", "aggregate": "count"}],
         r"^traits\[1\]\.name: 'orders_30d' is a built-in trait"),
        ([{"name": "city", "from": "events", "aggregate": "count"}],
         r"^traits\[0\]\.name: 'city' is a customer attribute"),
        ([{"name": "a", "from": "events", "aggregate": "count"},
          {"name": "a", "from": "events", "aggregate": "count"}],
         r"^traits\[1\]\.name: trait 'a' is declared twice \(also traits\[0\]\)"),
        ([{"name": "Kitchen Spend", "from": "events", "aggregate": "count"}],
         r"^traits\[0\]\.name: 'Kitchen Spend' is not a valid trait name"),
        ([{"name": "a", "from": "orders", "aggregate": "count"}],
         r"^traits\[0\]\.from: Input should be 'transactions'"),
        ([{"name": "a", "from": "events", "aggregate": "median", "of": "x"}],
         r"^traits\[0\]\.aggregate: Input should be 'count'"),
        ([{"name": "a", "from": "events", "aggregate": "count", "within": "3 months"}],
         r"^traits\[0\]\.within: malformed duration '3 months'"),
        ([{"name": "a", "from": "events", "aggregate": "count", "within": "0d"}],
         r"^traits\[0\]\.within: an empty window '0d'"),
        ([{"name": "a", "from": "events", "aggregate": "count", "between": ["30d", "90d"]}],
         r"^traits\[0\]\.between: .* must be \[older, newer\] .* e\.g\. \[90d, 30d\]"),
        ([{"name": "a", "from": "events", "aggregate": "count", "between": ["4w", "28d"]}],
         r"^traits\[0\]\.between: .* is an empty window"),
        ([{"name": "a", "from": "events", "aggregate": "count", "within": "30d",
           "since": "2024-01-01"}],
         r"^traits\[0\]: use one window kind, not within and since/until"),
        ([{"name": "a", "from": "events", "aggregate": "count", "since": "2024-01-01",
           "until": "2023-01-01"}],
         r"^traits\[0\]: since 2024-01-01 must be before until 2023-01-01"),
        ([{"name": "a", "from": "events", "aggregate": "count",
           "where": [{"field": "x", "op": "in", "value": "a"}]}],
         r"^traits\[0\]\.where\[0\]: op 'in' needs a non-empty list"),
        ([{"name": "a", "from": "events", "aggregate": "count",
           "where": [{"field": "x", "op": "is_null", "value": 1}]}],
         r"^traits\[0\]\.where\[0\]: op 'is_null' takes no value"),
        ([{"name": "a", "from": "events", "aggregate": "count",
           "where": [{"field": "x", "op": "=="}]}],
         r"^traits\[0\]\.where\[0\]\.op: Input should be '='"),
        ([{"name": "a", "from": "events", "aggregate": "count", "where": [{"field": "x"}]}],
         r"^traits\[0\]\.where\[0\]: op '=' needs a value"),
        ([{"name": "a", "from": "events", "aggregate": "count",
           "where": [{"field": "x", "op": "in", "value": ["ok", "a\x00b"]}]}],
         r"^traits\[0\]\.where\[0\]: value contains a NUL character"),
        ([{"name": "a", "from": "events", "aggregate": "count",
           "where": [{"field": "x", "value": "\ud800"}]}],
         r"^traits\[0\]\.where\[0\]: value '\\ud800' is not valid Unicode text"),
        ([{"name": "a", "from": "events", "aggregate": "share"}],
         r"^traits\[0\]: aggregate 'share' needs 'where'"),
        ([{"name": "a", "from": "events", "aggregate": "count", "whin": "30d"}],
         r"^traits\[0\]\.whin: Extra inputs are not permitted"),
        ({"windows": ["30d", "1 year"]}, r"^traits\.windows: malformed duration '1 year'"),
        ({"windows": ["30d", "30d"]}, r"^traits\.windows: windows .* repeat a window"),
    ],
)  # fmt: skip
def test_errors_name_the_path(data: Any, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_traits_config(data)


def test_error_path_follows_the_config_key() -> None:
    with pytest.raises(ConfigError, match=r"^project\.traits\[0\]\.of"):
        parse_traits_config([{"name": "x", "from": "events", "aggregate": "avg"}], "project.traits")


def test_durations_and_window_bounds() -> None:
    as_of = datetime(2026, 3, 1, 12)
    assert parse_duration("90d") == timedelta(days=90)
    assert parse_duration("12w") == timedelta(days=84)
    with pytest.raises(ValueError, match="malformed duration '90'"):
        parse_duration("90")

    assert Window(within="30d").bounds(as_of) == (as_of - timedelta(days=30), as_of)
    assert Window(between=("90d", "30d")).bounds(as_of) == (
        as_of - timedelta(days=90), as_of - timedelta(days=30)
    )  # fmt: skip
    assert Window(since=date(2024, 1, 1)).bounds(as_of) == (datetime(2024, 1, 1), as_of)
    assert Window(until=date(2030, 1, 1)).bounds(as_of) == (None, as_of)  # never past as_of
    assert Window(until=date(2025, 1, 1)).bounds(None) == (None, datetime(2025, 1, 1))
    assert Window().bounds(as_of) == (None, as_of)
    assert not Window().is_window
    with pytest.raises(ValueError, match="needs an as_of"):
        Window(within="30d").bounds(None)
    assert Window(between=("90d", "30d")).describe() == "from 90d to 30d ago"
    d = TraitDef.model_validate({"name": "a", "from": "events", "aggregate": "count",
                                 "within": "2w"})  # fmt: skip
    assert d.window == Window(within="2w")


def test_json_schema_documents_every_field() -> None:
    schema = TraitsConfig.model_json_schema()
    defs = schema["$defs"]

    assert "from" in defs["TraitDef"]["properties"]
    for model in ("TraitDef", "TraitFilter"):
        for name, prop in defs[model]["properties"].items():
            assert prop.get("description"), (model, name)
    assert all(p.get("description") for p in schema["properties"].values())


def test_catalog_names_types_and_sources() -> None:
    config = parse_traits_config(yaml.safe_load(EXAMPLE)["traits"])
    catalog = trait_catalog(config)

    assert set(attribute_names()) <= set(catalog)
    assert "customer_id" not in catalog
    assert catalog["kitchen_spend_90d"].description == "Spend on kitchenware in the last 90 days"
    assert catalog["kitchen_spend_90d"].type == "number"
    assert (
        catalog["opens_last_quarter"].description == "count of rows in events from 90d to 30d ago"
    )
    assert catalog["spring_2024_orders"].type == "integer"
    assert catalog["signup_date"].type == "date"
    assert catalog["employees"].type == "integer"
    assert catalog["revenue"].type == "number"
    assert catalog["revenue"].kind == "attribute"
    assert catalog["email_opens_30d"].source == "events"
    assert not set(attribute_names()) & set(builtin_trait_names(config.windows))
