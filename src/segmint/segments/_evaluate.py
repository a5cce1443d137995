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

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from segmint.config import ClassifierSettings, ProjectConfig
from segmint.engine import Engine
from segmint.fits import StoredFit, latest_fit, settings_key
from segmint.models._leads import LEAD_SCORES
from segmint.runs import Evaluated
from segmint.segments._checks import walk
from segmint.segments._compile import ActivityPasses, RuleContext, compile_segment
from segmint.segments._exclusive import assign_exclusive
from segmint.segments._graph import evaluation_order, segment_references
from segmint.segments._lifecycle import STAGE_PRECEDENCE, lifecycle
from segmint.segments._rfm import rfm
from segmint.segments._rules import FieldCondition, Rule
from segmint.segments._tiers import value_tiers
from segmint.traits import customer_base
from segmint.traits._activity import activity, pinned_identities, resolve_as_of
from segmint.traits._attributes import attribute_fields
from segmint.traits._base import complete_base
from segmint.traits._incremental import KeptBase, run_base

#: the traits the families are computed from (value tiers add their configured column)
FAMILY_INPUTS = ("recency_days", "frequency", "monetary", "first_purchase", "last_purchase")
FAMILY_COLUMNS = {
    "rfm": ("r", "f", "m", "rfm_score", "rfm_cell"),
    "lifecycle": ("lifecycle_stage",),
    "value_tiers": ("value_decile", "value_tier"),
}


def _with_scores(
    engine: Engine,
    base: ir.Table,
    config: ProjectConfig,
    as_of: datetime,
    fields: frozenset[str] | None,
    scratch: list[str],
) -> tuple[ir.Table, list[dict[str, Any]], list[StoredFit]]:
    """``base`` with the model scores the project asks for (and that are needed), the
    model cards of their fits and the fits to store.  The join is left as an expression:
    the families and the wide table read it once more and materialise it."""
    tables: list[pa.Table] = []
    cards: list[dict[str, Any]] = []
    clv = config.models.clv
    if clv.enabled:
        from segmint.models._scores import CLV_SCORES, clv_scores

        orders = activity(engine, "transactions", as_of)
        if orders is not None and (fields is None or fields & set(CLV_SCORES)):
            scores, fitted = clv_scores(orders, as_of, clv)
            tables.append(scores)
            cards += [c.to_dict() for c in fitted]
    leads = config.models.lead_score
    if leads.enabled and (fields is None or fields & set(LEAD_SCORES)):
        from segmint.models._leads import lead_scores

        ctx = rule_context(engine, base, config, as_of, {})
        icp = [(compile_segment(r.rule, ctx, path=f"models.lead_score.icp[{i}].rule"), r.weight)
               for i, r in enumerate(leads.icp)]  # fmt: skip
        result = lead_scores(engine, as_of, min_outcomes=leads.min_outcomes, icp=icp)
        tables.append(result.scores.drop_columns(["lead_method"]))
        cards.append(result.card.to_dict())
    wallet = config.models.wallet
    if wallet.enabled and _wants_wallet(fields):
        from segmint.models._wallet import wallet_scores

        w = wallet_scores(
            engine,
            base,
            as_of,
            table=wallet.table,
            value=wallet.value,
            keys=wallet.keys,
            survey_column=wallet.survey_column,
            window_days=wallet.window_days,
            min_respondents=wallet.min_respondents,
        )
        tables.append(w.scores)
        cards.append(w.card.to_dict())
    tables_more, cards_more, fits = _classifier_scores(engine, config, as_of, fields)
    tables += tables_more
    cards += cards_more
    from segmint.discovery import discovery_traits

    more_tables, more_cards = discovery_traits(engine, base, config.discovery, as_of, fields)
    tables += more_tables
    cards += more_cards
    for table in tables:
        kept = _keep(engine, ibis.memtable(table), scratch, "scores")
        right = kept.rename(_score_id="customer_id")
        joined = base.left_join(right, base.customer_id == right._score_id)
        base = joined.select(*base.columns, *(c for c in table.column_names if c != "customer_id"))
    return base, cards, fits


def _wants_wallet(fields: frozenset[str] | None) -> bool:
    """Whether ``fields`` (None: all) include a share-of-wallet score."""
    from segmint.models._wallet import WALLET_SCORES

    return fields is None or bool(fields & set(WALLET_SCORES))


