"""The rule language: parsing, every error message, the catalogue checks, the segment graph,
the JSON Schema and the examples of docs/segments.md."""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from segmint.datamodel import ENTITIES
from segmint.exceptions import ConfigError
from segmint.segments._checks import RuleCatalog, check_rule
from segmint.segments._graph import dependencies, evaluation_order, validate_segments
from segmint.segments._parse import (
    format_errors,
    parse_rule,
    parse_segments,
    rule_json_schema,
    segments_json_schema,
)
from segmint.segments._rules import (
    ACTIVITY_TABLES,
    OPERATORS,
    AllOf,
    ColumnComparison,
    Comparison,
    FieldCondition,
    Not,
    NotPerformed,
    Performed,
    SegmentDefinition,
    Sequence,
    SequenceStep,
    TimeComparison,
    Window,
    parse_duration,
)

DOC = Path(__file__).resolve().parents[2] / "docs" / "segments.md"

SEEDS = """
segments:
  - name: active_danes
    description: Danish, 3+ orders in 90 days, spend > 1000, opened an email in 30 days, not VIP
    rule:
      all:
        - {field: country, op: "=", value: DK}
        - {performed: transactions, within: 90d, count: {">=": 3}}
        - {performed: transactions, within: 90d, sum: {of: amount, ">": 1000}}
        - {performed: events, where: [{field: event_type, op: "=", value: email_open}], within: 30d}
        - {not: {in_segment: vip}}
  - name: b2b_target
    rule:
      all:
        - {field: customer_type, op: "=", value: company}
        - {field: employees, op: between, value: [11, 17]}
        - {field: nace_code, op: starts_with, value: "62"}
        - {not_performed: deals, within: 365d}
"""

#: traits the doc's examples use, beside the customer attributes of the data model
TRAITS = {"spend": "float", "churn_score": "float", "orders_90d": "integer"}


def catalog(segments: list[str] | None = None) -> RuleCatalog:
    fields = {f.name: f.type for f in ENTITIES["customers"].fields} | TRAITS
    activities = {
        name: {f.name: f.type for f in ENTITIES[name].fields} | {"_time": "timestamp"}
        for name in ACTIVITY_TABLES
    }
    return RuleCatalog(fields=fields, activities=activities, segments=segments)


def as_json(data: Any) -> Any:
    """What an editor's YAML plugin sees: dates as text."""
    return json.loads(json.dumps(data, default=str))


# -- parsing ---------------------------------------------------------------------------------
def test_the_seeds_examples_parse() -> None:
    segments = parse_segments(yaml.safe_load(SEEDS)["segments"])
    danes, b2b = segments
    assert isinstance(danes.rule, AllOf)
    conds = danes.rule.all_
    assert conds[0] == FieldCondition(field="country", op="=", value="DK")
    assert isinstance(conds[1], Performed)
    assert conds[1].performed == "transactions"
    assert conds[1].within == "90d"
    assert conds[1].count == Comparison.model_validate({">=": 3})
    assert conds[2].sum == ColumnComparison.model_validate({"of": "amount", ">": 1000})  # type: ignore[union-attr]
    assert conds[3].where == [FieldCondition(field="event_type", op="=", value="email_open")]  # type: ignore[union-attr]
    assert isinstance(conds[4], Not)
    assert isinstance(b2b.rule, AllOf)
    assert isinstance(b2b.rule.all_[3], NotPerformed)
    assert b2b.rule.all_[3].table == "deals"


def test_round_trip_through_yaml_keeps_aliases_and_order() -> None:
    segments = parse_segments(yaml.safe_load(SEEDS)["segments"])
    dumped = [s.model_dump(mode="json", exclude_defaults=True) for s in segments]
    text = yaml.safe_dump(dumped, sort_keys=False)
    assert parse_segments(yaml.safe_load(text)) == segments
    first = dumped[0]["rule"]["all"][1]
    assert list(first) == ["performed", "within", "count"]  # the table key first
    assert first["count"] == {">=": 3}


