"""The customer base: one row per person with its attributes and every trait, as of a date.

It is one Ibis expression: the merged attributes, left-joined with one aggregate per
activity table (built-in and declared traits of that table together) and the few ranked
queries (most frequent category, latest consents, latest NPS).  Nothing at or after
``as_of`` is read, so evaluating a past date gives what a run on that date would have.

It is built in two steps.  :func:`raw_base` holds everything read from the rows; there
``as_of`` only decides which rows count (the cut, the windows, an open subscription, a
deal closed in the year), never a value.  :func:`complete_base` then adds what follows from
``as_of`` alone (days since the last order or deal, tenure, age, existence, the empty
values).  An incremental run (``segmint.traits._incremental``) keeps the raw table of the
previous run and recomputes it only for the persons whose rows changed or crossed a window
boundary, with the same :func:`raw_base` restricted to them.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import ibis

from segmint.traits._activity import activity, resolve_as_of
from segmint.traits._attributes import attribute_fields, customer_attributes
from segmint.traits._builtin import (
    AGGREGATES,
    LAST_DEAL,
    QUARTER_OPENS,
    QUARTER_SENDS,
    days_between,
    latest_consents,
    latest_nps,
    one_line_per_order,
    ratio,
    top_value,
)
from segmint.traits._catalogue import ACTIVITY_TABLES, BUILTIN_TRAITS
from segmint.traits._config import TraitsConfig
from segmint.traits._declared import (
    DAYS_SINCE,
    EMPTY_VALUES,
    RESULT_TYPES,
    declared_aggregate,
    stamp_name,
)

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from segmint.engine import Engine

#: catalogue type -> Ibis type of the column (``date`` traits are timestamps)
_TYPES = {
    "integer": "int64",
    "number": "float64",
    "string": "string",
    "boolean": "boolean",
    "date": "timestamp",
}
_EMPTY: dict[str, Any] = {"0": 0, "false": False}
#: derived trait -> the aggregated columns it is computed from (see :func:`_derived`)
_DERIVED_FROM: dict[str, tuple[str, ...]] = {
    "recency_days": ("last_purchase",),
    "last_deal_days": (LAST_DEAL,),
    "open_rate_90d": (QUARTER_OPENS, QUARTER_SENDS),
    "spend_share_top_category": ("top_category_spend", "monetary"),
    "tenure_days": ("signup_date", "first_purchase"),
    "age": ("birth_date",),
}


def _join_all(base: ir.Table, parts: list[ir.Table]) -> ir.Table:
    """``base`` left-joined with every part on customer_id, as one join chain."""
    joined = base
    for i, part in enumerate(parts):
        part = part.rename(**{f"_k{i}": "customer_id"})
        joined = joined.left_join(part, base.customer_id == part[f"_k{i}"])
    return joined.select([c for c in joined.columns if not c.startswith("_k")])


def customer_base(
    engine: Engine,
    traits_config: TraitsConfig | None = None,
    as_of: datetime | date | None = None,
    *,
    only: Collection[str] | None = None,
) -> ir.Table:
    """Every person existing at ``as_of`` with attributes, built-in and declared traits.

    Parameters
    ----------
    engine
        The store.
    traits_config
        Declared traits and built-in settings; None: built-in traits only.
    as_of
        Evaluation time (naive UTC; a date means its midnight): only rows before it are
        read.  None: now.
    only
        Compute just the passes that yield these traits (for a preview that reads a few
        fields); every other trait column is there but empty.  The purchase aggregate
        (which decides who exists) is always computed.  None: every trait.

    Returns
    -------
    ibis.Table
        ``customer_id`` (the person id), the customer attributes (merged across the
        person's records), the built-in traits in catalogue order, then the declared
        traits.  A person exists at ``as_of`` when a record has a signup_date before it,
        when it ordered before it, or when none of its records has a signup_date.

    Raises
    ------
    ConfigError
        A declared trait names a column its table does not have, or one of the wrong type.
    """
    config = traits_config or TraitsConfig()
    cut = resolve_as_of(as_of)
    return complete_base(raw_base(engine, config, cut, only=only), config, cut)


def raw_base(
    engine: Engine,
    config: TraitsConfig,
    cut: datetime,
    *,
    only: Collection[str] | None = None,
    restrict: ir.Table | None = None,
    keep: Callable[[ir.Table], ir.Table] | None = None,
) -> ir.Table:
    """The attributes and aggregates of every person, before :func:`complete_base`.

    ``restrict``: a table of ``customer_id`` values (record ids); only the persons of those
    records are computed, from all their records and rows (every record of a person must
    be in it).  Persons who do not exist at ``cut`` are kept: existence is decided later.
    ``keep``: materialise each restricted activity table once (several passes read it).
    """
    wanted = None if only is None else _with_inputs(only, config)
    base = customer_attributes(engine, wanted, restrict=restrict)
    one_line = one_line_per_order(engine)
    parts: list[ir.Table] = []
    for table in ACTIVITY_TABLES:
        t = activity(engine, table, cut, restrict=restrict)
        if t is None:
            continue
        mine = _table_parts(t, table, config, cut, one_line=one_line, wanted=wanted)
        if restrict is not None and keep is not None and mine:
            # the few persons' rows once, with only the columns the passes read: a scan of
            # every column of millions of rows costs more than the passes themselves
            t = keep(t.select(*read_columns(t, mine)))
            mine = _table_parts(t, table, config, cut, one_line=one_line, wanted=wanted)
        parts.extend(mine)
    return _join_all(base, parts)


def _table_parts(
    t: ir.Table,
    table: str,
    config: TraitsConfig,
    cut: datetime,
    *,
    one_line: bool,
    wanted: set[str] | None,
) -> list[ir.Table]:
    """The per-person tables (``customer_id`` and trait columns) of activity table
    ``table`` (rows ``t``): its grouped aggregate and its ranked queries."""
    parts: list[ir.Table] = []
    aggs = table_aggregates(t, table, config, cut, one_line=one_line)
    if aggs and (table == "transactions" or wanted is None or wanted & set(aggs)):
        parts.append(t.group_by("customer_id").agg(**aggs))
    for part in _ranked(table, t, one_line=one_line):
        if wanted is None or wanted & set(part.columns):
            parts.append(part)
    return parts


def read_columns(t: ir.Table, exprs: list[ir.Table]) -> list[str]:
    """The columns of ``t`` that ``exprs`` (built on ``t``) may read, in ``t``'s order.

    Every column name the expressions refer to outside ``t`` itself counts, whichever
    relation it is read from: a superset of what they read, so projecting ``t`` to these
    columns never changes their result.
    """
    import ibis.expr.operations as ops

    root = t.op()
    names: set[str] = set()
    for expr in exprs:
        found = expr.op().find(ops.Field, filter=lambda node: node != root)
        names.update(str(f.name) for f in found)
    return [c for c in t.columns if c in names or c == "customer_id"]


def table_aggregates(
    t: ir.Table, table: str, config: TraitsConfig, cut: datetime, *, one_line: bool
) -> dict[str, ir.Value]:
    """The reductions per person of activity table ``table`` (rows ``t``): its built-in
    traits and the declared traits on it (a days-since trait as its hidden time)."""
    aggs: dict[str, ir.Value] = {}
    if table in AGGREGATES:
        aggs.update(AGGREGATES[table](t, cut, config.windows, one_line))
    for i, d in enumerate(config.declared):
        if d.source == table:
            stamp = d.aggregate in DAYS_SINCE
            name = stamp_name(d.name) if stamp else d.name
            aggs[name] = declared_aggregate(t, d, cut, f"traits[{i}]", stamp=stamp)
    return aggs


def complete_base(raw: ir.Table, config: TraitsConfig, cut: datetime) -> ir.Table:
    """The customer base from :func:`raw_base`'s table: the traits that follow from
    ``cut`` alone, existence at ``cut``, empty values, types and column order."""
    return _finish(_derived(raw, config, cut), config, cut)


def _with_inputs(names: Collection[str], config: TraitsConfig) -> set[str]:
    """``names`` plus the aggregated columns their derived traits are computed from."""
    out = set(names)
    for name in names:
        out.update(_DERIVED_FROM.get(name, ()))
    out.update(stamp_name(d.name) for d in config.declared if d.name in out)
    return out


def _ranked(table: str, t: ir.Table, *, one_line: bool) -> list[ir.Table]:
    if table == "transactions":
        return [
            top_value(
                t,
                "category",
                "top_category",
                spend=True,
                one_line=one_line,
                distinct="distinct_categories",
            ),
            top_value(
                t,
                "channel",
                "top_channel",
                spend=True,
                one_line=one_line,
                distinct="distinct_channels",
            ),
        ]
    if table == "events":
        return [
            top_value(t, "device", "top_device", spend=False),
            top_value(t, "source", "top_source", spend=False),
        ]
    if table == "consents":
        return [latest_consents(t)]
    if table == "survey_responses":
        return [latest_nps(t)]
    return []


def _derived(base: ir.Table, config: TraitsConfig, as_of: datetime) -> ir.Table:
    """Traits computed from other columns: recency, days since the last deal, tenure, age,
    top-category share, declared days-since traits."""
    cols = set(base.columns)
    first = base.first_purchase if "first_purchase" in cols else ibis.null().cast("timestamp")
    signup = base.signup_date.cast("timestamp")
    start = ibis.ifelse(signup < ibis.literal(as_of), signup, first)
    born = base.birth_date
    before_birthday = (born.month() > as_of.month) | (
        (born.month() == as_of.month) & (born.day() > as_of.day)
    )
    age = as_of.year - born.year() - before_birthday.cast("int64")
    out: dict[str, ir.Value] = {
        "tenure_days": days_between(start, as_of),
        "age": ibis.ifelse(born.cast("timestamp") < ibis.literal(as_of), age, ibis.null()),
    }
    if "top_category_spend" in cols:
        out["spend_share_top_category"] = ratio(base.top_category_spend, base.monetary)
    if "last_purchase" in cols:
        out["recency_days"] = days_between(base.last_purchase, as_of)
    if LAST_DEAL in cols:
        out["last_deal_days"] = days_between(base[LAST_DEAL], as_of)
    if QUARTER_OPENS in cols:
        out["open_rate_90d"] = base[QUARTER_OPENS] / base[QUARTER_SENDS].nullif(0)
    for d in config.declared:
        if stamp_name(d.name) in cols:
            out[d.name] = days_between(base[stamp_name(d.name)], as_of)
    return base.mutate(**out)


def _finish(base: ir.Table, config: TraitsConfig, as_of: datetime) -> ir.Table:
    """Existence at ``as_of``, empty values (0 / false), column types and order."""
    cols = set(base.columns)
    first = base.first_purchase if "first_purchase" in cols else ibis.null().cast("timestamp")
    exists = (
        base._first_signup.isnull()
        | (base._first_signup.cast("timestamp") < ibis.literal(as_of))
        | first.notnull()
    )
    base = base.filter(exists)
    out: dict[str, ir.Value] = {"customer_id": base.customer_id}
    out.update({name: base[name] for name in attribute_fields()})
    for trait in BUILTIN_TRAITS:
        for name in trait.names(config.windows):
            out[name] = _value(base, name, _TYPES[trait.type], _EMPTY.get(trait.empty))
    for d in config.declared:
        out[d.name] = _value(
            base, d.name, RESULT_TYPES.get(d.aggregate), EMPTY_VALUES.get(d.aggregate)
        )
    return base.select(**out)


def _value(base: ir.Table, name: str, dtype: str | None, empty: Any) -> ir.Value:
    if name not in base.columns:
        value: ir.Value = ibis.null().cast(dtype or "float64")
    else:
        value = base[name]
        if dtype is not None:
            value = value.cast(dtype)
    return value.fill_null(empty) if empty is not None else value
