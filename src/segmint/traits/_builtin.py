"""Built-in traits as Ibis expressions: one aggregate per activity table and person.

Each ``*_aggregates`` function returns named reductions over one activity table; the
customer base adds the declared traits of the same table and runs them all in a single
``group_by``.  What cannot be one reduction per person is one extra query each: the most
frequent category or channel groups by person and value, then by person again, picking a
value with ``argmin`` over a key that orders every candidate; the latest consent per
channel and the latest NPS are ranked queries.  Ties are broken by explicit columns so
every engine picks the same row.  Everything is portable to Spark: no ``mode``, no ordered
``first`` (``argmin`` is ``min_by`` there), no approximate functions.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

import ibis
import ibis.expr.datatypes as dt

from segmint.traits._activity import activity, empty_table, resolve_as_of
from segmint.traits._config import parse_duration

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    import ibis.expr.types as ir

    from segmint.engine import Engine

    Aggregates = dict[str, ir.Value]

#: event type counted by each windowed engagement trait
ENGAGEMENT_EVENTS: dict[str, str] = {
    "email_sends": "email_send",
    "email_opens": "email_open",
    "email_clicks": "email_click",
    "web_visits": "web_visit",
    "service_tickets": "service_ticket",
}
CONSENT_CHANNELS: tuple[str, ...] = ("email", "sms", "profiling")
_YEAR = timedelta(days=365)
_QUARTER = timedelta(days=90)
#: the hidden aggregate ``last_deal_days`` is counted from (the customer base adds the days)
LAST_DEAL = "_last_deal"
#: the hidden 90-day counts ``open_rate_90d`` is the ratio of (the customer base divides)
QUARTER_OPENS, QUARTER_SENDS = "_opens_90d", "_sends_90d"


#: the type float columns are summed in (see :func:`exact_sum`)
EXACT_SUM_TYPE = dt.Decimal(38, 10)


def exact_sum(col: ir.NumericColumn, where: ir.BooleanValue | None = None) -> ir.NumericValue:
    """The sum of ``col`` (where ``where`` holds), the same whatever order rows are added in.

    Floating-point addition is not associative: an engine adding a person's rows in
    another order (more threads, or an incremental run recomputing the person from its
    rows alone) can differ in the last bit, enough to move a customer across a rule's
    threshold (``monetary >= 10000``) and back on the next run.  Float columns are summed
    as decimals with 10 places (exact up to 10^28; values are rounded to 10 places first);
    the customer base turns the sum into the trait's float type at the end, so an
    incremental run can also add and subtract such sums exactly.  Integer sums are exact.
    """
    if col.type().is_floating():
        return col.cast(EXACT_SUM_TYPE).sum(where=where)
    return col.sum(where=where)


def exact_mean(col: ir.NumericColumn, where: ir.BooleanValue | None = None) -> ir.NumericValue:
    """The mean of the non-null values of ``col``, from :func:`exact_sum`."""
    if col.type().is_floating():
        return ratio(exact_sum(col, where), col.count(where=where))
    return col.mean(where=where)


def ratio(num: ir.NumericValue, den: ir.NumericValue) -> ir.FloatingValue:
    """``num / den`` as a float, null when ``den`` is 0.

    Both sides become floats first: Spark divides decimals to 6 places only (its rule for
    precision loss), DuckDB to full precision; the float of an exact decimal sum is the same
    on both, and so is its quotient.
    """
    return num.cast("float64") / den.cast("float64").nullif(0)


def days_between(earlier: ir.Value, as_of: datetime) -> ir.IntegerValue:
    """Calendar days from the date of ``earlier`` to the date of ``as_of``."""
    return ibis.literal(as_of.date()).delta(earlier.cast("date"), unit="day")


def _since(t: ir.Table, as_of: datetime, window: timedelta) -> ir.BooleanValue:
    return t._time >= ibis.literal(as_of - window)


def one_line_per_order(engine: Engine) -> bool:
    """Whether every stored transaction is line 1 of its order.

    The store keys transactions by ``(order_id, line_no)``, so then ``order_id`` is unique
    and counting orders needs no ``DISTINCT``: one cheap scan that saves a distinct count
    per person (and per person and category) on every run.  Exports with one row per order
    (line_no absent, so 1 by default) are the common case; with order lines, orders are
    counted distinctly as before.
    """
    if not engine.has_table("transactions"):
        return True
    t = engine.table("transactions")
    if "line_no" not in t.columns:
        return False
    other = t.filter(t.line_no.isnull() | (t.line_no != 1)).limit(1)
    return int(other.count().execute()) == 0


def order_count(
    t: ir.Table, *, one_line: bool, where: ir.BooleanValue | None = None
) -> ir.IntegerValue:
    """Distinct orders among the rows of ``t`` (where ``where`` holds)."""
    if one_line:
        return t.order_id.count(where=where)
    return t.order_id.nunique(where=where)


def transaction_aggregates(
    t: ir.Table, as_of: datetime, windows: Sequence[str], *, one_line: bool = False
) -> Aggregates:
    """Purchase traits: frequency, monetary, first/last, windows (recency follows from
    ``last_purchase`` and ``as_of`` in the customer base).

    ``one_line``: every row is a whole order (see :func:`one_line_per_order`).
    """
    orders = order_count(t, one_line=one_line)
    first = t._time.min()
    last = t._time.max()
    spend = exact_sum(t.amount)
    aggs: Aggregates = {
        "frequency": orders,
        "monetary": spend,
        "avg_order_value": spend / orders.nullif(0),
        "first_purchase": first,
        "last_purchase": last,
        "mean_interpurchase_days": (
            last.cast("date").delta(first.cast("date"), unit="day") / (orders - 1).nullif(0)
        ),
    }
    for w in windows:
        recent = _since(t, as_of, parse_duration(w))
        aggs[f"orders_{w}"] = order_count(t, one_line=one_line, where=recent)
        aggs[f"spend_{w}"] = exact_sum(t.amount, where=recent)
    return aggs


def event_aggregates(t: ir.Table, as_of: datetime, windows: Sequence[str]) -> Aggregates:
    """Engagement traits: email sends/opens/clicks, web visits, service tickets, and the
    90-day opens and sends ``open_rate_90d`` is computed from (:data:`QUARTER_OPENS`)."""
    aggs: Aggregates = {}
    for w in windows:
        recent = _since(t, as_of, parse_duration(w))
        for name, event_type in ENGAGEMENT_EVENTS.items():
            aggs[f"{name}_{w}"] = t.count(where=recent & (t.event_type == event_type))
    quarter = _since(t, as_of, _QUARTER)
    aggs[QUARTER_OPENS] = t.count(where=quarter & (t.event_type == "email_open"))
    aggs[QUARTER_SENDS] = t.count(where=quarter & (t.event_type == "email_send"))
    return aggs


def subscription_aggregates(t: ir.Table, as_of: datetime) -> Aggregates:
    """Whether a subscription is active at ``as_of`` (started before, not ended), and its amount."""
    active = t.end_date.isnull() | (t.end_date.cast("timestamp") > ibis.literal(as_of))
    return {
        "subscription_active": t.count(where=active) > 0,
        "subscription_monthly_amount": exact_sum(t.monthly_amount, where=active),
    }


def deal_aggregates(t: ir.Table, as_of: datetime) -> Aggregates:
    """Deals won and lost in the last year (by closed_date), the latest deal's time
    (:data:`LAST_DEAL`; the customer base turns it into ``last_deal_days``)."""
    closed = t.closed_date.cast("timestamp")
    in_year = (
        closed.notnull() & (closed >= ibis.literal(as_of - _YEAR)) & (closed < ibis.literal(as_of))
    )
    return {
        "deals_won_365d": t.count(where=in_year & (t.stage == "won")),
        "deals_lost_365d": t.count(where=in_year & (t.stage == "lost")),
        LAST_DEAL: t._time.max(),
    }


def windowed(
    table: str, windows: Sequence[str], *, one_line: bool
) -> dict[str, tuple[set[timedelta], bool]]:
    """The aggregates of ``table`` whose window starts or ends before ``as_of``: name ->
    (how far before ``as_of`` its boundaries are, whether it is additive: a count or a sum,
    so moving the window changes it by the rows that entered minus those that left).

    An incremental run relies on this list: every windowed reduction below must be in it.
    """
    if table == "transactions":
        out: dict[str, tuple[set[timedelta], bool]] = {}
        for w in windows:
            out[f"orders_{w}"] = ({parse_duration(w)}, one_line)  # else a distinct count
            out[f"spend_{w}"] = ({parse_duration(w)}, True)
        return out
    if table == "events":
        out = {
            f"{name}_{w}": ({parse_duration(w)}, True)
            for w in windows
            for name in ENGAGEMENT_EVENTS
        }
        return out | {QUARTER_OPENS: ({_QUARTER}, True), QUARTER_SENDS: ({_QUARTER}, True)}
    if table == "deals":
        return {"deals_won_365d": ({_YEAR}, True), "deals_lost_365d": ({_YEAR}, True)}
    return {}


#: activity table -> its built-in reductions (table, as_of, windows, one_line)
AGGREGATES: dict[str, Callable[[ir.Table, datetime, Sequence[str], bool], Aggregates]] = {
    "transactions": lambda t, as_of, w, one: transaction_aggregates(t, as_of, w, one_line=one),
    "events": lambda t, as_of, w, _one: event_aggregates(t, as_of, w),
    "subscriptions": lambda t, as_of, _w, _one: subscription_aggregates(t, as_of),
    "deals": lambda t, as_of, _w, _one: deal_aggregates(t, as_of),
}


def _tiebreak(t: ir.Table) -> list[ir.Value]:
    """Columns that make 'the latest row' unique: the row key, then the source row."""
    return [ibis.desc(t[c]) for c in ("_key", "_row") if c in t.columns]


def top_value(
    t: ir.Table,
    key: str,
    name: str,
    *,
    spend: bool,
    one_line: bool = False,
    distinct: str | None = None,
) -> ir.Table:
    """The most frequent non-null ``key`` per person: ``(customer_id, name[, name_spend])``.

    Frequency counts orders (distinct order_id; ``one_line``: every row is an order) when
    ``spend`` is set, else rows.  Ties go to the higher spend (``spend`` only; a null spend,
    where every amount is null, comes last), then to the value first in alphabetical order.
    ``distinct`` also returns, under that name, the number of distinct non-null values of
    ``key`` per person.

    The counts per person and value are grouped again by person, taking the ``argmin`` of a
    struct that orders the winner first (``min_by`` on Spark): a second hash aggregation
    instead of a window that sorted each person's values, in two thirds of the window's
    time on 2.5 million (person, category) pairs.  No field of the struct is null, as
    engines order a null inside a struct differently (DuckDB last, Spark first).
    """
    rows = t.filter(t[key].notnull())
    if spend:
        groups = rows.group_by(["customer_id", key]).agg(
            _n=order_count(rows, one_line=one_line), _spend=exact_sum(rows.amount)
        )
        # a known spend breaks a tie on orders before a null one: in the same field as the
        # orders, as one field fewer makes the pick about a tenth faster on DuckDB
        known = groups._spend.notnull().cast("int64")
        order = ibis.struct(
            {"n": -(2 * groups._n + known), "spend": -groups._spend.coalesce(0), "key": groups[key]}
        )
        pick = ibis.struct({"key": groups[key], "spend": groups._spend})
    else:
        groups = rows.group_by(["customer_id", key]).agg(_n=rows.count())
        order = ibis.struct({"n": -groups._n, "key": groups[key]})
        pick = ibis.struct({"key": groups[key]})
    aggs: dict[str, ir.Value] = {"_top": pick.argmin(order)}
    if distinct is not None:
        aggs[distinct] = groups.count()
    top = groups.group_by("customer_id").agg(**aggs)
    out = {"customer_id": top.customer_id, name: top._top["key"].cast("string")}
    if spend:
        out[f"{name}_spend"] = top._top["spend"]
    if distinct is not None:
        out[distinct] = top[distinct]
    return top.select(**out)


def latest_consents(t: ir.Table) -> ir.Table:
    """Per person, the latest consent record of each channel as ``consent_<channel>``.

    Two records at the same time: the withdrawal wins (we never assume permission).
    """
    order = [ibis.desc(t._time), t.granted.cast("int8"), *_tiebreak(t)]
    ranked = t.mutate(
        _r=ibis.row_number().over(group_by=[t.customer_id, t.channel], order_by=order)
    )
    latest = ranked.filter(ranked._r == 0)
    granted = latest.granted.cast("int8")
    return latest.group_by("customer_id").agg(
        **{
            f"consent_{c}": granted.max(where=latest.channel == c).cast("boolean")
            for c in CONSENT_CHANNELS
        }
    )


def _latest(t: ir.Table) -> ir.Table:
    order = [ibis.desc(t._time), *_tiebreak(t)]
    ranked = t.mutate(_r=ibis.row_number().over(group_by=t.customer_id, order_by=order))
    return ranked.filter(ranked._r == 0).drop("_r")


def latest_nps(t: ir.Table) -> ir.Table:
    """``(customer_id, nps_last)``: the NPS of each person's latest response that has one."""
    latest = _latest(t.filter(t.nps.notnull()))
    return latest.select("customer_id", nps_last=latest.nps.cast("int64"))


