"""Activity tables: a customer's rows of one entity, keyed by person and cut at ``as_of``.

Every trait reads its data through :func:`activity`, so two rules hold everywhere: rows of
merged customer records count for the one person they belong to, and nothing at or after
``as_of`` is seen.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

import ibis

from segmint.datamodel import ENTITIES
from segmint.exceptions import UnknownTableError
from segmint.traits._catalogue import ACTIVITY_TIME

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from segmint.engine import Engine

IDENTITIES = "identities"
#: the key of the pinned merged ids in ``Engine.pinned``
_MERGED = "merged_ids"
#: data-model field type -> Ibis type
IBIS_TYPES: dict[str, str] = {
    "string": "string",
    "integer": "int64",
    "float": "float64",
    "date": "date",
    "timestamp": "timestamp",
    "boolean": "boolean",
}


def as_of_datetime(as_of: datetime | date) -> datetime:
    """``as_of`` as the naive UTC datetime every comparison uses (a date: its midnight)."""
    if isinstance(as_of, datetime):
        return as_of if as_of.tzinfo is None else as_of.astimezone(UTC).replace(tzinfo=None)
    return datetime(as_of.year, as_of.month, as_of.day)


def empty_table(schema: dict[str, str]) -> ir.Table:
    """A table with no rows and these columns (name -> Ibis type), on any engine."""
    return ibis.memtable(ibis.schema(schema).to_pyarrow().empty_table())


def resolve_as_of(as_of: datetime | date | None) -> datetime:
    """``as_of`` as a naive UTC datetime; None is now (the default of a run)."""
    if as_of is None:
        return datetime.now(UTC).replace(tzinfo=None)
    return as_of_datetime(as_of)


def person_map(engine: Engine) -> ir.Table:
    """``(customer_id, person_id)`` for every known customer_id.

    Parameters
    ----------
    engine
        The store.  Its ``identities`` table (from identity resolution) is used when it
        exists; otherwise every customer_id of ``customers`` is its own person.

    Returns
    -------
    ibis.Table
        One row per customer_id, both columns strings.
    """
    if engine.has_table(IDENTITIES):
        ids = engine.table(IDENTITIES)
        return ids.select(
            customer_id=ids.customer_id.cast("string"), person_id=ids.person_id.cast("string")
        )
    if engine.has_table("customers"):
        customers = engine.table("customers")
        cid = customers.customer_id.cast("string")
        return customers.select(customer_id=cid, person_id=cid).distinct()
    return empty_table({"customer_id": "string", "person_id": "string"})


def merged_ids(engine: Engine) -> ir.Table:
    """``(customer_id, person_id)`` of the customer_ids that belong to another person id.

    Every other customer_id is its own person, so joining rows with just these (a few
    percent of the ids) and falling back to the row's own id gives the same person ids as
    the whole map, with a far smaller hash table to probe for millions of rows.
    """
    pinned = engine.pinned.get(_MERGED)
    if pinned is not None:
        return pinned
    persons = person_map(engine)
    return persons.filter(persons.customer_id != persons.person_id)


@contextlib.contextmanager
def pinned_identities(engine: Engine, keep: Callable[[ir.Table], ir.Table]) -> Iterator[None]:
    """Read the identity map once for a whole evaluation.

    Until the block ends, :func:`merged_ids` returns the work table ``keep`` makes of it.
    A run at a million customers reads it in some 15 passes, each of which scanned the
    million identities again (about 0.02 s each); and one map for the whole evaluation
    means an identity resolution that lands meanwhile cannot give its passes different
    persons.  Nested blocks keep the outer table.
    """
    if _MERGED in engine.pinned:
        yield
        return
    engine.pinned[_MERGED] = keep(merged_ids(engine))
    try:
        yield
    finally:
        engine.pinned.pop(_MERGED, None)


def only_records(table: ir.Table, records: ir.Table) -> ir.Table:
    """Rows of ``table`` whose customer_id is one of ``records.customer_id``."""
    ids = records.select(_rid=records.customer_id.cast("string"))
    return table.semi_join(ids, table.customer_id.cast("string") == ids._rid)


def activity(
    engine: Engine,
    name: str,
    as_of: datetime | date | None,
    *,
    restrict: ir.Table | None = None,
) -> ir.Table | None:
    """Rows of an activity table by person, with ``_time``, before ``as_of``.

    Parameters
    ----------
    engine
        The store.
    name
        transactions, events, subscriptions, survey_responses, consents,
        campaign_contacts or deals.
    as_of
        Keep only rows with ``_time < as_of`` (a date means its midnight); None keeps all.
    restrict
        Keep only rows whose stored customer_id is in this table's ``customer_id`` column
        (the records of the persons an incremental run recomputes); None keeps all.

    Returns
    -------
    ibis.Table or None
        The stored table with ``customer_id`` replaced by the person id (a customer_id
        unknown to identity resolution is its own person), every data-model field (null
        where the store lacks it) and ``_time`` (timestamp) added from the table's time
        column; None when the store has no such table.
    """
    if name not in ACTIVITY_TIME:
        raise UnknownTableError(
            f"{name!r} is not an activity table: use one of {', '.join(ACTIVITY_TIME)}"
        )
    if not engine.has_table(name):
        return None
    table = engine.table(name)
    missing = {
        f.name: ibis.null().cast(IBIS_TYPES[f.type])
        for f in ENTITIES[name].fields
        if f.name not in table.columns
    }
    if missing:  # a field no loaded file had: null, so every trait can refer to it
        table = table.mutate(**missing)
    time = table[ACTIVITY_TIME[name]].cast("timestamp")
    if as_of is not None:
        table = table.filter(time < ibis.literal(as_of_datetime(as_of)))
    if restrict is not None:
        table = only_records(table, restrict)
    persons = merged_ids(engine)
    persons = persons.select(_cid=persons.customer_id, _pid=persons.person_id)
    cid = table.customer_id.cast("string")
    joined = table.left_join(persons, cid == persons._cid)
    return joined.mutate(
        customer_id=ibis.coalesce(joined._pid, joined.customer_id.cast("string")),
        _time=joined[ACTIVITY_TIME[name]].cast("timestamp"),
    ).drop("_cid", "_pid")
