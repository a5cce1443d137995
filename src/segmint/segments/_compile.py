"""Compile a rule into one Ibis expression: the member customer ids of a segment.

How it stays fast on any engine:

* every activity condition on the same table shares one grouped pass over it: each
  measure is an aggregate filtered by its condition's ``where`` and window, and the pass
  reads only the rows some condition wants.  A run (or a preview) registers the conditions
  of all its segments first and materialises one pass per table (:class:`ActivityPasses`),
  so twenty segments on transactions read the transactions once.  The passes are
  left-joined to the customer base by ``customer_id``, as are sequence and membership
  flags;
* each condition becomes a boolean over that one wide table, never null (a missing value
  makes a comparison false), so ``all``/``any``/``not`` are ``&``/``|``/``~`` and ``not`` is
  exactly the base minus the members of the negated condition;
* user values enter only as ``ibis.literal`` values and field names only after
  :func:`segmint.segments._checks.check_rule` has checked them against the catalogue, so
  nothing a user writes is ever pasted into SQL;
* nothing here is engine specific: the expression compiles on DuckDB and on Spark.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import reduce
from typing import TYPE_CHECKING, Any

import ibis

from segmint.exceptions import ConfigError
from segmint.segments._checks import RuleCatalog, field_values, type_family, validate_rule, walk
from segmint.segments._rules import (
    AllOf,
    AnyOf,
    Comparison,
    FieldCondition,
    InSegment,
    Not,
    NotPerformed,
    Performed,
    Rule,
    Sequence,
    SequenceStep,
    TimeComparison,
    Window,
    parse_duration,
)

if TYPE_CHECKING:
    import ibis.expr.types as ir

Predicate = Callable[["ir.Table"], "ir.BooleanValue"]
_TIMESTAMP = ibis.dtype("timestamp")


@dataclass(frozen=True)
class RuleContext:
    """What a rule is compiled against.

    Attributes
    ----------
    base
        One row per ``customer_id`` with the customer attributes and traits.
    activity
        The activity table of a name (with ``customer_id`` and ``_time``, already cut at
        ``as_of``), or None when the store does not hold it.
    as_of
        The evaluation time (naive, UTC); relative windows count back from it.
    members
        The member table (a ``customer_id`` column) of another segment, evaluated earlier.
    fields
        Field name -> type (data-model or Ibis type name) of the attributes and traits a
        rule may use.
    passes
        Activity passes shared with other rules (a run's); None: the rule's own.
    """

    base: ir.Table
    activity: Callable[[str], ir.Table | None]
    as_of: datetime
    members: Callable[[str], ir.Table]
    fields: Mapping[str, str]
    passes: ActivityPasses | None = None


def compile_segment(rule: Rule, ctx: RuleContext, *, path: str = "rule") -> ir.Table:
    """The members of ``rule``: an Ibis table with one column ``customer_id``, distinct.

    Parameters
    ----------
    rule
        A parsed rule (see :func:`segmint.segments.parse_rule`).
    ctx
        The base table, activity tables, evaluation time and other segments' members.
    path
        Config path of the rule, used in error messages (``segments[3].rule``).

    Raises
    ------
    ConfigError
        When the rule names an unknown field, activity table or column, uses an op that
        does not fit a field's type, or gives a value of the wrong type.
    """
    compiler = _Compiler(ctx)
    validate_rule(rule, compiler.catalog(rule), path=path)
    predicate = compiler.predicate(rule)
    wide = compiler.wide_table()
    return wide.filter(predicate(wide)).select("customer_id").distinct()


RowTest = Callable[["ir.Table"], "ir.BooleanValue"]


@dataclass
class _Pass:
    """One grouped pass over an activity table: every measure of every condition on it.

    A measure is keyed by its condition's rows (``where`` and window, as JSON) and its
    aggregate; it is computed over those rows only (an aggregate ``FILTER``).
    """

    index: int
    table: ir.Table
    tests: dict[str, RowTest] = field(default_factory=dict)
    columns: dict[tuple[str, str, str | None], str] = field(default_factory=dict)
    kept: ir.Table | None = None

    def column(self, rows: str, test: RowTest, aggregate: str, of: str | None) -> str:
        key = (rows, aggregate, of)
        if key not in self.columns:
            if self.kept is not None:
                raise RuntimeError(  # pragma: no cover - evaluate registers every rule first
                    "activity measures were materialised before every rule was registered"
                )
            self.tests.setdefault(rows, test)
            self.columns[key] = f"_sm_p{self.index}_{len(self.columns)}"
        return self.columns[key]

    def aggregated(self) -> ir.Table:
        if self.kept is not None:
            return self.kept
        rows = self.table.filter(reduce(_or, (test(self.table) for test in self.tests.values())))
        metrics: dict[str, ir.Scalar] = {}
        for (key, aggregate, of), name in self.columns.items():
            where = self.tests[key](rows)
            if aggregate == "count":
                metrics[name] = rows.count(where=where)
            elif aggregate == "count_distinct":
                metrics[name] = rows[of].nunique(where=where)
            elif aggregate == "avg":
                metrics[name] = rows[of].mean(where=where)
            else:  # sum, min, max (also of _time, for first_time / last_time)
                metrics[name] = getattr(rows[of], aggregate)(where=where)
        return rows.group_by("customer_id").aggregate(**metrics)


class ActivityPasses:
    """The activity passes of several rules, shared and materialised once.

    Register every rule with :meth:`register`, then :meth:`keep` materialises one
    aggregated table per activity table; rules compiled afterwards with the same context
    read their measures from those tables.
    """

    def __init__(self) -> None:
        self.passes: dict[str, _Pass] = {}

    def register(self, rule: Rule, ctx: RuleContext, *, path: str = "rule") -> None:
        """Check ``rule`` and add its activity measures (raises as :func:`compile_segment`)."""
        compiler = _Compiler(ctx)
        validate_rule(rule, compiler.catalog(rule), path=path)
        compiler.predicate(rule)

    def keep(self, materialise: Callable[[ir.Table], ir.Table]) -> None:
        """Materialise each pass (``materialise`` writes an expression, returns the table)."""
        for p in self.passes.values():
            if p.kept is None and p.columns:
                p.kept = materialise(p.aggregated())


class _Compiler:
    def __init__(self, ctx: RuleContext) -> None:
        self.ctx = ctx
        self.as_of = ctx.as_of
        self.families = {k: type_family(v) for k, v in ctx.fields.items()}
        self._tables: dict[str, ir.Table | None] = {}
        self._fields: list[str] = []
        shared = ctx.passes
        self._passes = shared.passes if shared is not None else {}
        self._used: list[str] = []
        self._flags: dict[str, tuple[str, Callable[[], ir.Table]]] = {}

    # -- inputs ----------------------------------------------------------------------------
    def activity(self, name: str) -> ir.Table | None:
        if name not in self._tables:
            self._tables[name] = self.ctx.activity(name)
        return self._tables[name]

    def catalog(self, rule: Rule) -> RuleCatalog:
        names = {c.table for _, c in walk(rule) if isinstance(c, Performed | NotPerformed)}
        names |= {s.performed for _, c in walk(rule) if isinstance(c, Sequence) for s in c.sequence}
        activities: dict[str, Mapping[str, str]] = {}
        for name in sorted(names):
            t = self.activity(name)
            if t is not None:
                activities[name] = {col: str(dtype) for col, dtype in t.schema().items()}
        return RuleCatalog(fields=self.ctx.fields, activities=activities)

    # -- rule -> predicate over the wide table -------------------------------------------------
    def predicate(self, rule: Rule) -> Predicate:
        if isinstance(rule, FieldCondition):
            return self._field(rule)
        if isinstance(rule, Performed | NotPerformed):
            return self._activity(rule)
        if isinstance(rule, Sequence):
            return self._flag(f"seq:{rule.model_dump_json()}", lambda: self._sequence(rule))
        if isinstance(rule, InSegment):
            return self._flag(f"seg:{rule.in_segment}", lambda: self._members(rule.in_segment))
        if isinstance(rule, AllOf | AnyOf):
            parts = [
                self.predicate(c) for c in (rule.all_ if isinstance(rule, AllOf) else rule.any_)
            ]
            combine = _and if isinstance(rule, AllOf) else _or
            return lambda w: reduce(combine, (p(w) for p in parts))
        if isinstance(rule, Not):
            inner = self.predicate(rule.not_)
            return lambda w: ~inner(w)
        raise TypeError(f"not a rule: {rule!r}")  # pragma: no cover

    def _field(self, cond: FieldCondition) -> Predicate:
        if cond.field not in self._fields:
            self._fields.append(cond.field)
        family = self.families[cond.field]
        return lambda w: field_predicate(w[cond.field], cond, family, self.as_of)

    def _activity(self, cond: Performed | NotPerformed) -> Predicate:
        table = self.activity(cond.table)
        assert table is not None  # checked by validate_rule
        p = self._pass(cond.table)
        rows = _rows_key(cond.where, cond.window())
        test = self._test(cond.where, cond.window())

        def column(aggregate: str, of: str | None) -> str:
            return p.column(rows, test, aggregate, of)

        parts: list[Predicate] = []
        n = column("count", None)
        if cond.count is None:
            parts.append(lambda w: w[n].fill_null(0) >= 1)
        else:
            count = cond.count
            parts.append(lambda w: _compare(w[n].fill_null(0), count))
        for aggregate, m in cond.measures():
            col = column(aggregate, m.of)
            zero = aggregate in ("sum", "count_distinct")  # of no rows: 0, not missing
            parts.append(_measure(col, m, zero))
        for aggregate, t in (("min", cond.first_time), ("max", cond.last_time)):
            if t is not None:
                parts.append(self._time_measure(column(aggregate, "_time"), t))
        found: Predicate = lambda w: reduce(_and, (part(w) for part in parts))  # noqa: E731
        if isinstance(cond, NotPerformed):
            return lambda w: ~found(w)
        return found

    def _time_measure(self, col: str, t: TimeComparison) -> Predicate:
        bounds: list[tuple[str, datetime]] = []
        if t.before is not None:
            bounds.append(("<", self._moment(t.before)))
        if t.after is not None:
            bounds.append((">", self._moment(t.after)))
        if t.within_last is not None:
            bounds += [(">=", self.as_of - parse_duration(t.within_last)), ("<", self.as_of)]

        def pred(w: ir.Table) -> ir.BooleanValue:
            value = w[col]
            tests = [_OPS[op](value, ibis.literal(b, type="timestamp")) for op, b in bounds]
            return reduce(_and, tests).fill_null(False)

        return pred

    def _moment(self, value: date | str) -> datetime:
        if isinstance(value, str):
            return self.as_of - parse_duration(value)
        return _as_datetime(value)

    def _flag(self, key: str, members: Callable[[], ir.Table]) -> Predicate:
        # members are looked up when the wide table is built: a run registers every rule
        # before the segments it uses are evaluated
        if key not in self._flags:
            self._flags[key] = (f"_sm_f{len(self._flags)}", members)
        name = self._flags[key][0]
        return lambda w: w[name].fill_null(False)

    def _members(self, name: str) -> ir.Table:
        try:
            return self.ctx.members(name).select("customer_id")
        except KeyError:
            raise ConfigError(
                f"segment {name!r} has no members table; evaluate it before the segments "
                f"that use it"
            ) from None

    # -- activity ----------------------------------------------------------------------------
    def _pass(self, name: str) -> _Pass:
        if name not in self._passes:
            t = self.activity(name)
            assert t is not None  # checked by validate_rule
            if t._time.type() != _TIMESTAMP:  # a date, or another precision: one type for all
                t = t.mutate(_time=t._time.cast(_TIMESTAMP))
            self._passes[name] = _Pass(len(self._passes), t)
        if name not in self._used:
            self._used.append(name)
        return self._passes[name]

    def _test(self, where: list[FieldCondition], window: Window) -> RowTest:
        """The test of an activity row: matches ``where`` and lies in ``window``."""
        as_of = self.as_of

        def test(t: ir.Table) -> ir.BooleanValue:
            schema = t.schema()
            tests = [
                field_predicate(t[w.field], w, type_family(str(schema[w.field])), as_of)
                for w in where
            ]
            tests += _window_tests(t._time, window, as_of)
            return reduce(_and, tests)

        return test

    def _rows(self, name: str, where: list[FieldCondition], window: Window) -> ir.Table:
        """The activity rows of ``name`` matching ``where`` in ``window``; ``_time`` a timestamp."""
        t = self.activity(name)
        assert t is not None
        if t._time.type() != _TIMESTAMP:
            t = t.mutate(_time=t._time.cast(_TIMESTAMP))
        return t.filter(self._test(where, window)(t))

    def _sequence(self, cond: Sequence) -> ir.Table:
        """Customers with a chain of rows: each step strictly after the previous one, and
        at most ``within`` after it.

        For each row of step k, a running maximum over the customer's rows ordered by time
        finds the latest valid step k-1 row strictly before it (at equal times the step k
        rows sort first, so they never see a step k-1 row of the same instant).  Greedy is
        exact here: the latest earlier row is the closest, so if any fits the gap, it does.
        """
        window = cond.during or Window()
        steps = [self._step(s, window) for s in cond.sequence]
        gap = parse_duration(cond.within) if cond.within is not None else None
        valid = steps[0]
        for step in steps[1:]:
            u = valid.mutate(_sm_prev=ibis.literal(1, type="int8")).union(
                step.mutate(_sm_prev=ibis.literal(0, type="int8"))
            )
            over = ibis.cumulative_window(group_by=u.customer_id, order_by=[u._t, u._sm_prev])
            latest = ibis.cases((u._sm_prev == 1, u._t), else_=ibis.null("timestamp"))
            u = u.mutate(_sm_latest=latest.max().over(over))
            test = (u._sm_prev == 0) & u._sm_latest.notnull()
            if gap is not None:
                test &= u._sm_latest >= u._t - ibis.interval(days=gap.days)
            valid = u.filter(test).select("customer_id", "_t")
        return valid.select("customer_id")

    def _step(self, step: SequenceStep, window: Window) -> ir.Table:
        rows = self._rows(step.performed, step.where, window)
        return rows.select(customer_id=rows.customer_id, _t=rows._time)

    # -- the wide table -------------------------------------------------------------------------
    def wide_table(self) -> ir.Table:
        wide = self.ctx.base.select("customer_id", *self._fields)
        joins: list[ir.Table] = [self._passes[name].aggregated() for name in self._used]
        joins += [
            t().distinct().mutate(**{name: ibis.literal(True)}) for name, t in self._flags.values()
        ]
        for i, right in enumerate(joins):
            # a key name of its own: same-named keys would come back as customer_id_right
            key = f"_sm_k{i}"
            right = right.rename({key: "customer_id"})
            wide = wide.left_join(right, wide.customer_id == right[key])
        return wide


def _rows_key(where: list[FieldCondition], window: Window) -> str:
    return json.dumps(
        [[w.model_dump(mode="json") for w in where], window.model_dump(mode="json")],
        sort_keys=True,
    )


def field_predicate(
    col: ir.Value, cond: FieldCondition, family: str, as_of: datetime
) -> ir.BooleanValue:
    """``cond`` applied to ``col`` (of type family ``family``); false where it is null.

    Values enter as typed literals.  Durations (``within_last: 30d``, ``before: 90d``) count
    back from ``as_of``.
    """
    op = cond.op
    if op == "is_null":
        return col.isnull()
    if op == "not_null":
        return col.notnull()
    values = field_values(cond, family)
    if op == "within_last":
        ts = col.cast("timestamp") if col.type().is_date() else col
        lo = ibis.literal(as_of - values[0], type="timestamp")
        return ((ts >= lo) & (ts < ibis.literal(as_of, type="timestamp"))).fill_null(False)
    if family == "date":
        col, lits = _date_literals(col, values, as_of)
    else:
        lits = [_literal(v, family) for v in values]
    if op == "between":
        test = col.between(lits[0], lits[1])
    elif op == "in":
        test = col.isin(lits)
    elif op == "not_in":
        test = col.notin(lits)
    elif op == "contains":
        test = col.contains(lits[0])
    elif op == "starts_with":
        test = col.startswith(lits[0])
    else:
        test = _OPS[op](col, lits[0])
    return test.fill_null(False)


_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "before": lambda a, b: a < b,
    "after": lambda a, b: a > b,
}


def _literal(value: Any, family: str) -> ir.Scalar:
    if family == "text":
        return ibis.literal(value, type="string")
    if family == "boolean":
        return ibis.literal(value, type="boolean")
    if family == "number":
        return ibis.literal(value, type="int64" if isinstance(value, int) else "float64")
    return ibis.literal(value)


def _date_literals(
    col: ir.Value, values: list[Any], as_of: datetime
) -> tuple[ir.Value, list[ir.Scalar]]:
    """Compare dates as dates, unless a time is involved: then both sides as timestamps."""
    moments = [as_of - v if isinstance(v, timedelta) else v for v in values]
    if col.type().is_date() and all(not isinstance(m, datetime) for m in moments):
        return col, [ibis.literal(m, type="date") for m in moments]
    ts = col.cast("timestamp") if col.type().is_date() else col
    return ts, [ibis.literal(_as_datetime(m), type="timestamp") for m in moments]


def _window_tests(
    time: ir.TimestampValue, window: Window, as_of: datetime
) -> list[ir.BooleanValue]:
    """``lo <= _time < hi`` of the window, and always ``_time < as_of``."""
    lo: datetime | None = None
    hi = as_of
    if window.within is not None:
        lo = as_of - parse_duration(window.within)
    elif window.between is not None:
        lo = as_of - parse_duration(window.between[0])
        hi = as_of - parse_duration(window.between[1])
    else:
        if window.since is not None:
            lo = _as_datetime(window.since)
        if window.until is not None:
            hi = min(hi, _as_datetime(window.until))
    tests = [time < ibis.literal(hi, type="timestamp")]
    if lo is not None:
        tests.append(time >= ibis.literal(lo, type="timestamp"))
    return tests


def _measure(col: str, m: Comparison, zero: bool) -> Predicate:
    def pred(w: ir.Table) -> ir.BooleanValue:
        value = w[col].fill_null(0) if zero else w[col]
        return _compare(value, m).fill_null(False)

    return pred


def _compare(value: ir.NumericValue, c: Comparison) -> ir.BooleanValue:
    tests = []
    for op, v in c.comparisons():
        if op == "between":
            tests.append(value.between(_literal(v[0], "number"), _literal(v[1], "number")))
        else:
            tests.append(_OPS[op](value, _literal(v, "number")))
    return reduce(_and, tests)


def _and(a: ir.BooleanValue, b: ir.BooleanValue) -> ir.BooleanValue:
    return a & b


def _or(a: ir.BooleanValue, b: ir.BooleanValue) -> ir.BooleanValue:
    return a | b


def _as_datetime(value: date) -> datetime:
    return value if isinstance(value, datetime) else datetime(value.year, value.month, value.day)