def category_spend(engine: Engine, as_of: datetime | date | None = None) -> ir.Table:
    """Spend per person and category, and its share of the person's total spend.

    Parameters
    ----------
    engine
        The store.
    as_of
        Only orders before it count; None: now.

    Returns
    -------
    ibis.Table
        ``(customer_id, category, spend, share)``, one row per person and non-empty
        category; ``share`` is spend / all the person's spend (lines without a category
        included), null when that total is 0.
    """
    t = activity(engine, "transactions", resolve_as_of(as_of))
    if t is None:
        schema = {
            "customer_id": "string",
            "category": "string",
            "spend": "float64",
            "share": "float64",
        }
        return empty_table(schema)
    # exact sums: the same spend and share whatever order the engine adds the lines in
    groups = t.group_by(["customer_id", "category"]).agg(spend=exact_sum(t.amount))
    total = exact_sum(groups.spend).over(group_by=groups.customer_id)
    shares = groups.mutate(share=ratio(groups.spend, total))
    shares = shares.filter(shares.category.notnull())
    return shares.select(
        customer_id=shares.customer_id,
        category=shares.category.cast("string"),
        spend=shares.spend.cast("float64"),
        share=shares.share.cast("float64"),
    )


def survey_answers(engine: Engine, as_of: datetime | date | None = None) -> ir.Table | None:
    """Each person's latest survey response before ``as_of``, with all answer columns.

    Parameters
    ----------
    engine
        The store.
    as_of
        Only responses before it count; None: now.

    Returns
    -------
    ibis.Table or None
        ``customer_id`` (the person id), the response's fields and every extra (answer)
        column; None when the store has no survey responses.
    """
    t = activity(engine, "survey_responses", resolve_as_of(as_of))
    if t is None:
        return None
    latest = _latest(t)
    hidden = {"_key", "_source", "_loaded_at", "_row", "_time"}
    return latest.select([c for c in latest.columns if c not in hidden])
