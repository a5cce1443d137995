"""``segmint report``: gather the figures of the last run and write the HTML report.

Sections: overview; segment sizes and value; the RFM grid; CLV and churn distributions
with the models' checks and drivers; segment cards on the FACTS / SALES / VALUE canvas
(rule segments, and one card per value of each card trait present, such as clusters and
needs-based macro segments); sizing against the market table; movement between segments
across the last two runs (Sankey).  Everything per customer is aggregated in the engine
or binned before it reaches a chart.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import ibis
import numpy as np

from segmint.profiles import (
    BASE,
    Group,
    ProfileBase,
    Profiles,
    SegmentCard,
    canvas_section,
    family_segments,
    profile_base,
    profiles,
    trait_values,
    transitions,
)
from segmint.profiles._index import cell
from segmint.profiles._transitions import snapshot_runs
from segmint.project import Project
from segmint.report import _charts as charts
from segmint.report._html import Page, esc, kpis, note, table
from segmint.report._i18n import Words, words

FAMILIES = (("rfm-", "rfm_family"), ("lifecycle-", "lifecycle_family"), ("tier-", "tiers_family"))


@dataclass(frozen=True)
class ReportResult:
    """Where the report was written, which charts it holds, and how long it took."""

    path: str
    lang: str
    charts: list[str]
    sections: list[str]
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def number(x: float | int | None, lang: str, digits: int = 0) -> str:
    """``1234567.5`` in the language's way: 1,234,568 / 1.234.568 / 1 234 568."""
    if x is None or (isinstance(x, float) and x != x):
        return "–"
    text = f"{x:,.{digits}f}"
    if lang == "da":
        return text.replace(",", "_").replace(".", ",").replace("_", ".")
    if lang in ("sv", "nb"):
        return text.replace(",", "\u00a0").replace(".", ",")
    return text


def signed(x: int | None, lang: str) -> str:
    """A change with its sign: +1.234 / −56."""
    if x is None:
        return "–"
    return ("+" if x > 0 else "−" if x < 0 else "±") + number(abs(x), lang)


def percent(x: float | None, lang: str, digits: int = 1) -> str:
    return "–" if x is None else number(100 * x, lang, digits) + "\u00a0%"


def write_report(
    project: Project, out: Path | str | None = None, *, lang: str = "en"
) -> ReportResult:
    """Write the report of the last run to ``out`` (default: ``report.html`` in the project)."""
    clock = time.perf_counter()
    w = words(lang)
    path = Path(out) if out is not None else project.root / "report.html"
    eng = project.engine
    settings = project.config.profiles
    with profile_base(eng) as pb:
        segs = _rule_segments(project, pb)
        card_groups: dict[str, list[Group]] = {
            f: trait_values(pb, f) for f in settings.card_traits if f in pb.table.columns
        }
        groups = [Group(s) for s in segs] + [g for gs in card_groups.values() for g in gs]
        found = profiles(pb, groups, settings)
        page = Page(
            f"{project.config.name}: {w['title']}",
            w["generated"].format(
                run=pb.run_id,
                as_of=f"{pb.as_of:%Y-%m-%d}" if pb.as_of else "–",
                now=f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
            ),
            lang,
        )
        _overview(page, found, w, project.config.currency)
        _segments(page, found, segs, w)
        _rfm(page, pb, w)
        _clv_churn(page, pb, w)
        _cards(page, found, segs, card_groups, w)
        _sizing(page, found, segs, card_groups, project, w)
    _transitions(page, project, w)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(page.render(), encoding="utf-8")
    tmp.replace(path)
    return ReportResult(
        str(path),
        lang,
        list(page.charts),
        [a for a, _, _ in page.sections],
        round(time.perf_counter() - clock, 3),
    )


def _rule_segments(project: Project, pb: ProfileBase) -> list[str]:
    from segmint.profiles._groups import segment_names

    present = set(segment_names(pb))
    return [s.name for s in project.config.segments if s.name in present]