def _score_inputs(config: ProjectConfig, fields: frozenset[str] | None) -> set[str]:
    """The base fields the scores wanted by ``fields`` (None: every score) are computed
    from: the wallet's keys, the lead score's ICP rules, the discovery features."""
    from segmint.discovery import CLUSTER_TRAITS, MACRO_TRAITS

    def wanted(scores: Collection[str]) -> bool:
        return fields is None or bool(fields & set(scores))

    more: set[str] = set()
    if config.models.wallet.enabled and _wants_wallet(fields):
        more |= set(config.models.wallet.keys.values())
    leads = config.models.lead_score
    if leads.enabled and wanted(LEAD_SCORES):
        more |= {
            c.field for r in leads.icp for _, c in walk(r.rule) if isinstance(c, FieldCondition)
        }
    clusters, macro = config.discovery.clusters, config.discovery.macro
    if clusters.enabled and wanted(CLUSTER_TRAITS):
        more |= {*clusters.features, *clusters.describe_by}
    if macro.enabled and wanted(MACRO_TRAITS):
        more |= set(macro.features)
    return more


def _with_score_inputs(
    config: ProjectConfig, fields: frozenset[str] | None
) -> frozenset[str] | None:
    """``fields`` plus the traits the requested scores are computed from."""
    if fields is None:
        return None
    return fields | _score_inputs(config, fields)


def run_attributes(config: ProjectConfig) -> set[str]:
    """The customer attributes a run reads: those its rules, value tiers and scores use.

    A run publishes traits, not attributes (they stay in the customers table), so its
    customer base merges only these: the others would be merged per person and copied
    into the wide table for nothing (a tenth of a full run at a million customers).
    """
    read = {
        c.field
        for rule in (s.rule for s in config.segments)
        for _, c in walk(rule)
        if isinstance(c, FieldCondition)
    }
    read |= {config.families.value_tiers.column} | _score_inputs(config, None)
    return read & set(attribute_fields())


def _only_attributes(base: ir.Table, keep: set[str]) -> ir.Table:
    """``base`` without the attribute columns not in ``keep``."""
    return base.drop(*(c for c in attribute_fields() if c in base.columns and c not in keep))


#: score columns of the churn model (propensity columns depend on the categories)
CHURN_SCORES = ("churn_probability", "churn_reasons")


def _classifier_scores(
    engine: Engine, config: ProjectConfig, as_of: datetime, fields: frozenset[str] | None
) -> tuple[list[pa.Table], list[dict[str, Any]], list[StoredFit]]:
    """Churn and propensity scores as of ``as_of``, fitted on the two horizons before it
    (or a stored fit re-used, with ``refit_days``), their cards and the new fits."""
    tables: list[pa.Table] = []
    cards: list[dict[str, Any]] = []
    fits: list[StoredFit] = []
    churn = config.models.churn
    if churn.enabled and (fields is None or fields & set(CHURN_SCORES)):
        from segmint.models import fit_churn

        def churn_fit(train: datetime, test: datetime) -> Any:
            return fit_churn(
                engine,
                config.traits,
                train_cutoff=train,
                test_cutoff=test,
                horizon_days=churn.horizon_days,
                kind=churn.kind,
                active_within_days=churn.active_within_days,
                max_samples=churn.max_samples,
            )

        fit, card, new = _fit_or_reuse(engine, config, as_of, "churn", churn, churn_fit)
        tables.append(fit.scores(engine, config.traits, as_of, reasons=churn.reasons))
        cards.append(card)
        fits += new
    prop = config.models.propensity
    wants = fields is None or any(
        f.startswith("propensity_") or f.startswith("next_best_") for f in fields
    )
    if prop.enabled and wants:
        from segmint.models import fit_propensity

        def propensity_fit(train: datetime, test: datetime) -> Any:
            return fit_propensity(
                engine,
                config.traits,
                train_cutoff=train,
                test_cutoff=test,
                horizon_days=prop.horizon_days,
                active_within_days=prop.active_within_days,
                max_samples=prop.max_samples,
            )

        pfit, card, new = _fit_or_reuse(engine, config, as_of, "propensity", prop, propensity_fit)
        tables.append(pfit.scores(engine, config.traits, as_of))
        cards.append(card)
        fits += new
    return tables, cards, fits


