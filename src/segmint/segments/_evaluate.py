"""Evaluate a project's segments as of a date: traits, families, then rules in order.

The customer base (attributes and traits) is computed once and materialised; the built-in
families (RFM, lifecycle, value tiers) are joined onto it as fields (``rfm_cell``,
``lifecycle_stage``, ``value_tier``, ...) so rules can use them; every rule segment is then
compiled against that table in dependency order and materialised, so a segment that uses
another reads its members instead of recomputing them. Family cells are segments too
(``rfm-champions``, ``lifecycle-new``, ``tier-gold``), so their sizes and the movement of
customers between them are recorded run by run like any other segment.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import ibis
import ibis.expr.types as ir

from segmint.config import ProjectConfig
from segmint.engine import Engine
from segmint.runs import Evaluated
from segmint.segments._compile import RuleContext, compile_segment
from segmint.segments._exclusive import assign_exclusive
from segmint.segments._graph import evaluation_order
from segmint.segments._lifecycle import STAGE_PRECEDENCE, lifecycle
from segmint.segments._rfm import rfm
from segmint.segments._rules import Rule
from segmint.segments._tiers import value_tiers
from segmint.traits import customer_base
from segmint.traits._activity import activity
from segmint.traits._attributes import attribute_fields

FAMILY_COLUMNS = {
    "rfm": ("r", "f", "m", "rfm_score", "rfm_cell"),
    "lifecycle": ("lifecycle_stage",),
    "value_tiers": ("value_decile", "value_tier"),
}


def _keep(engine: Engine, expr: ir.Table, scratch: list[str], prefix: str) -> ir.Table:
    name = engine.temp_name(prefix)
    engine.write(name, expr, temp=True)
    scratch.append(name)
    return engine.table(name)


def with_families(
    engine: Engine, base: ir.Table, config: ProjectConfig, as_of: datetime
) -> ir.Table:
    """``base`` plus the family columns (RFM scores and cell, lifecycle stage, value tier)."""
    fam = config.families
    parts: list[ir.Table] = []
    if fam.rfm.enabled:
        parts.append(rfm(base, fam.rfm))
    if fam.lifecycle.enabled:
        orders = activity(engine, "transactions", as_of)
        if orders is None:
            schema = ibis.schema({"customer_id": "string", "_time": "timestamp"})
            orders = ibis.memtable({"customer_id": [], "_time": []}, schema=schema)
        parts.append(lifecycle(base, orders.select("customer_id", "_time"), as_of, fam.lifecycle))
    if fam.value_tiers.enabled:
        parts.append(value_tiers(base, fam.value_tiers))
    wide = base
    for part in parts:
        cols = [c for c in part.columns if c != "customer_id"]
        wide = wide.left_join(part, "customer_id").select(*wide.columns, *cols)
    return wide


def family_members(base: ir.Table, config: ProjectConfig) -> dict[str, ir.Table]:
    """One segment per family cell present in the settings (``rfm-champions``, ...)."""
    fam = config.families
    out: dict[str, ir.Table] = {}
    if fam.rfm.enabled:
        for cell in fam.rfm.cells:
            out[f"rfm-{cell.name}"] = base.filter(base.rfm_cell == cell.name).select("customer_id")
    if fam.lifecycle.enabled:
        for stage in STAGE_PRECEDENCE:
            out[f"lifecycle-{stage}"] = base.filter(base.lifecycle_stage == stage).select(
                "customer_id"
            )
    if fam.value_tiers.enabled:
        for tier in fam.value_tiers.tiers:
            out[f"tier-{tier.name}"] = base.filter(base.value_tier == tier.name).select(
                "customer_id"
            )
    return out


def rule_context(
    engine: Engine,
    base: ir.Table,
    config: ProjectConfig,
    as_of: datetime,
    members: Mapping[str, ir.Table],
) -> RuleContext:
    fields = {c: str(t) for c, t in base.schema().items() if c != "customer_id"}

    def member_table(name: str) -> ir.Table:
        return members[name]

    return RuleContext(
        base=base,
        activity=lambda name: activity(engine, name, as_of),
        as_of=as_of,
        members=member_table,
        fields=fields,
    )


def evaluate(engine: Engine, config: ProjectConfig, as_of: datetime) -> Evaluated:
    """Traits, families and every segment of ``config`` as of ``as_of``, materialised."""
    scratch: list[str] = []
    base = _keep(engine, customer_base(engine, config.traits, as_of), scratch, "base")
    base = _keep(engine, with_families(engine, base, config, as_of), scratch, "wide")
    members: dict[str, ir.Table] = {}
    for name, expr in family_members(base, config).items():
        members[name] = expr
    ctx = rule_context(engine, base, config, as_of, members)
    by_name = {s.name: s for s in config.segments}
    for i, name in enumerate(evaluation_order(config.segments, external=list(members))):
        seg = by_name[name]
        position = config.segments.index(seg)
        expr = compile_segment(seg.rule, ctx, path=f"segments[{position}].rule")
        members[name] = _keep(engine, expr, scratch, f"seg{i}")
    for group in config.families.exclusive:
        assigned = assign_exclusive({n: members[n] for n in group.priority}, group.priority)
        assigned = _keep(engine, assigned, scratch, "excl")
        for n in group.priority:
            members[f"{group.name}-{n}"] = assigned.filter(assigned.segment == n).select(
                "customer_id"
            )
    # attributes stay in the customers table; a run stores what it computed
    traits = base.drop(*(c for c in attribute_fields() if c in base.columns))
    return Evaluated(base, members, scratch, traits=traits)


def preview(
    engine: Engine, config: ProjectConfig, rule: Rule, as_of: datetime, *, sample: int = 20
) -> tuple[int, list[str]]:
    """Count the members of a rule, and show a few, without saving anything."""
    result = evaluate(engine, config, as_of)
    try:
        ctx = rule_context(engine, result.base, config, as_of, result.members)
        found = compile_segment(rule, ctx)
        count = int(found.count().execute())
        ids = found.order_by("customer_id").limit(sample).customer_id.to_pyarrow().to_pylist()
        return count, [str(i) for i in ids]
    finally:
        for name in result.scratch:
            engine.drop(name)
