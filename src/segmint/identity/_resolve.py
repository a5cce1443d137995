"""The public entry points: resolve identities, write the result tables, read them back."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import ibis

from segmint.exceptions import SegmintError
from segmint.identity._graph import WORK_PREFIX, Graph, component_table, resolve_graph

if TYPE_CHECKING:
    from ibis.expr.types import Table

    from segmint.config import IdentityConfig

IDENTITIES = "identities"
IDENTITY_LINKS = "identity_links"
IDENTITY_SKIPPED = "identity_skipped"
CONTACT_IDENTITIES = "contact_identities"
CONTACT_IDENTITY_LINKS = "contact_identity_links"
CONTACT_IDENTITY_SKIPPED = "contact_identity_skipped"

#: keys of a contact besides contact_id; used when they are also in ``config.keys``
_CONTACT_KEYS = ("email", "phone")
DEFAULT_MAX_ITERATIONS = 64


class IdentitiesNotResolvedError(SegmintError, LookupError):
    """The ``identities`` table is asked for before identity resolution has run."""


@dataclass(frozen=True)
class IdentityReport:
    """What one identity resolution found.

    Attributes
    ----------
    records
        Customer records, one per (source, customer_id).
    customer_ids
        Distinct customer_ids.
    persons
        Connected components, each one person (or company) with a ``person_id``.
    merged_customer_ids
        customer_ids that share their person with at least one other customer_id.
    links_by_key
        Number of links (rows of ``identity_links``) made by each key.
    skipped_values
        Key values that linked nothing because they were too common or ignored.
    iterations
        Label-propagation rounds the customer graph needed (the last one changes nothing).
    contacts
        Distinct contact_ids (0 when there is no ``contacts`` table).
    contact_persons
        Connected components among contacts.
    contact_skipped_values
        Contact key values that linked nothing.
    """

    records: int
    customer_ids: int
    persons: int
    merged_customer_ids: int
    links_by_key: dict[str, int] = field(default_factory=dict)
    skipped_values: int = 0
    iterations: int = 0
    contacts: int = 0
    contact_persons: int = 0
    contact_skipped_values: int = 0

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data."""
        data = asdict(self)
        data["links_by_key"] = dict(sorted(self.links_by_key.items()))
        return data


def resolve_identities(
    con: ibis.BaseBackend,
    config: IdentityConfig,
    *,
    max_iterations: int = DEFAULT_MAX_ITERATIONS,
) -> IdentityReport:
    """Link customer (and contact) records into persons and write the identity tables.

    Parameters
    ----------
    con
        The engine holding ``customers`` and, optionally, ``contacts``.  A missing table
        resolves to empty results.
    config
        Which keys link records, how common a value may be, which values never link.
    max_iterations
        Guard on label-propagation rounds; :class:`IdentityConvergenceError` past it.

    Returns
    -------
    IdentityReport
        Counts of records, persons, links per key and skipped values.
    """
    if max_iterations < 1:
        raise ValueError(f"max_iterations must be at least 1, got {max_iterations}")
    existing = set(con.list_tables())
    customer_graph = Graph(
        entity="customers",
        id_column="customer_id",
        keys=tuple(k for k in config.keys if k != "customer_id"),
        links_table=IDENTITY_LINKS,
        skipped_table=IDENTITY_SKIPPED,
    )
    contact_graph = Graph(
        entity="contacts",
        id_column="contact_id",
        keys=tuple(k for k in _CONTACT_KEYS if k in config.keys),
        links_table=CONTACT_IDENTITY_LINKS,
        skipped_table=CONTACT_IDENTITY_SKIPPED,
    )
    try:
        customers = resolve_graph(
            con,
            customer_graph,
            con.table("customers") if "customers" in existing else None,
            config,
            max_iterations,
        )
        _write_identities(con, customer_graph, customers.labels)

        contacts_table = con.table("contacts") if "contacts" in existing else None
        contacts = resolve_graph(con, contact_graph, contacts_table, config, max_iterations)
        _write_contact_identities(con, contact_graph, contacts.labels, contacts_table)
    finally:
        _drop_work_tables(con)

    return IdentityReport(
        records=customers.records,
        customer_ids=customers.ids,
        persons=customers.persons,
        merged_customer_ids=customers.merged,
        links_by_key=customers.links_by_key,
        skipped_values=customers.skipped,
        iterations=customers.iterations,
        contacts=contacts.ids,
        contact_persons=contacts.persons,
        contact_skipped_values=contacts.skipped,
    )


def person_of(con: ibis.BaseBackend) -> Table:
    """The ``identities`` table as (customer_id, person_id), to group data by person."""
    if IDENTITIES not in con.list_tables():
        raise IdentitiesNotResolvedError(
            "no 'identities' table in the store: run identity resolution "
            "(segmint.identity.resolve_identities) before grouping by person"
        )
    return con.table(IDENTITIES).select("customer_id", "person_id")


def _write_identities(con: ibis.BaseBackend, graph: Graph, labels_name: str) -> None:
    components = component_table(con, graph, labels_name)
    con.create_table(
        IDENTITIES,
        components.select(
            customer_id=components.id,
            person_id=components.person,
            n_customer_ids=components.n_ids,
            linked_by=components.linked_by,
        ),
        overwrite=True,
    )


def _write_contact_identities(
    con: ibis.BaseBackend, graph: Graph, labels_name: str, contacts: Table | None
) -> None:
    components = component_table(con, graph, labels_name)
    if contacts is None or "company_id" not in contacts.columns:
        nodes = con.table(f"{graph.work}nodes")
        companies = nodes.select(id=nodes.id, company_id=ibis.null("string"))
    else:
        companies = contacts.select(
            id=contacts.contact_id.cast("string"),
            company_id=contacts.company_id.cast("string"),
        ).distinct()
    identities = con.table(IDENTITIES)
    resolved = companies.left_join(identities, companies.company_id == identities.customer_id)
    resolved = resolved.select(
        id=resolved.id,
        company_id=resolved.company_id,
        company_person_id=resolved.person_id.fill_null(resolved.company_id),
    )
    # a contact whose sources name different companies takes the smallest company person
    # (and the smallest company_id of that person): deterministic on every engine
    # a named window column: Ibis 12 compiles a filter on an inline window to Spark SQL
    # that does not resolve
    resolved = resolved.mutate(_first=resolved.company_person_id.min().over(group_by=resolved.id))
    chosen = resolved.filter(resolved.company_person_id == resolved._first).drop("_first")
    chosen = chosen.group_by("id", "company_person_id").agg(company_id=chosen.company_id.min())

    joined = components.left_join(chosen, components.id == chosen.id)
    con.create_table(
        CONTACT_IDENTITIES,
        joined.select(
            contact_id=joined.id,
            contact_person_id=joined.person,
            n_contact_ids=joined.n_ids,
            linked_by=joined.linked_by,
            company_id=joined.company_id,
            company_person_id=joined.company_person_id,
        ),
        overwrite=True,
    )


def _drop_work_tables(con: ibis.BaseBackend) -> None:
    for name in con.list_tables():
        if name.startswith(WORK_PREFIX):
            con.drop_table(name, force=True)
