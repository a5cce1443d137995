"""The segment card: size, value, growth, the FACTS / SALES / VALUE canvas, index, sizing.

The canvas is the seeds' (FAKTA, SALG, VÆRDI): FACTS are who the customers are
(demographics or firmographics, tenure, consents), SALES what they buy, how much, how
often and through which channels (with the scores that predict it), VALUE what they need
and how they feel about the company (survey answers, NPS, needs-based macro segments).
Every trait of the profile base lands in one of the three (see :func:`canvas_section`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from segmint.profiles._base import ProfileBase
from segmint.profiles._config import ProfilesConfig
from segmint.profiles._groups import BASE, Group, membership
from segmint.profiles._index import (
    GroupStats,
    cell,
    distinguishing,
    group_stats,
    index,
    index_rows,
)
from segmint.profiles._sizing import Sizing, no_members, sizing
from segmint.profiles._survey import SurveyStats, survey_stats

FACTS = frozenset(
    {
        "age", "age_band", "gender", "country", "region", "city", "customer_type",
        "nace_code", "size_band", "employees", "revenue", "tenure_days", "consent_email",
        "consent_sms", "consent_profiling",
    }
)  # fmt: skip
VALUE = frozenset({"nps_last", "macro_segment", "macro_segment_name", "macro_probability"})
SECTIONS = ("facts", "sales", "value")


def canvas_section(name: str) -> str:
    """facts, sales or value: where a trait goes on the canvas."""
    if name in FACTS:
        return "facts"
    if name in VALUE or name.startswith(("q_", "need_", "macro_")):
        return "value"
    return "sales"


@dataclass
class SegmentCard:
    """Everything one card shows; ``to_dict()`` is the ``--json`` form."""

    group: Group
    run_id: str
    as_of: Any
    size: int
    base_size: int
    share: float | None
    revenue: float | None
    revenue_share: float | None
    revenue_12m_share: float | None
    clv: float | None
    clv_share: float | None
    growth: dict[str, Any] | None
    canvas: dict[str, list[dict[str, Any]]]
    distinguishing: list[dict[str, Any]]
    survey: dict[str, Any] | None
    sizing: dict[str, Any] | None = None
    title: str | None = None
    rows: list[dict[str, Any]] = field(default_factory=list, repr=False)

    def to_dict(self) -> dict[str, Any]:
        d = {k: v for k, v in self.__dict__.items() if k != "rows"}
        d["group"] = self.group.to_dict()
        return d


@dataclass
class Profiles:
    """Cards of several groups computed together, with the base's figures."""

    cards: dict[str, SegmentCard]
    base: SegmentCard
    stats: GroupStats
    survey: SurveyStats | None
    sizing: dict[str, Sizing]


def _share(stats: GroupStats, group: str, column: str) -> tuple[float | None, float | None]:
    if column not in stats.totals.columns:
        return None, None
    value = cell(stats.totals, group, column) if group in stats.totals.index else 0.0
    base = cell(stats.totals, BASE, column)
    return value, (value / base if base > 0 else None)


def _growth(pb: ProfileBase, group: Group) -> dict[str, Any] | None:
    from segmint.runs import sizes_over_time

    if group.field is not None:
        return None  # traits are stored for the last run only
    history = [
        {"run_id": r["run_id"], "as_of": r["as_of"], "size": int(r["size"])}
        for r in sizes_over_time(pb.engine, group.name)
        if r["run_id"] <= pb.run_id
    ]
    if not history:
        return None
    prev = history[-2]["size"] if len(history) > 1 else None
    last = history[-1]["size"]
    return {
        "previous_size": prev,
        "change": None if prev is None else last - prev,
        "change_pct": None if not prev else (last - prev) / prev,
        "history": history,
    }


def _canvas(rows: list[dict[str, Any]], top_values: int = 3) -> dict[str, list[dict[str, Any]]]:
    """Per section: numeric and yes/no traits, and each categorical trait's top values."""
    out: dict[str, list[dict[str, Any]]] = {s: [] for s in SECTIONS}
    by_field: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        if r["kind"] == "categorical":
            by_field.setdefault(r["field"], []).append(r)
        else:
            out[canvas_section(r["field"])].append(r)
    for name, values in by_field.items():
        values = sorted(values, key=lambda r: (-(r["group"] or 0.0), r["value"]))
        out[canvas_section(name)].extend(v for v in values[:top_values] if v["group"])
    for items in out.values():  # most distinguishing first
        items.sort(key=lambda r: -_distance(r["index"]))
    return out


