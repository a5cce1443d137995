"""Reading rules: parsing, JSON Schema, and error messages that name the path.

Every problem is reported as one line that says what is wrong, where in the config
(``segments[3].rule.all[2].field``) and how to fix it, with a did-you-mean where a
known name is close.  The project config reuses :func:`format_errors` for all of
``segmint.yaml``.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, Tag, TypeAdapter, ValidationError

from segmint.exceptions import ConfigError
from segmint.segments._rules import (
    _OP_ALIASES,
    _TAGS,
    CONDITION_KEYS,
    OPERATORS,
    Condition,
    Rule,
    SegmentDefinition,
    SequenceStep,
    Window,
)

_CONDITION = TypeAdapter(Condition)
_SEGMENTS = TypeAdapter(list[SegmentDefinition])


def parse_rule(data: object, *, path: str = "rule") -> Rule:
    """Parse one rule (a condition) from YAML/JSON data.

    Raises
    ------
    ConfigError
        naming the path of each problem (``rule.all[2].within``) and how to fix it.
    """
    try:
        return _CONDITION.validate_python(data)
    except ValidationError as e:
        raise ConfigError(format_errors(e, Condition, prefix=path)) from None


def parse_segments(data: object, *, path: str = "segments") -> list[SegmentDefinition]:
    """Parse the ``segments:`` list of ``segmint.yaml``; names must be unique."""
    try:
        segments = _SEGMENTS.validate_python(data)
    except ValidationError as e:
        raise ConfigError(format_errors(e, list[SegmentDefinition], prefix=path)) from None
    seen: dict[str, int] = {}
    for i, s in enumerate(segments):
        if s.name in seen:
            raise ConfigError(
                f"duplicate segment name {s.name!r} at {path}[{i}].name "
                f"(also {path}[{seen[s.name]}].name); give each segment its own name"
            )
        seen[s.name] = i
    return segments


def rule_json_schema() -> dict[str, Any]:
    """JSON Schema of one rule (a condition)."""
    return _CONDITION.json_schema()


def segments_json_schema() -> dict[str, Any]:
    """JSON Schema of the ``segments:`` list."""
    return _SEGMENTS.json_schema()


# -- error messages ------------------------------------------------------------------------
def did_you_mean(name: str, known: Collection[str]) -> str:
    """``"; did you mean 'spend'?"``, or the known names when none is close."""
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    if close:
        return f"; did you mean {close[0]!r}?"
    names = sorted(known)
    if not names:
        return ""
    shown = ", ".join(names[:12]) + (", ..." if len(names) > 12 else "")
    return f"; known: {shown}"


def format_path(prefix: str, loc: tuple[str | int, ...]) -> str:
    """``("all", 2, "field")`` under ``segments[3].rule`` -> ``segments[3].rule.all[2].field``."""
    out = prefix
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part not in _TAG_NAMES:
            out += f".{part}" if out else part
    return out


_TAG_NAMES = frozenset(_TAGS.values())


def format_errors(err: ValidationError, root: Any, *, prefix: str) -> str:
    """One line per problem: what is wrong, where, and a fix or a did-you-mean.

    Parameters
    ----------
    err
        The pydantic error.
    root
        The type that was validated (a model such as the whole project config, or a type
        like ``list[SegmentDefinition]``), used to list the allowed keys.
    prefix
        Path of the validated value in the config (``segments``), or ``""`` at the top.
    """
    lines = []
    for e in err.errors(include_url=False):
        loc = tuple(e["loc"])
        path = format_path(prefix, loc)
        kind, msg, value = e["type"], e["msg"], e.get("input")
        if kind == "condition":
            lines.append(_condition_problem(value, path))
        elif kind == "extra_forbidden":
            key = str(loc[-1])
            parent = format_path(prefix, loc[:-1]) or "the top level"
            model = _model_at(root, loc[:-1])
            known = _keys_of(model) if model else []
            hint = (
                f"; did you mean {_OP_ALIASES[key]!r}?"
                if _OP_ALIASES.get(key) in known
                else did_you_mean(key, known)
            )
            if model is SequenceStep and key in Window.model_fields:
                hint = "; put the window under 'during:' of the sequence"
            lines.append(f"unknown key {key!r} at {parent}{hint}")
        elif kind == "missing":
            parent = format_path(prefix, loc[:-1]) or "the top level"
            lines.append(f"missing key {loc[-1]!r} at {parent}")
        elif kind == "literal_error" and loc and loc[-1] == "op":
            op = str(value)
            hint = (
                f"; did you mean {_OP_ALIASES[op]!r}?"
                if op in _OP_ALIASES
                else did_you_mean(op, OPERATORS)
            )
            lines.append(f"unknown op {op!r} at {path}{hint} (ops: {', '.join(OPERATORS)})")
        else:
            msg = msg.removeprefix("Value error, ")
            if kind.endswith("_type") or kind.endswith("_parsing"):
                msg = f"{msg} (got {value!r})"
            lines.append(_with_path(msg, path))
    return "\n".join(dict.fromkeys(lines))


def _with_path(message: str, path: str) -> str:
    """``"problem; fix"`` -> ``"problem at path; fix"``."""
    problem, sep, fix = message.partition("; ")
    return f"{problem} at {path}{sep}{fix}"


def _condition_problem(value: object, path: str) -> str:
    keys = ", ".join(CONDITION_KEYS)
    if not isinstance(value, dict):
        return (
            f"expected a condition (a mapping with one of the keys {keys}) at {path}, got {value!r}"
        )
    found = [k for k in CONDITION_KEYS if k in value]
    if found:
        return (
            f"condition with {len(found)} kinds ({' and '.join(repr(k) for k in found)}) "
            f"at {path}; a condition has exactly one of the keys {keys}: split it into "
            f"conditions under 'all:'"
        )
    hints = [did_you_mean(str(k), CONDITION_KEYS) for k in value]
    hint = next((h for h in hints if h.startswith("; did")), f"; use one of the keys {keys}")
    return f"not a condition at {path} (keys {', '.join(map(str, value))}){hint}"


def _keys_of(model: type[BaseModel]) -> list[str]:
    return [f.alias or name for name, f in model.model_fields.items()]


def _model_at(tp: Any, loc: tuple[str | int, ...]) -> type[BaseModel] | None:
    """Follow ``loc`` (with union tags) through the annotations from ``tp`` to a model."""
    for part in loc:
        tp = _unwrap(tp, part)
        if part in _TAG_NAMES:
            continue
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            field = next((f for n, f in tp.model_fields.items() if part in (n, f.alias)), None)
            if field is None:
                return None
            tp = field.annotation
        elif get_origin(tp) in (list, tuple) and isinstance(part, int):
            args = get_args(tp)
            tp = args[0] if get_origin(tp) is list else args[min(part, len(args) - 1)]
        else:
            return None
    tp = _unwrap(tp, None)
    return tp if isinstance(tp, type) and issubclass(tp, BaseModel) else None


def _unwrap(tp: Any, part: str | int | None) -> Any:
    """Strip Annotated and Optional; pick the union member tagged ``part``."""
    while True:
        origin = get_origin(tp)
        if origin is Annotated:
            tp = get_args(tp)[0]
            continue
        if origin is Union or type(tp).__name__ == "UnionType":
            members = [m for m in get_args(tp) if m is not type(None)]
            tagged = [m for m in members if part in _TAG_NAMES and _tag_of(m) == part]
            if tagged:
                return get_args(tagged[0])[0]
            if len(members) == 1:
                tp = members[0]
                continue
            models = [m for m in members if isinstance(m, type) and issubclass(m, BaseModel)]
            return models[0] if len(models) == 1 else None
        return tp


def _tag_of(tp: Any) -> str | None:
    if get_origin(tp) is Annotated:
        return next((m.tag for m in get_args(tp)[1:] if isinstance(m, Tag)), None)
    return None
