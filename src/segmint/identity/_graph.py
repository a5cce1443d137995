"""One entity's identity graph: records, key values, guards, star links and labels."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import ibis

from segmint.exceptions import EngineError
from segmint.identity._components import connected_components

if TYPE_CHECKING:
    from ibis.expr.types import BooleanValue, Table

    from segmint.config import IdentityConfig

#: prefix of the work tables; all are dropped when a resolution ends
WORK_PREFIX = "_identity_work_"
_NODES_SCHEMA = ibis.schema({"source": "string", "id": "string"})
_VALUES_SCHEMA = ibis.schema(
    {"source": "string", "id": "string", "key": "string", "value": "string"}
)


@dataclass(frozen=True)
class Graph:
    """One entity's identity graph: where it comes from and where its results go."""

    entity: str
    id_column: str
    keys: tuple[str, ...]  # value keys linked besides id_column
    links_table: str
    skipped_table: str

    @property
    def work(self) -> str:
        return f"{WORK_PREFIX}{self.entity}_"

    @property
    def linked_by_order(self) -> tuple[str, ...]:
        # a fixed alphabetical order makes linked_by sorted without an ordered group_concat
        return tuple(sorted((self.id_column, *self.keys)))


@dataclass(frozen=True)
class GraphResult:
    """Counts of one resolved graph, and the work table holding its labels."""

    labels: str  # work table: id, label (the smallest id of the component)
    records: int
    ids: int
    persons: int
    merged: int
    links_by_key: dict[str, int]
    skipped: int
    iterations: int


def resolve_graph(
    con: ibis.BaseBackend,
    graph: Graph,
    table: Table | None,
    config: IdentityConfig,
    max_iterations: int,
) -> GraphResult:
    """Write the links and skipped values of one entity and label its components."""
    nodes_name, values_name = f"{graph.work}nodes", f"{graph.work}values"
    if table is None:  # a missing table resolves to empty results with the same schemas
        nodes = con.create_table(nodes_name, schema=_NODES_SCHEMA, overwrite=True)
        values = con.create_table(values_name, schema=_VALUES_SCHEMA, overwrite=True)
    else:
        nodes_expr, values_expr = _records(graph, table)
        nodes = con.create_table(nodes_name, nodes_expr, overwrite=True)
        values = con.create_table(values_name, values_expr, overwrite=True)

    stats = values.group_by("key", "value").agg(n_ids=values.id.nunique(), hub_id=values.id.min())
    ignored = _ignored(stats.value, config.ignore_values)
    too_common = stats.n_ids > config.max_records_per_value
    skipped = stats.filter(ignored | too_common).select(
        "key",
        "value",
        stats.n_ids.name(f"n_{graph.id_column}s"),
        ibis.ifelse(ignored, "ignored", "limit").name("reason"),
    )
    con.create_table(graph.skipped_table, skipped, overwrite=True)

    links = con.create_table(
        graph.links_table,
        _links(graph, nodes, values, stats, ~ignored & ~too_common),
        overwrite=True,
    )
    id_col, linked_col = graph.id_column, f"linked_{graph.id_column}"
    between = links.filter(links[id_col] != links[linked_col])
    edges = (
        between.select(a=between[id_col], b=between[linked_col])
        .union(between.select(a=between[linked_col], b=between[id_col]))
        .distinct()
    )
    edges = con.create_table(f"{graph.work}edges", edges, overwrite=True)

    ids = nodes.select("id").distinct()
    labels_name, iterations = connected_components(
        con, graph.work, graph.entity, ids, edges, max_iterations
    )
    labels = con.table(labels_name)

    sizes = labels.group_by("label").agg(n=labels.count())
    counts = (
        sizes.agg(
            persons=sizes.count(),
            ids=sizes.n.sum().fill_null(0),
            merged=sizes.n.sum(where=sizes.n > 1).fill_null(0),
        )
        .execute()
        .iloc[0]
    )
    by_key = links.group_by("key").agg(n=links.count()).execute()
    links_by_key = {k: 0 for k in graph.linked_by_order}
    links_by_key.update({str(k): int(n) for k, n in zip(by_key["key"], by_key["n"], strict=True)})

    return GraphResult(
        labels=labels_name,
        records=int(nodes.count().execute()),
        ids=int(counts["ids"]),
        persons=int(counts["persons"]),
        merged=int(counts["merged"]),
        links_by_key=links_by_key,
        skipped=int(con.table(graph.skipped_table).count().execute()),
        iterations=iterations,
    )