def _fit_or_reuse(
    engine: Engine,
    config: ProjectConfig,
    as_of: datetime,
    model: str,
    settings: ClassifierSettings,
    fit: Callable[[datetime, datetime], Any],
) -> tuple[Any, dict[str, Any], list[StoredFit]]:
    """A stored fit of ``model`` made at most ``settings.refit_days`` before ``as_of`` with
    the same settings and traits, or a new fit trained at ``as_of - 2 x horizon`` and
    backtested at ``as_of - horizon``; its card says which (``reused_fit_as_of``)."""
    scoring_only = {"enabled", "refit_days", "reasons"}
    key = settings_key(
        model,
        settings.model_dump(mode="json", exclude=scoring_only),
        config.traits.model_dump(mode="json"),
    )
    found = latest_fit(engine, model, key, as_of, settings.refit_days)
    if found is not None:
        fitted, fitted_as_of = found
        card = fitted.card.to_dict()
        card["reused_fit_as_of"] = fitted_as_of.isoformat()
        return fitted, card, []
    h = timedelta(days=settings.horizon_days)
    fitted = fit(as_of - 2 * h, as_of - h)
    return fitted, fitted.card.to_dict(), [StoredFit.of(model, key, as_of, fitted)]


def _keep(
    engine: Engine, expr: ir.Table, scratch: list[str], prefix: str, *, temp: bool = True
) -> ir.Table:
    name = engine.temp_name(prefix)
    engine.write(name, expr, temp=temp)
    scratch.append(name)
    return engine.table(name)


def with_families(
    engine: Engine,
    base: ir.Table,
    config: ProjectConfig,
    as_of: datetime,
    keep: Callable[[ir.Table], ir.Table],
) -> ir.Table:
    """``base`` plus the family columns (RFM scores and cell, lifecycle stage, value tier).

    ``keep`` materialises a work table: the columns the families are computed from, then
    the family columns, so ``base`` (a stored table or an expression) is read once for
    them and once for the joined result.
    """
    fam = config.families
    inputs = [c for c in (*FAMILY_INPUTS, fam.value_tiers.column) if c in base.columns]
    source = keep(base.select("customer_id", *dict.fromkeys(inputs)))
    parts: list[ir.Table] = []
    if fam.rfm.enabled:
        parts.append(rfm(source, fam.rfm))
    if fam.lifecycle.enabled:
        orders = activity(engine, "transactions", as_of)
        if orders is None:
            schema = ibis.schema({"customer_id": "string", "_time": "timestamp"})
            orders = ibis.memtable({"customer_id": [], "_time": []}, schema=schema)
        parts.append(lifecycle(source, orders.select("customer_id", "_time"), as_of, fam.lifecycle))
    if fam.value_tiers.enabled:
        parts.append(value_tiers(source, fam.value_tiers))
    if not parts:
        return base
    families = source.select("customer_id")
    for part in parts:
        cols = [c for c in part.columns if c != "customer_id"]
        families = families.left_join(part, "customer_id").select(*families.columns, *cols)
    families = keep(families)
    right = families.rename(_family_id="customer_id")
    wide = base.left_join(right, base.customer_id == right._family_id)
    return wide.select(*base.columns, *(c for c in families.columns if c != "customer_id"))


#: family -> the prefix of its cell segments (``rfm-champions``, ``tier-gold``)
FAMILY_PREFIXES = {"rfm": "rfm-", "lifecycle": "lifecycle-", "tiers": "tier-"}


def family_cells(config: ProjectConfig) -> list[tuple[str, str, str]]:
    """``(family, base column, cell)`` of every family cell the settings define, in order."""
    fam = config.families
    cells: list[tuple[str, str, str]] = []
    if fam.rfm.enabled:
        cells += [("rfm", "rfm_cell", cell.name) for cell in fam.rfm.cells]
    if fam.lifecycle.enabled:
        cells += [("lifecycle", "lifecycle_stage", stage) for stage in STAGE_PRECEDENCE]
    if fam.value_tiers.enabled:
        cells += [("tiers", "value_tier", tier.name) for tier in fam.value_tiers.tiers]
    return cells


def family_members(base: ir.Table, config: ProjectConfig) -> dict[str, ir.Table]:
    """One segment per family cell present in the settings (``rfm-champions``, ...)."""
    return {
        FAMILY_PREFIXES[family] + cell: base.filter(base[column] == cell).select("customer_id")
        for family, column, cell in family_cells(config)
    }