def test_round_trip_inside_a_project_config() -> None:
    # the project config dumps without by_alias; the rule models still write their aliases
    class Project(BaseModel):
        model_config = ConfigDict(extra="forbid", validate_assignment=True)
        segments: list[SegmentDefinition] = Field(default_factory=list)

    project = Project(segments=parse_segments(yaml.safe_load(SEEDS)["segments"]))
    data = project.model_dump(mode="json", exclude_defaults=True)
    assert data["segments"][1]["rule"]["all"][3] == {"not_performed": "deals", "within": "365d"}
    assert "all" in data["segments"][0]["rule"]
    assert Project.model_validate(yaml.safe_load(yaml.safe_dump(data))) == project


def test_errors_of_a_whole_project_config() -> None:
    class Project(BaseModel):
        model_config = ConfigDict(extra="forbid")
        name: str = "x"
        segments: list[SegmentDefinition] = Field(default_factory=list)

    raw = {"nam": 1, "segments": [{"name": "a", "rule": {"all": [{"field": "a", "op": "=="}]}}]}
    with pytest.raises(ValidationError) as err:
        Project.model_validate(raw)
    assert format_errors(err.value, Project, prefix="").splitlines() == [
        "unknown op '==' at segments[0].rule.all[0].op; did you mean '='? (ops: "
        + ", ".join(OPERATORS)
        + ")",
        "unknown key 'nam' at the top level; did you mean 'name'?",
    ]


def test_dates_and_durations() -> None:
    rule = parse_rule(
        {
            "performed": "transactions",
            "since": date(2024, 1, 1),
            "until": "2024-07-01T06:00:00",
            "first_time": {"after": "90d", "before": date(2024, 5, 1)},
        }
    )
    assert isinstance(rule, Performed)
    assert rule.since == date(2024, 1, 1)
    assert rule.until == datetime(2024, 7, 1, 6)
    assert rule.first_time == TimeComparison(after="90d", before=date(2024, 5, 1))
    assert parse_duration("12w").days == 84
    assert parse_duration("0d").days == 0
    # a YAML date in a field value is kept as ISO text, so YAML and JSON read alike
    cond = parse_rule(yaml.safe_load("{field: signup_date, op: before, value: 2024-01-31}"))
    assert cond == parse_rule({"field": "signup_date", "op": "before", "value": "2024-01-31"})


def test_sequence_and_window_models() -> None:
    rule = parse_rule(
        {
            "sequence": [{"performed": "events"}, {"performed": "transactions", "where": []}],
            "within": "7d",
            "during": {"between": ["90d", "30d"]},
        }
    )
    assert rule == Sequence(
        sequence=[SequenceStep(performed="events"), SequenceStep(performed="transactions")],
        within="7d",
        during=Window(between=("90d", "30d")),
    )


