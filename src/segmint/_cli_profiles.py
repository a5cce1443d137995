"""``segmint profile`` and ``segmint report``: thin adapters over profiles and report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

LangOpt = Annotated[str, typer.Option("--lang", help="Language: en, da, sv or nb.")]
ProjectOpt = Annotated[
    Path, typer.Option("--project", "-p", help="Project folder.", show_default=False)
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print results as JSON.")]


def _check_lang(lang: str) -> None:
    from segmint.report import LANGUAGES

    if lang not in LANGUAGES:
        raise typer.BadParameter(f"use one of {', '.join(LANGUAGES)}", param_hint="--lang")


def register(app: typer.Typer) -> None:
    """Add the commands to the ``segmint`` app."""
    from segmint import cli

    @app.command()
    def profile(
        segment: Annotated[str, typer.Argument(help="Segment name, or FIELD=VALUE.")],
        versus: Annotated[
            str | None, typer.Option("--compare", help="A second segment, side by side.")
        ] = None,
        project: ProjectOpt = Path("."),
        lang: LangOpt = "en",
        as_json: JsonOpt = False,
    ) -> None:
        """Segment card: size, value, growth, FACTS / SALES / VALUE, index vs the base."""
        from segmint.profiles import profile as make

        _check_lang(lang)
        with cli._user_errors():
            proj = cli.service.open_project(project)
            try:
                found = make(proj, segment, versus=versus)
            finally:
                proj.close()
        if as_json:
            cli._print_json(found.to_dict())
            return
        print_card(found.card, lang)
        if found.other is not None and found.comparison is not None:
            print_card(found.other, lang)
            print_comparison(found.card.group.name, found.other.group.name, found.comparison,
                             lang)  # fmt: skip

    @app.command()
    def report(
        out_file: Annotated[
            Path | None, typer.Option("--out", help="HTML file (default: report.html).")
        ] = None,
        project: ProjectOpt = Path("."),
        lang: LangOpt = "en",
        as_json: JsonOpt = False,
    ) -> None:
        """Write one self-contained HTML report with charts (works offline)."""
        from segmint.report import write_report

        _check_lang(lang)
        with cli._user_errors():
            proj = cli.service.open_project(project)
            try:
                result = write_report(proj, out_file, lang=lang)
            finally:
                proj.close()
        if as_json:
            cli._print_json(result.to_dict())
            return
        cli.out.print(
            f"Report: [bold]{result.path}[/] ({len(result.charts)} charts, "
            f"{result.seconds:.1f} s); open it in a browser"
        )


def _fmt(x: Any, digits: int = 0) -> str:
    return "-" if x is None else f"{x:,.{digits}f}"


def _pct(x: float | None, digits: int = 1) -> str:
    return "-" if x is None else f"{100 * x:.{digits}f}%"


def print_card(card: Any, lang: str = "en") -> None:
    """The card in the terminal: key figures, the canvas, what sets the segment apart."""
    from segmint import cli
    from segmint.report._i18n import words

    w = words(lang)
    out = cli.out
    g = card.group
    title = card.title or (g.name if g.field is None else f"{w.trait(g.field)}: {g.value}")
    out.rule(f"{title}  (run {card.run_id})")
    growth = card.growth or {}
    line = (
        f"{w['size']}: [bold]{card.size:,}[/] of {card.base_size:,} ({_pct(card.share)}); "
        f"{w['share_revenue']}: {_pct(card.revenue_share)}"
    )
    if card.clv_share is not None:
        line += f"; {w['share_clv']}: {_pct(card.clv_share)}"
    if growth.get("change") is not None:
        line += f"; {w['growth']}: {growth['change']:+,}"
    out.print(line, highlight=False)
    for section in ("facts", "sales", "value"):
        t = Table(w["field"], w["this_segment"], w["average"], w["index_short"],
                  title=f"{w[section]}: {w[section + '_help']}", title_justify="left")  # fmt: skip
        items = [r for r in card.canvas[section] if r["index"] is not None]
        for r in items[:10]:
            label = w.trait(r["field"]) + (f": {r['value']}" if r["value"] is not None else "")
            if r["kind"] == "numeric":
                a, b = _fmt(r["group"], 2), _fmt(r["base"], 2)
            else:
                a, b = _pct(r["group"]), _pct(r["base"])
            t.add_row(label, a, b, _fmt(r["index"]))
        if section == "value" and card.survey:
            s = card.survey
            t.add_row(w["nps"], _fmt(s.get("nps")), _fmt(s.get("base_nps")), "")
            for it in s["items"]:
                t.add_row(w.trait(it["item"]), _fmt(it["group"], 2), _fmt(it["base"], 2),
                          _fmt(it["index"]))  # fmt: skip
        out.print(t)
    if card.distinguishing:
        t = Table(w["field"], w["index_short"], title=w["distinguishing"], title_justify="left")
        for r in card.distinguishing:
            label = w.trait(r["field"]) + (f": {r['value']}" if r["value"] is not None else "")
            t.add_row(label, _fmt(r["index"]))
        out.print(t)
    s = card.sizing
    if s:
        flag = f"  [bold red]{w['narrow']}[/]" if s["narrow"] else ""
        out.print(
            f"{w['market']}: {_fmt(s['market'])}; {w['penetration']}: "
            f"{_pct(s['penetration'], 3)}; {w['headroom']}: {_fmt(s['headroom'])}{flag}",
            highlight=False,
        )


def print_comparison(a: str, b: str, rows: list[dict[str, Any]], lang: str = "en") -> None:
    from segmint import cli
    from segmint.report._i18n import words

    w = words(lang)
    t = Table(w["field"], a, b, w["average"], f"{w['index_short']} {a}",
              f"{w['index_short']} {b}", title=f"{a} vs {b}", title_justify="left")  # fmt: skip
    for r in rows[:25]:
        label = w.trait(r["field"]) + (f": {r['value']}" if r["value"] is not None else "")
        if r["kind"] == "numeric":
            figs = (_fmt(r["a"], 2), _fmt(r["b"], 2), _fmt(r["base"], 2))
        else:
            figs = (_pct(r["a"]), _pct(r["b"]), _pct(r["base"]))
        t.add_row(label, *figs, _fmt(r["index_a"]), _fmt(r["index_b"]))
    cli.out.print(t)