def rule_context(
    engine: Engine,
    base: ir.Table,
    config: ProjectConfig,
    as_of: datetime,
    members: Mapping[str, ir.Table],
    *,
    passes: ActivityPasses | None = None,
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
        passes=passes,
    )


@dataclass(frozen=True)
class Needs:
    """What part of a project one rule needs: for a preview, everything else is skipped.

    ``segments`` and ``groups``: the rule segments and exclusive groups it uses, directly
    or through others; ``families``: whether the family columns are needed; ``fields``:
    the base fields the rule and those segments read (None: all).
    """

    segments: frozenset[str]
    groups: frozenset[str]
    families: bool
    fields: frozenset[str] | None


def needs(config: ProjectConfig, rule: Rule) -> Needs:
    """The segments, groups, families and fields ``rule`` needs (see :class:`Needs`)."""
    by_name = {s.name: s for s in config.segments}
    grouped = {f"{g.name}-{n}": g for g in config.families.exclusive for n in g.priority}
    family_cells = set(family_segment_names(config))
    segments: set[str] = set()
    groups: set[str] = set()
    rules = [rule]
    families = False
    todo = [name for name, _ in segment_references(rule)]
    while todo:
        name = todo.pop()
        if name in by_name and name not in segments:
            segments.add(name)
            rules.append(by_name[name].rule)
            todo.extend(ref for ref, _ in segment_references(by_name[name].rule))
        elif name in grouped and grouped[name].name not in groups:
            groups.add(grouped[name].name)
            todo.extend(grouped[name].priority)
        elif name in family_cells:
            families = True
    fields = {c.field for r in rules for _, c in walk(r) if isinstance(c, FieldCondition)}
    family_fields = {c for cols in FAMILY_COLUMNS.values() for c in cols}
    if fields & family_fields:
        families = True
    if families:
        fields |= set(FAMILY_INPUTS) | {config.families.value_tiers.column}
    return Needs(frozenset(segments), frozenset(groups), families, frozenset(fields))


def family_segment_names(config: ProjectConfig) -> list[str]:
    """Names of the family cell segments (``rfm-champions``, ...) the settings define."""
    return [FAMILY_PREFIXES[family] + cell for family, _, cell in family_cells(config)]


def evaluate(
    engine: Engine,
    config: ProjectConfig,
    as_of: datetime,
    *,
    only: Needs | None = None,
    incremental: bool = False,
) -> Evaluated:
    """Traits, families and every segment of ``config`` as of ``as_of``, materialised.

    ``only``: evaluate just what one rule needs (a preview); None: everything (a run).
    ``incremental``: compute the customer base from the kept base of the previous run where
    that is exact, and keep this one for the next (a run; ``segmint.traits._incremental``).
    """
    return _evaluate(engine, config, as_of, only=only, incremental=incremental)[0]


def _run_base(
    engine: Engine, config: ProjectConfig, as_of: datetime, incremental: bool, scratch: list[str]
) -> tuple[ir.Table, KeptBase | None, dict[str, Any]]:
    """The customer base of a run, the kept base to publish, and how it was computed.

    The base holds the attributes the run reads (:func:`run_attributes`) and every trait.
    Both paths materialise it once.  On the incremental path it is the kept raw base with
    its moves applied, completed: read as an expression by the families and the wide
    table, it cost 0.5-1.5 s more at a million customers (DuckDB built the family join's
    hash table from the million wide rows, having no size for the expression)."""
    cut = resolve_as_of(as_of)
    read = run_attributes(config)
    if not incremental or engine.name != "duckdb":
        why = (
            "runs.incremental is off"
            if not incremental
            else f"incremental traits need the DuckDB engine; this project uses {engine.name}"
        )
        full = _only_attributes(customer_base(engine, config.traits, cut), read)
        base = _keep(engine, full, scratch, "base")
        return base, None, {"path": "full", "reason": why}
    kept = run_base(engine, config.traits, cut, lambda e: _keep(engine, e, scratch, "dirty"))
    base = _only_attributes(complete_base(kept.raw, config.traits, cut), read)
    return _keep(engine, base, scratch, "base"), kept, kept.summary()