def _overview(page: Page, found: Profiles, w: Words, currency: str) -> None:
    b = found.base
    lang = w.lang
    stats = found.stats.totals
    items = [(w["customers"], number(b.size, lang))]
    if "monetary" in stats.columns:
        items.append((f"{w['revenue']} ({currency})", number(cell(stats, BASE, "monetary"), lang)))
    if "spend_365d" in stats.columns:
        items.append(
            (f"{w['revenue_12m']} ({currency})", number(cell(stats, BASE, "spend_365d"), lang))
        )
    if "clv" in stats.columns:
        items.append((f"{w['clv_total']} ({currency})", number(cell(stats, BASE, "clv"), lang)))
    if b.survey and b.survey.get("respondents"):
        items.append((w["nps"], number(b.survey.get("nps"), lang)))
        items.append((w["respondents"], number(b.survey["respondents"], lang)))
    page.section("overview", w["overview"], kpis(items))


def _segment_row(card: SegmentCard) -> dict[str, Any]:
    return {
        "name": card.title or card.group.name,  # segments: their names
        "share": card.share,
        "revenue_share": card.revenue_share,
        "clv_share": card.clv_share,
    }


def _segments(page: Page, found: Profiles, segs: list[str], w: Words) -> None:
    if not segs:
        return
    lang = w.lang
    cards = [found.cards[s] for s in segs]
    rows = []
    for c in cards:
        g = c.growth or {}
        change = g.get("change")
        rows.append(
            [
                c.group.name,
                number(c.size, lang),
                percent(c.share, lang),
                percent(c.revenue_share, lang),
                percent(c.clv_share, lang),
                signed(change, lang),
            ]
        )
    head = [w["segment"], w["size"], w["share_customers"], w["share_revenue"], w["share_clv"],
            w["growth"]]  # fmt: skip
    body = page.chart(charts.segment_shares([_segment_row(c) for c in cards], w), "segments")
    page.section("segments", w["sizes_values"], body + table(head, rows, {1, 2, 3, 4, 5}))


def _rfm(page: Page, pb: ProfileBase, w: Words) -> None:
    t = pb.table
    if not {"r", "f", "rfm_cell"} <= set(t.columns):
        return
    scored = t.filter(t.r.notnull() & t.f.notnull())
    grid = scored.group_by(["r", "f"]).aggregate(customers=scored.count())
    cells = grid.to_pyarrow().to_pylist()
    named = t.filter(t.rfm_cell.notnull())
    per = (
        named.group_by("rfm_cell")
        .aggregate(n=named.count())
        .order_by([ibis.desc("n"), "rfm_cell"])
        .to_pyarrow()
        .to_pylist()
    )
    body = note(w["rfm_help"]) + page.chart(charts.rfm_grid(cells, w), "rfm-grid")
    body += page.chart(
        charts.bars([r["rfm_cell"] for r in per], [r["n"] for r in per], w["rfm_cells"], w),
        "rfm-cells",
    )
    page.section("rfm", w["rfm"], body)


def _binned(pb: ProfileBase, column: str, *, clip: float | None) -> tuple[np.ndarray, np.ndarray]:
    values = pb.table.select(column).to_pyarrow().column(column).to_numpy(zero_copy_only=False)
    values = values[~np.isnan(values.astype("float64"))].astype("float64")
    top = float(np.quantile(values, clip)) if clip is not None and len(values) else None
    if top is not None:
        values = np.minimum(values, top)
    counts, edges = np.histogram(values, bins=40)
    return edges, counts


