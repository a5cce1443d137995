"""Declared traits (``traits:`` in segmint.yaml) compiled to Ibis reductions.

A trait becomes one reduction over its activity table, with its window and ``where``
filters as the reduction's ``where``; the customer base runs it in the same ``group_by``
as the table's built-in traits.  Values from the definition are always Ibis literals, never
SQL text.  Columns are checked against the stored table, with a did-you-mean.
"""

from __future__ import annotations

import difflib
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import ibis

from segmint.exceptions import ConfigError
from segmint.traits._builtin import days_between, exact_mean, exact_sum, ratio
from segmint.traits._config import TIME_AGGREGATES

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from segmint.traits._config import TraitDef, TraitFilter

#: aggregates whose value counts days up to as_of (from a time the rows give)
DAYS_SINCE: frozenset[str] = frozenset({"days_since_last", "days_since_first"})
#: what a customer without matching rows gets, per aggregate (others: null)
EMPTY_VALUES: dict[str, int] = {"count": 0, "count_distinct": 0, "sum": 0}
#: the column type of each aggregate's result (min / max keep the column's type)
RESULT_TYPES: dict[str, str] = {
    "count": "int64",
    "count_distinct": "int64",
    "sum": "float64",
    "avg": "float64",
    "share": "float64",
    "first_time": "timestamp",
    "last_time": "timestamp",
    "days_since_last": "int64",
    "days_since_first": "int64",
}


def _column(t: ir.Table, name: str, table: str, where: str) -> ir.Column:
    if name in t.columns and not name.startswith("_"):
        return t[name]
    columns = [c for c in t.columns if not c.startswith("_")]
    close = difflib.get_close_matches(name, columns, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    raise ConfigError(
        f"{where}: {table} has no column {name!r}; {hint}columns: {', '.join(columns)}"
    )


def _literal(col: ir.Column, value: Any, where: str) -> Any:
    """``value`` as a literal of the column's type; a ConfigError when it cannot be."""
    dtype = col.type()
    if dtype.is_string():
        return value if isinstance(value, str) else str(value)
    if dtype.is_boolean():
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{where}: {value!r} is not true or false")
    if dtype.is_numeric():
        if isinstance(value, (bool, date, datetime)):
            raise ConfigError(f"{where}: {value!r} is not a number")
        try:
            return float(value) if isinstance(value, str) else value
        except ValueError:
            raise ConfigError(f"{where}: {value!r} is not a number") from None
    if dtype.is_temporal():
        if isinstance(value, datetime):
            return ibis.literal(value)
        if isinstance(value, date):
            return ibis.literal(datetime(value.year, value.month, value.day))
        try:
            return ibis.literal(datetime.fromisoformat(str(value)))
        except ValueError:
            raise ConfigError(f"{where}: {value!r} is not a date; write it as YYYY-MM-DD") from None
    return value


def compile_filter(t: ir.Table, f: TraitFilter, table: str, where: str) -> ir.BooleanValue:
    """One ``where`` condition; an empty cell never matches anything but ``is_null``."""
    col = _column(t, f.field, table, f"{where}.field")
    if col.type().is_temporal():
        col = col.cast("timestamp")
    if f.op == "is_null":
        return col.isnull()
    if f.op == "not_null":
        return col.notnull()
    if f.op in ("contains", "starts_with"):
        if not col.type().is_string():
            raise ConfigError(f"{where}.op: {f.op} needs a text column; {f.field!r} is not text")
        text = str(f.value)
        return col.contains(text) if f.op == "contains" else col.startswith(text)
    if f.op in ("in", "not_in"):
        assert isinstance(f.value, list)
        values = [_literal(col, v, f"{where}.value[{i}]") for i, v in enumerate(f.value)]
        return col.isin(values) if f.op == "in" else col.notin(values) & col.notnull()
    value = _literal(col, f.value, f"{where}.value")
    comparisons = {
        "=": col == value,
        "!=": col != value,
        "<": col < value,
        "<=": col <= value,
        ">": col > value,
        ">=": col >= value,
    }
    return comparisons[f.op]


def window_condition(t: ir.Table, d: TraitDef, as_of: datetime) -> ir.BooleanValue:
    """The rows of the trait's window (the activity table is already cut at ``as_of``)."""
    start, end = d.window.bounds(as_of)
    cond: ir.BooleanValue = ibis.literal(True)
    if start is not None:
        cond = cond & (t._time >= ibis.literal(start))
    if end is not None and end < as_of:
        cond = cond & (t._time < ibis.literal(end))
    return cond


def stamp_name(name: str) -> str:
    """The hidden column holding the time a days-since trait counts from."""
    return f"_since_{name}"


def declared_aggregate(
    t: ir.Table, d: TraitDef, as_of: datetime, where: str, *, stamp: bool = False
) -> ir.Value:
    """The reduction of one declared trait over its activity table ``t``.

    Parameters
    ----------
    t
        The trait's activity table (by person, cut at ``as_of``).
    d
        The definition.
    as_of
        The evaluation time (relative windows and ``days_since_*`` count from it).
    where
        Its path in segmint.yaml (``traits[3]``), for error messages.
    stamp
        For a days-since trait, return the time it counts from instead of the days (the
        days follow from ``as_of`` alone; see ``segmint.traits._base``).
    """
    in_window = window_condition(t, d, as_of)
    cond = in_window
    for i, f in enumerate(d.where):
        cond = cond & compile_filter(t, f, d.source, f"{where}.where[{i}]")
    of = _column(t, d.of, d.source, f"{where}.of") if d.of is not None else None
    agg = d.aggregate
    if agg in ("sum", "avg", "share") and of is not None and not of.type().is_numeric():
        raise ConfigError(f"{where}.of: {agg} needs a numeric column; {d.of!r} is {of.type()}")
    if agg in TIME_AGGREGATES:
        if of is not None and not of.type().is_temporal():
            raise ConfigError(f"{where}.of: {agg} needs a date or time column; {d.of!r} is not")
        time = of.cast("timestamp") if of is not None else t._time
        if agg == "first_time":
            return time.min(where=cond)
        if agg == "last_time":
            return time.max(where=cond)
        since = time.max(where=cond) if agg == "days_since_last" else time.min(where=cond)
        return since if stamp else days_between(since, as_of)
    if agg == "count":
        return t.count(where=cond)
    if agg == "share":
        if of is None:
            return ratio(t.count(where=cond), t.count(where=in_window))
        return ratio(exact_sum(of, cond).fill_null(0), exact_sum(of, in_window))
    assert of is not None
    reductions = {
        "sum": lambda: exact_sum(of, cond),
        "avg": lambda: exact_mean(of, cond),
        "min": lambda: of.min(where=cond),
        "max": lambda: of.max(where=cond),
        "count_distinct": lambda: of.nunique(where=cond),
    }
    return reductions[agg]()