PARSE_ERRORS: list[tuple[Any, str]] = [
    (
        {"field": "country", "op": "==", "value": "DK"},
        "unknown op '==' at rule.op; did you mean '='?",
    ),
    (
        {"field": "country", "op": "startswith", "value": "D"},
        "unknown op 'startswith' at rule.op; did you mean 'starts_with'?",
    ),
    (
        {"performed": "transactions", "withn": "90d"},
        "unknown key 'withn' at rule; did you mean 'within'?",
    ),
    (
        {"performed": "transactions", "within": "90x"},
        "malformed duration '90x' at rule.within; write a number of days or weeks, e.g. 90d or 12w",
    ),
    ({"performed": "transactions", "within": 90}, "malformed duration 90 at rule.within"),
    (
        {"performed": "transactions", "between": ["30d", "ninety"]},
        "malformed duration 'ninety' at rule.between[1]",
    ),
    ({"feld": "country"}, "not a condition at rule (keys feld); did you mean 'field'?"),
    (
        {"field": "a", "performed": "b"},
        "condition with 2 kinds ('field' and 'performed') at rule; a condition has exactly one",
    ),
    ("country = DK", "expected a condition (a mapping with one of the keys field, performed"),
    (
        {"performed": "transactions", "count": {"=>": 2}},
        "unknown key '=>' at rule.count; did you mean '>='?",
    ),
    (
        {"performed": "transactions", "count": {}},
        "no comparison given at rule.count; add one of =, !=, <, <=, >, >=, between",
    ),
    (
        {"performed": "transactions", "between": ["30d", "90d"]},
        "window between [far, near] has the shorter duration first at rule; write the longer one",
    ),
    (
        {"performed": "transactions", "within": "30d", "since": "2024-01-01"},
        "two windows given (within and since/until) at rule; keep one",
    ),
    (
        {"performed": "transactions", "since": "2024-02-01", "until": "2024-01-01"},
        "since is not before until at rule; swap them",
    ),
    (
        {"performed": "transactions", "since": "2024-13-01"},
        "malformed date '2024-13-01' at rule.since; write it as 2024-01-31",
    ),
    (
        {"field": "a", "op": "between", "value": [3]},
        "op 'between' needs a value [low, high] at rule.value; both ends are included",
    ),
    (
        {"field": "a", "op": "between", "value": [5, 3]},
        "between [5, 3] has low > high at rule.value; write [low, high]",
    ),
    (
        {"field": "a", "op": "is_null", "value": 3},
        "op 'is_null' takes no value at rule.value; remove 'value'",
    ),
    (
        {"field": "a", "op": "in", "value": "DK"},
        "op 'in' needs a non-empty list as value at rule.value",
    ),
    (
        {"field": "a", "op": "=", "value": ["DK"]},
        "op '=' needs a single value, not a list at rule.value; use 'in' for a list",
    ),
    ({"field": "a", "op": "="}, "op '=' needs a value at rule.value"),
    (
        {"field": "a", "op": "contains", "value": 62},
        "op 'contains' needs a text value at rule.value; quote it: \"62\"",
    ),
    (
        {"field": "a", "op": "within_last", "value": "30 days"},
        "malformed duration '30 days' at rule.value",
    ),
    (
        {"field": "a", "op": "before", "value": "yesterday"},
        "malformed date or duration 'yesterday' at rule.value",
    ),
    ({"field": "a"}, "missing key 'op' at rule"),
    ({"performed": "transactions", "sum": {">": 3}}, "missing key 'of' at rule.sum"),
    (
        {"performed": "transactions", "last_time": {}},
        "no time comparison given at rule.last_time; add one of before, after, within_last",
    ),
    (
        {"sequence": [{"performed": "events", "within": "3d"}, {"performed": "events"}]},
        "unknown key 'within' at rule.sequence[0]; put the window under 'during:' of the sequence",
    ),
    ({"sequence": [{"performed": "events"}]}, "at rule.sequence"),
    ({"all": []}, "at rule.all"),
    (
        {"all": [{"field": "a", "op": "is_null"}, {"not": {"any": [{"in_segmnt": "x"}]}}]},
        "not a condition at rule.all[1].not.any[0] (keys in_segmnt); did you mean 'in_segment'?",
    ),
    ({"not": [1]}, "expected a condition (a mapping with one of the keys"),
]