def _evaluate(
    engine: Engine,
    config: ProjectConfig,
    as_of: datetime,
    *,
    only: Needs | None = None,
    extra: Rule | None = None,
    incremental: bool = False,
) -> tuple[Evaluated, RuleContext]:
    """:func:`evaluate`, and the rule context with the activity passes of every rule
    (``extra`` too, a rule to compile afterwards) materialised.  The identity map is read
    once, into a work table, for all of it (:func:`pinned_identities`)."""
    scratch: list[str] = []
    with pinned_identities(engine, lambda expr: _keep(engine, expr, scratch, "ids")):
        return _evaluate_pinned(
            engine, config, as_of, scratch, only=only, extra=extra, incremental=incremental
        )


def _evaluate_pinned(
    engine: Engine,
    config: ProjectConfig,
    as_of: datetime,
    scratch: list[str],
    *,
    only: Needs | None,
    extra: Rule | None,
    incremental: bool,
) -> tuple[Evaluated, RuleContext]:
    fields = None if only is None else _with_score_inputs(config, only.fields)
    kept: KeptBase | None = None
    how: dict[str, Any] | None = None
    traits_work: str | None = None
    if only is None:
        base, kept, how = _run_base(engine, config, as_of, incremental, scratch)
    else:
        base = customer_base(engine, config.traits, as_of, only=fields)
        base = _keep(engine, base, scratch, "base")
    base, cards, fits = _with_scores(engine, base, config, as_of, fields, scratch)
    members: dict[str, ir.Table] = {}
    if only is None or only.families:

        def keep(expr: ir.Table) -> ir.Table:
            return _keep(engine, expr, scratch, "families")

        wide = with_families(engine, base, config, as_of, keep)
        # a run's wide table is stored where the engine can move it into place as the
        # published traits (``Engine.replace_with``) instead of copying it
        stored = only is None and engine.moves_tables
        base = _keep(engine, wide, scratch, "wide", temp=not stored)
        if stored:
            traits_work = scratch[-1]
        members.update(family_members(base, config))
    elif cards:
        base = _keep(engine, base, scratch, "scored")
    passes = ActivityPasses()
    ctx = rule_context(engine, base, config, as_of, members, passes=passes)
    by_name = {s.name: s for s in config.segments}
    order = [
        name
        for name in evaluation_order(config.segments, external=family_segment_names(config))
        if only is None or name in only.segments
    ]
    paths = {s.name: f"segments[{i}].rule" for i, s in enumerate(config.segments)}
    # every rule's activity measures first: one pass per activity table for all of them
    for name in order:
        passes.register(by_name[name].rule, ctx, path=paths[name])
    if extra is not None:
        passes.register(extra, ctx)
    passes.keep(lambda expr: _keep(engine, expr, scratch, "activity"))
    for i, name in enumerate(order):
        expr = compile_segment(by_name[name].rule, ctx, path=paths[name])
        members[name] = _keep(engine, expr, scratch, f"seg{i}")
    for group in config.families.exclusive:
        if only is not None and group.name not in only.groups:
            continue
        assigned = assign_exclusive({n: members[n] for n in group.priority}, group.priority)
        assigned = _keep(engine, assigned, scratch, "excl")
        for n in group.priority:
            members[f"{group.name}-{n}"] = assigned.filter(assigned.segment == n).select(
                "customer_id"
            )
    # attributes stay in the customers table; a run stores what it computed
    traits = base.drop(*(c for c in attribute_fields() if c in base.columns))
    found = Evaluated(base, members, scratch, traits=traits, cards=cards, fits=fits)
    found.kept, found.base_path, found.traits_work = kept, how, traits_work
    return found, ctx


def preview(
    engine: Engine, config: ProjectConfig, rule: Rule, as_of: datetime, *, sample: int = 20
) -> tuple[int, list[str]]:
    """Count the members of a rule, and show a few, without saving anything.

    Only what the rule needs is evaluated: the traits it reads, the segments it uses (and
    theirs), and the families when it uses a family field or cell.
    """
    result, ctx = _evaluate(engine, config, as_of, only=needs(config, rule), extra=rule)
    try:
        found = compile_segment(rule, ctx)
        count = int(found.count().execute())
        ids = found.order_by("customer_id").limit(sample).customer_id.to_pyarrow().to_pylist()
        return count, [str(i) for i in ids]
    finally:
        for name in result.scratch:
            engine.drop(name)
