"""Checking a parsed rule against what the store holds: known fields, activity tables,
their columns, and operators that fit each field's type.

Separate from the language itself (``_rules``): parsing needs no store, checking needs the
catalogue of the customer base and the activity tables.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from segmint.exceptions import ConfigError
from segmint.segments._parse import (
    _with_path,
    did_you_mean,
)
from segmint.segments._rules import (
    ACTIVITY_TABLES,
    OPS_BY_FAMILY,
    AllOf,
    AnyOf,
    FieldCondition,
    InSegment,
    Not,
    NotPerformed,
    Performed,
    Rule,
    Sequence,
    SequenceStep,
    _Activity,
    _parse_date,
    _parse_moment,
    parse_duration,
)


# -- walking and checking against the catalogue ---------------------------------------------
def walk(rule: Rule, path: str = "rule") -> Iterator[tuple[str, Rule]]:
    """Every condition of ``rule`` (itself first) with its path."""
    yield path, rule
    if isinstance(rule, AllOf):
        for i, c in enumerate(rule.all_):
            yield from walk(c, f"{path}.all[{i}]")
    elif isinstance(rule, AnyOf):
        for i, c in enumerate(rule.any_):
            yield from walk(c, f"{path}.any[{i}]")
    elif isinstance(rule, Not):
        yield from walk(rule.not_, f"{path}.not")


@dataclass(frozen=True)
class RuleCatalog:
    """What a rule may name: fields with their types, activity tables with their columns.

    Types are data-model type names (string, integer, float, date, timestamp, boolean) or
    Ibis type strings (int64, float64, ...).  ``segments`` is None when segment names are
    checked elsewhere (by :func:`segmint.segments._graph.evaluation_order`).
    """

    fields: Mapping[str, str]
    activities: Mapping[str, Mapping[str, str]]
    segments: Collection[str] | None = None


def type_family(type_name: str) -> str:
    """The family of a type name: text, number, date (dates and timestamps), boolean, other."""
    import ibis

    name = {
        "integer": "int64",
        "float": "float64",
        "text": "string",
        "str": "string",
        "bool": "boolean",
        "datetime": "timestamp",
    }.get(type_name, type_name)
    try:
        dtype = ibis.dtype(name)
    except Exception:
        return "other"
    if dtype.is_string():
        return "text"
    if dtype.is_boolean():
        return "boolean"
    if dtype.is_numeric():
        return "number"
    if dtype.is_date() or dtype.is_timestamp():
        return "date"
    return "other"


def check_rule(rule: Rule, catalog: RuleCatalog, *, path: str = "rule") -> list[str]:
    """Every problem of ``rule`` against ``catalog``, one message each (empty: valid)."""
    problems: list[str] = []
    fields = {k: type_family(v) for k, v in catalog.fields.items()}
    for where, cond in walk(rule, path):
        if isinstance(cond, FieldCondition):
            problems += _check_field(cond, fields, f"{where}", "attribute or trait")
        elif isinstance(cond, Performed | NotPerformed):
            key = "performed" if isinstance(cond, Performed) else "not_performed"
            problems += _check_activity(cond, catalog, where, key)
        elif isinstance(cond, Sequence):
            for i, step in enumerate(cond.sequence):
                step_path = f"{where}.sequence[{i}]"
                problems += _check_activity(step, catalog, step_path, "performed")
        elif (
            isinstance(cond, InSegment)
            and catalog.segments is not None
            and cond.in_segment not in catalog.segments
        ):
            problems.append(
                f"unknown segment {cond.in_segment!r} at {where}.in_segment"
                + did_you_mean(cond.in_segment, catalog.segments)
            )
    return problems


def validate_rule(rule: Rule, catalog: RuleCatalog, *, path: str = "rule") -> None:
    """Raise :class:`ConfigError` listing every problem of ``rule`` against ``catalog``."""
    problems = check_rule(rule, catalog, path=path)
    if problems:
        raise ConfigError("\n".join(problems))


def _check_activity(
    cond: _Activity | SequenceStep, catalog: RuleCatalog, path: str, key: str
) -> list[str]:
    table = cond.performed if isinstance(cond, SequenceStep) else cond.table
    columns = catalog.activities.get(table)
    if columns is None:
        if table in ACTIVITY_TABLES:
            return [
                f"activity table {table!r} at {path}.{key} is not in the store; "
                f"load it first (segmint load {table} FILE)"
            ]
        known = set(catalog.activities) | set(ACTIVITY_TABLES)
        return [f"unknown activity table {table!r} at {path}.{key}{did_you_mean(table, known)}"]
    if "_time" not in columns:
        return [f"activity table {table!r} at {path}.{key} has no _time column"]
    families = {k: type_family(v) for k, v in columns.items()}
    problems: list[str] = []
    for i, w in enumerate(cond.where):
        problems += _check_field(w, families, f"{path}.where[{i}]", f"column of {table!r}")
    if isinstance(cond, _Activity):
        for name, m in cond.measures():
            if m.of not in families:
                visible = [c for c in families if not c.startswith("_")]
                problems.append(
                    f"unknown column {m.of!r} of {table!r} at {path}.{name}.of"
                    + did_you_mean(m.of, visible)
                )
            elif name != "count_distinct" and families[m.of] != "number":
                problems.append(
                    f"{name} of a {families[m.of]} column ({m.of!r} of {table!r}) at "
                    f"{path}.{name}.of; sum, avg, min and max need a numeric column"
                )
    return problems


def _check_field(
    cond: FieldCondition, families: Mapping[str, str], path: str, what: str
) -> list[str]:
    """``what`` is ``attribute or trait`` or ``column of 'events'``."""
    family = families.get(cond.field)
    if family is None:
        visible = [c for c in families if not c.startswith("_")]
        noun, _, owner = what.partition(" of ")
        name = f"{cond.field!r} of {owner}" if owner else f"{cond.field!r}"
        return [f"unknown {noun} {name} at {path}.field{did_you_mean(cond.field, visible)}"]
    if cond.op not in OPS_BY_FAMILY[family]:
        return [
            f"op {cond.op!r} does not fit {family} field {cond.field!r} at {path}.op; "
            f"use one of {', '.join(OPS_BY_FAMILY[family])}"
        ]
    try:
        field_values(cond, family)
    except ValueError as e:
        return [_with_path(str(e), f"{path}.value")]
    return []


def field_values(cond: FieldCondition, family: str) -> list[Any]:
    """The condition's values as Python values of the field's family.

    Dates become ``date``/``datetime``; a duration (``before: 90d``) becomes a
    ``timedelta`` back from the evaluation date.  Raises ValueError when a value does not
    fit the family (a text value for a number field, ...).
    """
    if cond.op in ("is_null", "not_null"):
        return []
    raw = cond.value if isinstance(cond.value, list) else [cond.value]
    if cond.op == "within_last":
        return [parse_duration(str(raw[0]))]
    out: list[Any] = []
    for v in raw:
        if family == "text":
            if isinstance(v, bool):
                raise ValueError(
                    f"value {v!r} is not text but {cond.field!r} is text; YAML reads unquoted "
                    f'yes/no/on/off (and NO, Norway\'s code) as true/false: quote it, e.g. "NO"'
                )
            if not isinstance(v, str):
                raise ValueError(
                    f'value {v!r} is not text but {cond.field!r} is text; quote it: "{v}"'
                )
            out.append(v)
        elif family == "number":
            if isinstance(v, bool) or not isinstance(v, int | float):
                raise ValueError(f"value {v!r} is not a number but {cond.field!r} is a number")
            out.append(v)
        elif family == "boolean":
            if not isinstance(v, bool):
                raise ValueError(f"value {v!r} is not true/false but {cond.field!r} is boolean")
            out.append(v)
        elif family == "date":
            if cond.op in ("before", "after"):
                m = _parse_moment(v)
                out.append(parse_duration(m) if isinstance(m, str) else m)
            else:
                out.append(_parse_date(v))
        else:
            out.append(v)
    return out