@pytest.mark.parametrize(("raw", "message"), PARSE_ERRORS, ids=[m for _, m in PARSE_ERRORS])
def test_parse_errors_name_the_path(raw: Any, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_rule(raw)
    assert message in str(err.value)


def test_segment_list_errors() -> None:
    with pytest.raises(ConfigError) as err:
        parse_segments(
            [
                {"name": "ok", "rule": {"in_segment": "x"}},
                {"name": "bad name", "rule": {"in_segment": "x"}},
                {
                    "name": "x",
                    "rule": {"all": [{"field": "a", "op": "="}, {"performed": "t", "withn": "3d"}]},
                },
                {"name": "y", "rul": {}},
            ]
        )
    msg = str(err.value)
    assert "segment name 'bad name' is not allowed at segments[1].name; use letters" in msg
    assert "op '=' needs a value at segments[2].rule.all[0].value" in msg
    assert "unknown key 'withn' at segments[2].rule.all[1]; did you mean 'within'?" in msg
    assert "unknown key 'rul' at segments[3]; did you mean 'rule'?" in msg
    assert "missing key 'rule' at segments[3]" in msg
    with pytest.raises(
        ConfigError,
        match=r"duplicate segment name 'a' at segments\[2\].name "
        r"\(also segments\[0\].name\)",
    ):
        parse_segments([{"name": n, "rule": {"in_segment": "z"}} for n in ("a", "b", "a")])


# -- checks against the catalogue ------------------------------------------------------------------
CHECK_ERRORS: list[tuple[dict[str, Any], str]] = [
    (
        {"field": "spnd", "op": ">", "value": 3},
        "unknown attribute or trait 'spnd' at segments[3].rule.field; did you mean 'spend'?",
    ),
    (
        {"field": "zzzzzz", "op": "is_null"},
        "unknown attribute or trait 'zzzzzz' at segments[3].rule.field; known: address, ",
    ),
    (
        {"performed": "transaction"},
        "unknown activity table 'transaction' at segments[3].rule.performed; "
        "did you mean 'transactions'?",
    ),
    (
        {"not_performed": "deels", "within": "30d"},
        "unknown activity table 'deels' at segments[3].rule.not_performed; did you mean 'deals'?",
    ),
    (
        {"performed": "events", "where": [{"field": "event_typ", "op": "=", "value": "x"}]},
        "unknown column 'event_typ' of 'events' at segments[3].rule.where[0].field; "
        "did you mean 'event_type'?",
    ),
    (
        {"performed": "transactions", "avg": {"of": "amout", ">": 3}},
        "unknown column 'amout' of 'transactions' at segments[3].rule.avg.of; "
        "did you mean 'amount'?",
    ),
    (
        {"performed": "transactions", "sum": {"of": "category", ">": 3}},
        "sum of a text column ('category' of 'transactions') at segments[3].rule.sum.of; "
        "sum, avg, min and max need a numeric column",
    ),
    (
        {"field": "employees", "op": "contains", "value": "1"},
        "op 'contains' does not fit number field 'employees' at segments[3].rule.op; "
        "use one of =, !=",
    ),
    (
        {"field": "country", "op": "within_last", "value": "30d"},
        "op 'within_last' does not fit text field 'country' at segments[3].rule.op",
    ),
    (
        {"field": "signup_date", "op": "starts_with", "value": "2024"},
        "op 'starts_with' does not fit date field 'signup_date' at segments[3].rule.op",
    ),
    (
        {"performed": "consents", "where": [{"field": "granted", "op": ">", "value": True}]},
        "op '>' does not fit boolean field 'granted' at segments[3].rule.where[0].op",
    ),
    (
        {"field": "nace_code", "op": "=", "value": 62},
        "value 62 is not text but 'nace_code' is text at segments[3].rule.value; quote it: \"62\"",
    ),
    (
        {"field": "country", "op": "in", "value": ["DK", False]},
        "value False is not text but 'country' is text at segments[3].rule.value; YAML reads "
        'unquoted yes/no/on/off (and NO, Norway\'s code) as true/false: quote it, e.g. "NO"',
    ),
    (
        {"field": "employees", "op": "in", "value": [10, "11"]},
        "value '11' is not a number but 'employees' is a number at segments[3].rule.value",
    ),
    (
        {"field": "employees", "op": ">", "value": True},
        "value True is not a number but 'employees' is a number",
    ),
    (
        {"performed": "consents", "where": [{"field": "granted", "op": "=", "value": "yes"}]},
        "value 'yes' is not true/false but 'granted' is boolean at segments[3].rule.where[0].value",
    ),
    (
        {"field": "signup_date", "op": "=", "value": "31-01-2024"},
        "malformed date '31-01-2024' at segments[3].rule.value; write it as 2024-01-31",
    ),
    (
        {"all": [{"any": [{"not": {"in_segment": "vipp"}}]}]},
        "unknown segment 'vipp' at segments[3].rule.all[0].any[0].not.in_segment; "
        "did you mean 'vip'?",
    ),
    (
        {"sequence": [{"performed": "events"}, {"performed": "orders"}]},
        "unknown activity table 'orders' at segments[3].rule.sequence[1].performed",
    ),
]


@pytest.mark.parametrize(("raw", "message"), CHECK_ERRORS, ids=[m for _, m in CHECK_ERRORS])
def test_catalogue_errors_name_the_path(raw: dict[str, Any], message: str) -> None:
    problems = check_rule(parse_rule(raw), catalog(["vip"]), path="segments[3].rule")
    assert len(problems) == 1, problems
    assert message in problems[0]


def test_hostile_names_are_unknown_names() -> None:
    rule = parse_rule({"all": [
        {"field": "country'; DROP TABLE customers; --", "op": "is_null"},
        {"performed": "transactions; DROP TABLE x"},
        {"performed": "events", "where": [{"field": 'event_type" OR 1=1', "op": "is_null"}]},
    ]})  # fmt: skip
    problems = check_rule(rule, catalog())
    assert [p.split(" at ")[0] for p in problems] == [
        'unknown attribute or trait "country\'; DROP TABLE customers; --"',
        "unknown activity table 'transactions; DROP TABLE x'",
        "unknown column 'event_type\" OR 1=1' of 'events'",
    ]


def test_every_problem_is_reported_and_a_missing_table_is_named() -> None:
    rule = parse_rule({"all": [{"field": "spnd", "op": "is_null"}, {"performed": "deals"}]})
    cat = catalog()
    cat = RuleCatalog(fields=cat.fields, activities={"events": cat.activities["events"]})
    problems = check_rule(rule, cat)
    assert problems == [
        "unknown attribute or trait 'spnd' at rule.all[0].field; did you mean 'spend'?",
        "activity table 'deals' at rule.all[1].performed is not in the store; load it first "
        "(segmint load deals FILE)",
    ]


def test_the_seeds_examples_pass_the_checks() -> None:
    segments = parse_segments(yaml.safe_load(SEEDS)["segments"])
    for s in segments:
        assert check_rule(s.rule, catalog(["vip"])) == []


def test_op_and_type_table_is_enforced_exhaustively() -> None:
    fits = {
        "country": {
            "=",
            "!=",
            "<",
            "<=",
            ">",
            ">=",
            "between",
            "in",
            "not_in",
            "contains",
            "starts_with",
            "is_null",
            "not_null",
        },
        "employees": {
            "=",
            "!=",
            "<",
            "<=",
            ">",
            ">=",
            "between",
            "in",
            "not_in",
            "is_null",
            "not_null",
        },
        "signup_date": {
            "=",
            "!=",
            "<",
            "<=",
            ">",
            ">=",
            "between",
            "in",
            "not_in",
            "before",
            "after",
            "within_last",
            "is_null",
            "not_null",
        },
    }
    values = {"country": "DK", "employees": 3, "signup_date": "2024-01-01"}
    for field, ok in fits.items():
        for op in OPERATORS:
            v: Any = values[field]
            if op in ("contains", "starts_with"):
                v = "x"
            elif op in ("before", "after"):
                v = "2024-01-01"
            elif op == "within_last":
                v = "30d"
            value = (
                None
                if op in ("is_null", "not_null")
                else [v, v]
                if op in ("between", "in", "not_in")
                else v
            )
            rule = parse_rule({"field": field, "op": op, "value": value})
            problems = check_rule(rule, catalog())
            assert (problems == []) == (op in ok), (field, op, problems)


# -- segment graph --------------------------------------------------------------------------------
def segs(spec: dict[str, list[str]]) -> list[SegmentDefinition]:
    return parse_segments(
        [
            {
                "name": name,
                "rule": {"all": [{"in_segment": u} for u in uses]}
                if uses
                else {"field": "country", "op": "not_null"},
            }
            for name, uses in spec.items()
        ]
    )


def test_evaluation_order_puts_dependencies_first_and_keeps_declaration_order() -> None:
    order = evaluation_order(segs({"a": ["c"], "b": [], "c": ["b"], "d": [], "e": ["a", "d"]}))
    assert order == ["b", "c", "a", "d", "e"]
    assert evaluation_order(segs({"x": [], "y": [], "z": []})) == ["x", "y", "z"]


def test_dependencies_skip_external_segments() -> None:
    s = segs({"a": ["champions", "b", "b"], "b": []})
    assert dependencies(s, external=["champions"]) == {"a": ["b"], "b": []}
    assert evaluation_order(s, external=["champions"]) == ["b", "a"]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"a": ["b"], "b": ["a"]}, "a -> b -> a (at segments[0], segments[1])"),
        (
            {"x": [], "b": ["c"], "c": ["d"], "d": ["b"]},
            "b -> c -> d -> b (at segments[1], segments[2], segments[3])",
        ),
        ({"d": ["b"], "b": ["c"], "c": ["d"]}, "d -> b -> c -> d"),
        ({"a": ["a"]}, "a -> a (at segments[0])"),
    ],
)
def test_cycles_are_named(spec: dict[str, list[str]], message: str) -> None:
    with pytest.raises(ConfigError) as err:
        evaluation_order(segs(spec))
    assert str(err.value).startswith("segments use each other in a cycle: ")
    assert message in str(err.value)


