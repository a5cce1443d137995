"""Identity resolution: which customer records are one person (or one company).

Records from several sources (webshop, ERP, CRM, email tool) are linked when they share a
customer_id, a normalised email, an E.164 phone or an organisation number (the keys in
:class:`~segmint.config.IdentityConfig`).  The linked groups are the connected components of
that graph, and each gets a ``person_id``: the smallest customer_id in it.

The components are computed *in the engine*, as Ibis expressions only, so one project runs
on DuckDB and on Spark: iterative min-label propagation with pointer jumping, each round
materialised as a work table, until no label changes.  This is written by hand because no
well-kept library does it portably: networkx and scipy work in memory, GraphFrames is
Spark-only, and DuckDB has no connected-components function.

Two guards keep one shared value from merging a thousand people:

* a key value held by more than ``max_records_per_value`` distinct customer_ids (an
  ``info@`` address, a switchboard number) links nothing;
* values in ``ignore_values`` link nothing.

Both are reported in ``identity_skipped``.  Edges are a *star* per key value (each record
to the value's smallest record), not a clique, so a value shared by n records adds n - 1
edges.

A customer_id names one customer in every table (transactions, events, ... carry no
source), so records that share a customer_id are always one node: the ``customer_id``
links are made even when the key is left out of ``config.keys``, ``ignore_values`` does
not apply to them, and they are listed in ``identity_links`` like every other link.

Tables written (each replaced on every run, so a re-run gives identical tables):

``identities``
    customer_id, person_id, n_customer_ids, linked_by
``identity_links``
    customer_id, source, linked_customer_id, linked_source, key, value
``identity_skipped``
    key, value, n_customer_ids, reason ('limit' or 'ignored')
``contact_identities``
    contact_id, contact_person_id, n_contact_ids, linked_by, company_id, company_person_id
``contact_identity_links``, ``contact_identity_skipped``
    as for customers, with contact_id in place of customer_id
"""

from __future__ import annotations

from segmint.identity._components import IdentityConvergenceError
from segmint.identity._resolve import (
    CONTACT_IDENTITIES,
    CONTACT_IDENTITY_LINKS,
    CONTACT_IDENTITY_SKIPPED,
    IDENTITIES,
    IDENTITY_LINKS,
    IDENTITY_SKIPPED,
    IdentitiesNotResolvedError,
    IdentityReport,
    person_of,
    resolve_identities,
)

__all__ = [
    "CONTACT_IDENTITIES",
    "CONTACT_IDENTITY_LINKS",
    "CONTACT_IDENTITY_SKIPPED",
    "IDENTITIES",
    "IDENTITY_LINKS",
    "IDENTITY_SKIPPED",
    "IdentitiesNotResolvedError",
    "IdentityConvergenceError",
    "IdentityReport",
    "person_of",
    "resolve_identities",
]
