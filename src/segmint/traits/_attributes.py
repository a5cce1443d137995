"""Customer attributes merged per person: one value per column from that person's records.

A person's records (one per source and customer_id) are ranked once: the canonical record
(its customer_id is the person id) first, then the most recently loaded, then by
customer_id, source and row so the order is total and the same on every engine.  Each
column takes its value from the best-ranked record where it is not null.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import TYPE_CHECKING

import ibis

from segmint.traits._activity import IBIS_TYPES, empty_table, merged_ids, only_records

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from segmint.engine import Engine

_EPOCH = datetime(1970, 1, 1)


def attribute_fields() -> dict[str, str]:
    """Attribute name -> Ibis type, in data-model order (customer_id excluded)."""
    from segmint.datamodel import ENTITIES

    return {
        f.name: IBIS_TYPES[f.type] for f in ENTITIES["customers"].fields if f.name != "customer_id"
    }


def _order(records: ir.Table, columns: set[str]) -> list[ir.Value]:
    """The ranking of a person's records: canonical, latest loaded, customer_id, source, row."""
    cid = records.customer_id.cast("string")
    order: list[ir.Value] = [ibis.desc((cid == records._person).cast("int8"))]
    if "_loaded_at" in columns:
        order.append(ibis.desc(records._loaded_at.cast("timestamp").fill_null(_EPOCH)))
    order.append(cid)
    if "_source" in columns:
        order.append(records._source.cast("string").fill_null(""))
    if "_row" in columns:
        order.append(records._row.cast("int64").fill_null(0))
    return order


def customer_attributes(
    engine: Engine, only: Collection[str] | None = None, *, restrict: ir.Table | None = None
) -> ir.Table:
    """One row per person with every customer attribute merged across its records.

    Parameters
    ----------
    engine
        The store; its ``customers`` table (and ``identities`` when resolved).

    Returns
    -------
    ibis.Table
        ``customer_id`` (the person id), the attributes of the data model (a field the
        store lacks is null) and ``_first_signup``: the earliest signup_date of any of
        the person's records.  Empty when the store has no customers.  ``only``: merge
        just these attributes (and signup for ``_first_signup``); the others are null.
        ``restrict``: only the records whose customer_id is in this table's
        ``customer_id`` (all records of the persons wanted).
    """
    fields = attribute_fields()
    if not engine.has_table("customers"):
        schema = {"customer_id": "string", **fields, "_first_signup": "date"}
        return empty_table(schema)
    customers = engine.table("customers")
    if restrict is not None:
        customers = only_records(customers, restrict)
    persons = merged_ids(engine)
    persons = persons.select(_cid=persons.customer_id, _pid=persons.person_id)
    cid = customers.customer_id.cast("string")
    records = customers.left_join(persons, cid == persons._cid)
    records = records.mutate(
        _person=ibis.coalesce(records._pid, records.customer_id.cast("string"))
    )
    columns = set(customers.columns)
    sizes = records.group_by("_person").agg(_records=records.count())
    several = sizes.filter(sizes._records > 1).select("_person")
    alone = records.anti_join(several, "_person")
    shared = records.semi_join(several, "_person")
    ranked = shared.mutate(
        _rank=ibis.row_number().over(group_by=shared._person, order_by=_order(shared, columns))
    )
    aggs: dict[str, ir.Value] = {}
    direct: dict[str, ir.Value] = {"customer_id": alone._person}
    for name, dtype in fields.items():
        if name in columns and (only is None or name in only):
            col = ranked[name].cast(dtype)
            aggs[name] = col.argmin(ranked._rank, where=col.notnull())
            direct[name] = alone[name].cast(dtype)
    if "signup_date" in columns:
        aggs["_first_signup"] = ranked.signup_date.cast("date").min()
        direct["_first_signup"] = alone.signup_date.cast("date")
    merged = ranked.group_by(customer_id=ranked._person).agg(**aggs).union(alone.select(**direct))
    missing = {
        name: ibis.null().cast(dtype)
        for name, dtype in {**fields, "_first_signup": "date"}.items()
        if name not in aggs
    }
    if missing:
        merged = merged.mutate(**missing)
    return merged.select("customer_id", *fields, "_first_signup")