def _clv_churn(page: Page, pb: ProfileBase, w: Words) -> None:
    from segmint.runs import model_cards

    cards = {c.get("model", ""): c for c in model_cards(pb.engine, pb.run_id)}
    body = ""
    if "clv" in pb.numeric:
        edges, counts = _binned(pb, "clv", clip=0.99)
        body += page.chart(
            charts.histogram(edges, counts, w["clv_distribution"], w.trait("clv"), w), "clv"
        )
        bg = next((c for k, c in cards.items() if k in ("BG/NBD", "Pareto/NBD")), None)
        if bg and bg.get("validation"):
            body += page.chart(charts.clv_check(bg["validation"]["groups"], w), "clv-check")
    else:
        body += note(w["no_clv"])
    if "churn_probability" in pb.numeric:
        edges, counts = _binned(pb, "churn_probability", clip=None)
        body += page.chart(
            charts.histogram(edges, counts, w["churn_distribution"], w.trait("churn_probability"),
                             w),
            "churn",
        )  # fmt: skip
        churn = next((c for k, c in cards.items() if k.startswith("churn")), None)
        drivers = (churn or {}).get("drivers") or []
        if drivers:
            top = sorted(drivers, key=lambda d: -float(d.get("importance", 0)))[:12]
            body += page.chart(
                charts.bars(
                    [str(d.get("label") or d.get("name")) for d in top],
                    [float(d.get("importance", 0)) for d in top],
                    w["churn_drivers"],
                    w,
                    color=charts.PALETTE[5],
                ),
                "churn-drivers",
            )
    else:
        body += note(w["no_churn"])
    page.section("clv-churn", w["clv_churn"], body)


def title_of(card: SegmentCard, w: Words) -> str:
    """A segment's name; a trait group's name (``cluster_name``) or "Trait: value"."""
    if card.title:
        return card.title
    g = card.group
    return g.name if g.field is None else f"{w.trait(g.field)}: {g.value}"


def _label(w: Words, r: dict[str, Any]) -> str:
    name = w.trait(str(r["field"]))
    return f"{name}: {r['value']}" if r.get("value") is not None else name


def _figures(w: Words, r: dict[str, Any]) -> tuple[str, str]:
    """The group's and the base's figure: a mean, or a share."""
    lang = w.lang
    if r["kind"] == "numeric":
        b = r["base"]
        digits = 2 if b is not None and abs(b) < 10 else 0
        return number(r["group"], lang, digits), number(b, lang, digits)
    return percent(r["group"], lang), percent(r["base"], lang)


def _row(label: str, figures: tuple[str, str], idx: float | None, lang: str) -> str:
    return (
        f"<tr><td>{esc(label)}</td><td class='n'>{esc(figures[0])}</td>"
        f"<td class='n'>{esc(figures[1])}</td><td class='n'>{number(idx, lang)}</td></tr>"
    )


def _card_html(page: Page, card: SegmentCard, w: Words, anchor: str) -> str:
    lang = w.lang
    title = title_of(card, w)
    facts = [
        (w["size"], number(card.size, lang)),
        (w["share_customers"], percent(card.share, lang)),
        (w["share_revenue"], percent(card.revenue_share, lang)),
    ]
    if card.clv_share is not None:
        facts.append((w["share_clv"], percent(card.clv_share, lang)))
    g = card.growth or {}
    if g.get("change") is not None:
        facts.append((w["growth"], signed(g["change"], lang)))
    if card.survey and card.survey.get("respondents"):
        facts.append((w["nps"], number(card.survey.get("nps"), lang)))
    html = f'<div class="card" id="{esc(anchor)}"><h3>{esc(title)}</h3>' + kpis(facts)
    cols = []
    for section in ("facts", "sales", "value"):
        items = [
            r for r in card.canvas[section] if r["index"] is not None and r["group"] is not None
        ]
        lines = "".join(_row(_label(w, r), _figures(w, r), r["index"], lang) for r in items[:8])
        if section == "value" and card.survey:
            for it in card.survey["items"][:8]:
                figs = (number(it["group"], lang, 2), number(it["base"], lang, 2))
                lines += _row(w.trait(it["item"]), figs, it["index"], lang)
        head = (
            f"<tr><th></th><th>{esc(w['this_segment'])}</th><th>{esc(w['average'])}</th>"
            f"<th>{esc(w['index_short'])}</th></tr>"
        )
        cols.append(
            f"<div><h4>{esc(w[section])}</h4><p class='note'>{esc(w[section + '_help'])}</p>"
            f"<table>{head}{lines}</table></div>"
        )
    html += '<div class="canvas">' + "".join(cols) + "</div>"
    if card.distinguishing:
        rows = [{**r, "label": _label(w, r)} for r in card.distinguishing]
        html += page.chart(charts.index_chart(rows, w, f"{title}: {w['distinguishing']}"), "index")
    return html + "</div>"


