"""Connected components in the engine: min-label propagation with pointer jumping.

Ibis expressions only (no backend SQL), one materialised work table per round, so the same
loop runs on DuckDB and on Spark.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import ibis

from segmint.exceptions import EngineError

if TYPE_CHECKING:
    from ibis.expr.types import Table


class IdentityConvergenceError(EngineError):
    """Label propagation did not settle within the iteration guard."""


def connected_components(
    con: ibis.BaseBackend,
    work: str,
    entity: str,
    ids: Table,
    edges: Table,
    max_iterations: int,
) -> tuple[str, int]:
    """Label every id with the smallest id of its component; return the table and rounds.

    Each round takes the smallest label among a node and its neighbours, then jumps once
    (a node takes its label's label), which shortens long chains to a few rounds.  Labels
    only ever decrease and are always ids of the same component, so the fixed point is
    the component minimum.  Rounds alternate between two work tables because Spark cannot
    overwrite a table it is reading.
    """
    names = (f"{work}labels_a", f"{work}labels_b")
    con.create_table(
        names[0],
        ids.select(id=ids.id, label=ids.id, changed=ibis.literal(True)),
        overwrite=True,
    )
    for iteration in range(1, max_iterations + 1):
        current, following = names[(iteration - 1) % 2], names[iteration % 2]
        step = _propagate_once(con.table(current), edges)
        # two views of one round: a join on a projected join needs them to be relations
        node, target = step.view(), step.view()
        jumped = node.left_join(target, node.label == target.id).select(
            id=node.id,
            old=node.old,
            label=ibis.least(node.label, target.label.fill_null(node.label)),
        )
        result = con.create_table(
            following,
            jumped.select("id", "label", changed=jumped.label != jumped.old),
            overwrite=True,
        )
        changing = int(result.filter(result.changed).count().execute())
        if changing == 0:
            return following, iteration
    raise IdentityConvergenceError(
        f"identity resolution of {entity!r} did not converge within {max_iterations} "
        f"iterations ({changing} labels still changing): pass a larger max_iterations to "
        f"resolve_identities, or check identity_links for an unexpectedly long chain"
    )


def _propagate_once(labels: Table, edges: Table) -> Table:
    """id, old label, and the smallest label among the node and its neighbours."""
    seen = edges.join(labels, edges.b == labels.id)
    neighbour = seen.group_by(seen.a).agg(nlabel=seen.label.min())
    step = labels.left_join(neighbour, labels.id == neighbour.a)
    return step.select(
        id=step.id,
        old=step.label,
        label=ibis.least(step.label, step.nlabel.fill_null(step.label)),
    )