def _records(graph: Graph, table: Table) -> tuple[Table, Table]:
    """Nodes (source, id) and key values (source, id, key, value) of one entity."""
    columns = set(table.columns)
    if graph.id_column not in columns:
        raise EngineError(
            f"table {graph.entity!r} has no column {graph.id_column!r}: reload it with "
            f"a column mapped to {graph.id_column}"
        )
    source = table["_source"].cast("string") if "_source" in columns else ibis.literal("")
    # ids stay verbatim (no trimming): the other tables refer to customers by them
    ident = table[graph.id_column].cast("string")
    base = table.select(
        source=source.fill_null(""),
        id=ident,
        **{k: table[k].cast("string").strip() for k in graph.keys if k in columns},
    )
    base = base.filter(base.id.notnull() & (base.id != ""))
    nodes = base.select("source", "id").distinct()

    parts = []
    for key in graph.keys:
        if key not in columns:
            continue
        value = base[key].lower() if key == "email" else base[key]
        part = base.select("source", "id", key=ibis.literal(key), value=value)
        parts.append(part.filter(part.value.notnull() & (part.value != "")))
    if not parts:
        values = nodes.select("source", "id", key=ibis.literal(""), value=ibis.literal("")).limit(0)
    else:
        values = parts[0].union(*parts[1:]) if len(parts) > 1 else parts[0]
    return nodes, values.distinct()


def _ignored(value: ibis.Value, ignore_values: Sequence[str]) -> BooleanValue:
    # ignore_values are meant in normalised form; forgive case and spaces in emails
    forms = sorted({v.strip() for v in ignore_values} | {v.strip().lower() for v in ignore_values})
    if not forms:
        return ibis.literal(False)
    return value.isin(forms)


def _links(graph: Graph, nodes: Table, values: Table, stats: Table, usable: BooleanValue) -> Table:
    """The star edges: each record to the smallest record of its id, and of each key value.

    A value links only when it is held by at least two ids and passes the guards.
    """
    id_col = graph.id_column
    # records of one id across sources: each to the record with the smallest source
    by_id = nodes.group_by("id").agg(hub_source=nodes.source.min())
    same_id = nodes.join(by_id, "id").filter(lambda t: t.source != t.hub_source)
    id_links = same_id.select(
        **{id_col: same_id.id},
        source=same_id.source,
        **{f"linked_{id_col}": same_id.id},
        linked_source=same_id.hub_source,
        key=ibis.literal(id_col),
        value=same_id.id,
    )

    linking = stats.filter(usable & (stats.n_ids >= 2)).select("key", "value", "hub_id")
    at_hub = values.join(linking, ["key", "value"]).filter(lambda t: t.id == t.hub_id)
    hubs = at_hub.group_by("key", "value", "hub_id").agg(hub_source=at_hub.source.min())
    members = values.join(hubs, ["key", "value"])
    is_hub = (members.id == members.hub_id) & (members.source == members.hub_source)
    members = members.filter(~is_hub)
    value_links = members.select(
        **{id_col: members.id},
        source=members.source,
        **{f"linked_{id_col}": members.hub_id},
        linked_source=members.hub_source,
        key=members.key,
        value=members.value,
    )
    return id_links.union(value_links)


def component_table(con: ibis.BaseBackend, graph: Graph, labels_name: str) -> Table:
    """id, person (component label), n_ids, linked_by (sorted key names or '')."""
    labels = con.table(labels_name)
    links = con.table(graph.links_table)
    sizes = labels.group_by("label").agg(n_ids=labels.count())

    in_component = links.join(labels, links[graph.id_column] == labels.id)
    flags = in_component.group_by("label").agg(
        **{f"has_{k}": (in_component.key == k).any() for k in graph.linked_by_order}
    )
    # ",email,phone" then drop the first character: no ordered group_concat needed
    prefixed = ibis.literal("")
    for k in graph.linked_by_order:
        prefixed = prefixed + ibis.ifelse(flags[f"has_{k}"], f",{k}", "")
    flags = flags.select("label", linked_by=prefixed.substr(1))

    joined = labels.join(sizes, "label").left_join(flags, "label")
    return joined.select(
        id=joined.id,
        person=joined.label,
        n_ids=joined.n_ids,
        linked_by=joined.linked_by.fill_null(""),
    )