def test_unknown_segment_reference() -> None:
    with pytest.raises(ConfigError) as err:
        evaluation_order(segs({"a": ["vipp", "champion"], "vip": []}), external=["champions"])
    assert str(err.value) == (
        "unknown segment 'vipp' at segments[0].rule.all[0].in_segment; did you mean 'vip'?\n"
        "unknown segment 'champion' at segments[0].rule.all[1].in_segment; "
        "did you mean 'champions'?"
    )


def test_validate_segments_checks_rules_then_graph() -> None:
    segments = parse_segments(yaml.safe_load(SEEDS)["segments"])
    assert validate_segments(segments, catalog(), external=["vip"]) == [
        "active_danes",
        "b2b_target",
    ]
    with pytest.raises(ConfigError, match="unknown segment 'vip'"):
        validate_segments(segments, catalog())
    bad = parse_segments([{"name": "a", "rule": {"field": "spnd", "op": "is_null"}}])
    with pytest.raises(ConfigError, match=r"'spnd' at segments\[0\].rule.field; did you mean"):
        validate_segments(bad, catalog())


# -- JSON Schema ---------------------------------------------------------------------------
def test_json_schema_validates_the_examples_and_rejects_bad_rules() -> None:
    schema = segments_json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    validator.validate(as_json(yaml.safe_load(SEEDS)["segments"]))
    rule = jsonschema.Draft202012Validator(rule_json_schema())
    for good in yaml.safe_load(SEEDS)["segments"]:
        rule.validate(as_json(good["rule"]))
    for bad in (
        {"field": "a", "performed": "b", "op": "="},
        {"performed": "transactions", "withn": "90d"},
        {"performed": "transactions", "within": "90x"},
        {"field": "a", "op": "=="},
        {"all": [{"not": {"in_segmnt": "x"}}]},
        {"sequence": [{"performed": "events", "within": "3d"}, {"performed": "events"}]},
    ):
        assert not rule.is_valid(bad), bad