def _distance(idx: float | None) -> float:
    """How far an index is from 100, as a ratio either way (200 and 50 are as far)."""
    return abs(math.log(idx / 100.0)) if idx else -1.0


def _survey_part(survey: SurveyStats | None, group: str) -> dict[str, Any] | None:
    if survey is None or group not in survey.respondents.index:
        return None if survey is None else {"respondents": 0, "nps": None, "items": []}
    nps = float(survey.nps.get(group, float("nan")))
    base_nps = float(survey.nps.get(BASE, float("nan")))
    items = [
        {
            "item": c,
            "group": cell(survey.items, group, c),
            "base": cell(survey.items, BASE, c),
            "index": index(cell(survey.items, group, c), cell(survey.items, BASE, c)),
        }
        for c in survey.items.columns
    ]
    return {
        "respondents": int(survey.respondents[group]),
        "nps": None if nps != nps else nps,
        "base_nps": None if base_nps != base_nps else base_nps,
        "items": items,
    }


def profiles(
    pb: ProfileBase, groups: list[Group], settings: ProfilesConfig | None = None
) -> Profiles:
    """The cards of ``groups`` (and of the whole base), from one pass per figure kind."""
    settings = settings or ProfilesConfig()
    groups = list(dict.fromkeys(groups))  # a group asked for twice is counted once
    members = pb.keep(membership(pb, groups), "profile_members")
    stats = group_stats(pb, members)
    survey = survey_stats(pb, members)
    sized = sizing(pb, members, settings)
    base_group = Group("(all customers)")
    cards = {g.name: _card(pb, g, g.name, stats, survey, sized, settings) for g in groups}
    base = _card(pb, base_group, BASE, stats, survey, sized, settings)
    return Profiles(cards, base, stats, survey, sized)


def _card(
    pb: ProfileBase,
    group: Group,
    key: str,
    stats: GroupStats,
    survey: SurveyStats | None,
    sized: dict[str, Sizing],
    settings: ProfilesConfig,
) -> SegmentCard:
    size = int(stats.sizes.get(key, 0))
    rows = index_rows(stats, key, pb) if size else []
    revenue, revenue_share = _share(stats, key, "monetary")
    _, revenue_12m_share = _share(stats, key, "spend_365d")
    clv, clv_share = _share(stats, key, "clv")
    s = sized.get(key)
    if s is None and settings.market is not None:
        s = no_members(key, settings)
    return SegmentCard(
        group=group,
        run_id=pb.run_id,
        as_of=pb.as_of,
        size=size,
        base_size=stats.base_size,
        share=size / stats.base_size if stats.base_size else None,
        revenue=revenue,
        revenue_share=revenue_share,
        revenue_12m_share=revenue_12m_share,
        clv=clv,
        clv_share=clv_share,
        growth=_growth(pb, group) if key != BASE else None,
        canvas=_canvas(rows),
        # a trait group's own trait is its definition, not a finding
        distinguishing=distinguishing(
            [r for r in rows if r["field"] != group.field], top=settings.top_traits
        )
        if key != BASE
        else [],
        survey=_survey_part(survey, key),
        sizing=s.to_dict() if s is not None else None,
        title=_title(pb, stats, group),
        rows=rows,
    )


def _title(pb: ProfileBase, stats: GroupStats, group: Group) -> str | None:
    """A trait group's name from its ``<field>_name`` trait (``cluster`` -> ``cluster_name``)."""
    if group.field is None:
        return None
    name_field = f"{group.field}_name"
    if name_field not in stats.counts or group.name not in stats.counts[name_field].index:
        return None
    row = stats.counts[name_field].loc[group.name]
    return str(row.idxmax()) if row.max() > 0 else None


def compare(a: SegmentCard, b: SegmentCard) -> list[dict[str, Any]]:
    """Side by side: every figure of two cards, with each one's index and the gap."""
    rb = {(r["field"], r["value"]): r for r in b.rows}
    out = []
    for r in a.rows:
        other = rb.get((r["field"], r["value"]))
        if other is None:
            continue
        ia, ib = r["index"], other["index"]
        out.append(
            {
                "field": r["field"],
                "value": r["value"],
                "kind": r["kind"],
                "section": canvas_section(r["field"]),
                "a": r["group"],
                "b": other["group"],
                "base": r["base"],
                "index_a": ia,
                "index_b": ib,
                "gap": None if ia is None or ib is None else ia - ib,
            }
        )
    out.sort(key=lambda x: -abs(x["gap"] or 0.0))
    return out