def _cards(
    page: Page, found: Profiles, segs: list[str], by: dict[str, list[Group]], w: Words
) -> None:
    body = note(w["cards_help"])
    for s in segs:
        body += _card_html(page, found.cards[s], w, f"card-{s}")
    for field, groups in by.items():
        if not groups:
            continue
        body += f"<h3>{esc(w['cards_by'].format(field=w.trait(field)))}</h3>"
        for g in groups:
            body += _card_html(page, found.cards[g.name], w, f"card-{g.name}")
    page.section("cards", w["cards"], body)


def _sizing(
    page: Page,
    found: Profiles,
    segs: list[str],
    by: dict[str, list[Group]],
    project: Project,
    w: Words,
) -> None:
    settings = project.config.profiles
    market = settings.market
    if market is None or not found.sizing:
        page.section("sizing", w["sizing"], note(w["no_market"]))
        return
    lang = w.lang
    names = [*segs, *(g.name for gs in by.values() for g in gs)]
    rows, chart_rows = [], []
    for n in names:
        s = found.sizing.get(n)
        if s is None:
            continue
        title = title_of(found.cards[n], w)
        chart_rows.append({"name": title, "penetration": s.penetration, "narrow": s.narrow})
        rows.append(
            [
                title,
                number(s.members, lang),
                number(s.market, lang),
                percent(s.penetration, lang, 3),
                number(s.headroom, lang),
                percent(s.market_share, lang),
                w["narrow"] if s.narrow else "",
            ]
        )
    base = found.sizing.get(BASE)
    if base is not None:
        rows.append(
            [
                w["average"],
                number(base.members, lang),
                number(base.market, lang),
                percent(base.penetration, lang, 3),
                number(base.headroom, lang),
                percent(base.market_share, lang),
                "",
            ]
        )
    units = w["companies"] if "compan" in market.size else w["households"]
    keys = ", ".join(w.trait(k) for k in market.keys)
    body = note(w["sizing_help"].format(units=units, keys=keys))
    if chart_rows:
        body += page.chart(charts.sizing_chart(chart_rows, w), "sizing")
    head = [w["segment"], w["size"], w["market"], w["penetration"], w["headroom"],
            w["market_share"], w["narrow"]]  # fmt: skip
    body += table(head, rows, {1, 2, 3, 4, 5})
    body += note(
        w["narrow_help"].format(
            share=percent(settings.min_market_share, lang), n=settings.min_customers
        )
    )
    page.section("sizing", w["sizing"], body)


def _transitions(page: Page, project: Project, w: Words) -> None:
    eng = project.engine
    stored = snapshot_runs(eng)
    if len(stored) < 2:
        page.section("transitions", w["transitions"], note(w["need_two_runs"]))
        return
    body = note(w["transitions_help"].format(a=stored[1], b=stored[0]))
    prefixes = list(FAMILIES)
    prefixes += [(f"{f}-", f) for f in project.config.profiles.card_traits]
    for prefix, label in prefixes:
        names = family_segments(eng, prefix)
        if not names:
            continue
        moved = transitions(eng, names, from_run=stored[1], to_run=stored[0])
        flows = [
            {**f, "from": f["from"].removeprefix(prefix), "to": f["to"].removeprefix(prefix)}
            for f in moved.flows
        ]
        title = w[label] if label.endswith("_family") else w.trait(label)
        body += page.chart(charts.sankey(flows, title, w, w["none"]), f"sankey-{label}")
    page.section("transitions", w["transitions"], body)


__all__ = ["ReportResult", "canvas_section", "write_report"]