def test_every_key_has_a_description() -> None:
    for model in (
        FieldCondition,
        Performed,
        NotPerformed,
        Sequence,
        SequenceStep,
        Window,
        Comparison,
        ColumnComparison,
        TimeComparison,
        SegmentDefinition,
    ):
        for name, f in model.model_fields.items():
            assert f.description, f"{model.__name__}.{name}"


# -- docs/segments.md ----------------------------------------------------------------------
def doc_blocks() -> list[Any]:
    text = DOC.read_text(encoding="utf-8")
    return [yaml.safe_load(b) for b in re.findall(r"```yaml\n(.*?)```", text, re.S)]


def test_every_doc_example_parses_and_passes_the_checks() -> None:
    blocks = doc_blocks()
    assert len(blocks) >= 6
    rules_validator = jsonschema.Draft202012Validator(rule_json_schema())
    segments_validator = jsonschema.Draft202012Validator(segments_json_schema())
    names: list[str] = []
    for block in blocks:
        if "segments" in block:
            segments = parse_segments(block["segments"])
            segments_validator.validate(as_json(block["segments"]))
            names += [s.name for s in segments]
            validate_segments(segments, catalog(), external=["vip"])
        else:
            rule = parse_rule(block["rule"])
            rules_validator.validate(as_json(block["rule"]))
            assert check_rule(rule, catalog()) == []
    assert {"active_danes", "b2b_target", "lapsed", "vip_at_risk"} <= set(names)


def test_the_doc_documents_every_key_and_operator() -> None:
    text = DOC.read_text(encoding="utf-8")
    for op in OPERATORS:
        assert f"`{op}`" in text, op
    keys: set[str] = set()
    for model in (
        FieldCondition,
        Performed,
        NotPerformed,
        Sequence,
        SequenceStep,
        Window,
        Comparison,
        ColumnComparison,
        TimeComparison,
        SegmentDefinition,
    ):
        keys |= {f.alias or n for n, f in model.model_fields.items()}
    keys |= {"all", "any", "not", "in_segment"}
    for key in sorted(keys):
        assert f"`{key}`" in text or f"`{key}:" in text, key
