"""RFM: recency, frequency and monetary scores, the named R/F cells, and movement between cells.

Scores are n-tiles computed in the engine with an explicit tie-break, because NTILE and
RANK break ties differently on DuckDB and Spark (docs/families.md, "Scores").  For each
dimension the customers are ordered from worst to best value, ties by ``customer_id``
ascending, and

    rank  = row_number() over (order by value, customer_id)      -- 1 .. n
    score = floor((rank - 1) * bins / n) + 1                      -- 1 .. bins

so the same data gives the same scores on every engine.  R orders by ``recency_days``
descending (the most recent purchase gets the top score), F by ``frequency`` and M by
``monetary`` ascending.  Only customers with a purchase are scored (``recency_days`` not
null and ``frequency`` > 0); a null ``monetary`` counts as 0.

The cells come from the R/F map in :data:`STANDARD_RFM_CELLS` (or the project's own map);
its settings model guarantees that every (R, F) pair falls in exactly one cell.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import ibis

from segmint.segments._families_config import RfmSettings, parse_score_range, require_columns

if TYPE_CHECKING:
    import ibis.expr.types as ir
    import pandas as pd

RFM_COLUMNS = ("customer_id", "recency_days", "frequency", "monetary")

#: Row and column label of the transition matrix for "no cell" (not scored in that snapshot).
NO_CELL = "(none)"


def ntile_score(
    value: ir.Column, customer_id: ir.Column, bins: int, *, descending: bool = False
) -> ir.IntegerColumn:
    """The deterministic n-tile score (1..bins, higher = later in the order) of ``value``.

    Parameters
    ----------
    value
        The column to order by; rows are ordered by it ascending (or descending), ties by
        ``customer_id`` ascending.
    customer_id
        The tie-breaker; unique per row.
    bins
        Number of n-tiles.
    descending
        Order by ``value`` descending, so the smallest values get the top score.
    """
    key = ibis.desc(value) if descending else value
    position = ibis.row_number().over(order_by=[key, customer_id])  # 0-based
    n = customer_id.count().over()
    return ((position * bins) // n + 1).cast("int64")


def rfm(base: ir.Table, settings: RfmSettings | None = None) -> ir.Table:
    """RFM scores and cell of every customer with at least one purchase.

    Parameters
    ----------
    base
        The customer base: ``customer_id``, ``recency_days``, ``frequency``, ``monetary``.
    settings
        Bins and cell map; default 5 bins and the standard 10-cell map.

    Returns
    -------
    ibis.Table
        ``customer_id, r, f, m, rfm_score, rfm_cell``; ``rfm_score`` is the three scores as
        text (``"545"``).  Customers without purchases have no row.
    """
    settings = settings or RfmSettings()
    require_columns(base, RFM_COLUMNS, what="rfm (customer base)")
    buyers = base.filter(base.recency_days.notnull() & (base.frequency > 0)).select(
        "customer_id",
        "recency_days",
        "frequency",
        monetary=base.monetary.fill_null(0),
    )
    cid = buyers.customer_id
    bins = settings.bins
    scored = buyers.select(
        "customer_id",
        r=ntile_score(buyers.recency_days, cid, bins, descending=True),
        f=ntile_score(buyers.frequency, cid, bins),
        m=ntile_score(buyers.monetary, cid, bins),
    )
    return scored.select(
        "customer_id",
        "r",
        "f",
        "m",
        rfm_score=scored.r.cast("string") + scored.f.cast("string") + scored.m.cast("string"),
        rfm_cell=rfm_cell(scored.r, scored.f, settings),
    )


def rfm_cell(r: ir.IntegerValue, f: ir.IntegerValue, settings: RfmSettings) -> ir.StringValue:
    """The name of the cell holding scores ``(r, f)``, as an engine expression."""
    branches = []
    for cell in settings.cells:
        r_low, r_high = parse_score_range(cell.r)
        f_low, f_high = parse_score_range(cell.f)
        branches.append((r.between(r_low, r_high) & f.between(f_low, f_high), cell.name))
    return ibis.cases(*branches, else_=ibis.null("string"))


def rfm_movement(
    previous: ir.Table, current: ir.Table, *, cell_column: str = "rfm_cell"
) -> ir.Table:
    """Each customer's cell in two snapshots.

    Parameters
    ----------
    previous, current
        Tables with ``customer_id`` and ``cell_column`` (the output of :func:`rfm`, or a
        stored snapshot of it).
    cell_column
        The column holding the cell name.

    Returns
    -------
    ibis.Table
        ``customer_id, from_cell, to_cell`` for every customer in either table; a customer
        only in ``current`` has a null ``from_cell`` (entered), only in ``previous`` a null
        ``to_cell`` (left), and an unchanged customer has ``from_cell == to_cell``.
    """
    for table, name in ((previous, "previous"), (current, "current")):
        require_columns(table, ("customer_id", cell_column), what=f"rfm_movement ({name})")
    before = previous.select(_from_id=previous.customer_id, from_cell=previous[cell_column])
    after = current.select(_to_id=current.customer_id, to_cell=current[cell_column])
    joined = before.outer_join(after, before._from_id == after._to_id)
    return joined.select(
        customer_id=ibis.coalesce(joined._to_id, joined._from_id),
        from_cell=joined.from_cell,
        to_cell=joined.to_cell,
    )


def rfm_transitions(movement: ir.Table) -> ir.Table:
    """Customers per ``(from_cell, to_cell)`` pair of a :func:`rfm_movement` table."""
    return movement.group_by("from_cell", "to_cell").aggregate(customers=movement.count())


def rfm_transition_matrix(movement: ir.Table, cells: Sequence[str] | None = None) -> pd.DataFrame:
    """The transition-count matrix: rows ``from_cell``, columns ``to_cell``, zeros filled.

    Parameters
    ----------
    movement
        The output of :func:`rfm_movement`.
    cells
        Row and column order; default the standard map's order.  Cells not listed follow
        in alphabetical order, then :data:`NO_CELL` for customers absent from a snapshot.

    Returns
    -------
    pandas.DataFrame
        Integer counts; the matrix is small (cells x cells), so it is built in pandas from
        the counts the engine aggregated.
    """
    counts = rfm_transitions(movement).to_pandas()
    counts["from_cell"] = counts["from_cell"].fillna(NO_CELL)
    counts["to_cell"] = counts["to_cell"].fillna(NO_CELL)
    order = list(cells) if cells is not None else [c.name for c in RfmSettings().cells]
    seen = set(counts["from_cell"]) | set(counts["to_cell"])
    order += sorted(seen - set(order) - {NO_CELL})
    if NO_CELL in seen:
        order.append(NO_CELL)
    matrix = (
        counts.groupby(["from_cell", "to_cell"])["customers"]
        .sum()
        .unstack(fill_value=0)
        .reindex(index=order, columns=order, fill_value=0)
        .astype("int64")
    )
    matrix.index.name = "from_cell"
    matrix.columns.name = "to_cell"
    return matrix
