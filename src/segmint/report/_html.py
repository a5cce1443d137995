"""One self-contained HTML page: plotly.js inlined once, every chart a div and a script.

plotly ships its JavaScript inside the Python package (``plotly.offline.get_plotlyjs``), so
the page needs no network to be viewed; the style is a few lines of CSS written here.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

import plotly.graph_objects as go
import plotly.io as pio
from plotly.offline import get_plotlyjs

CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:0;color:#1b2631;
background:#f4f6f8}
header{background:#1f4e79;color:#fff;padding:18px 32px}header h1{margin:0;font-size:26px}
header p{margin:4px 0 0;opacity:.85}nav{padding:8px 32px;background:#e8edf2;font-size:14px}
nav a{margin-right:16px;color:#1f4e79;text-decoration:none}main{padding:8px 32px 40px}
section{background:#fff;border-radius:8px;padding:16px 20px;margin:18px 0;
box-shadow:0 1px 3px rgba(0,0,0,.08)}h2{margin-top:0;color:#1f4e79}h3{margin:18px 0 6px}
.kpis{display:flex;flex-wrap:wrap;gap:12px}.kpi{background:#eef3f8;border-radius:6px;
padding:10px 16px;min-width:170px}.kpi b{display:block;font-size:22px;color:#1f4e79}
table{border-collapse:collapse;font-size:13px;margin:8px 0}th,td{padding:4px 10px;
border-bottom:1px solid #e3e7eb;text-align:left}td.n{text-align:right;
font-variant-numeric:tabular-nums}.canvas{display:grid;grid-template-columns:repeat(3,1fr);
gap:12px}.canvas>div{background:#f8fafc;border-radius:6px;padding:8px 12px}
.canvas h4{margin:0 0 4px;color:#1f4e79;letter-spacing:.05em}.card{border-top:3px solid
#2e86c1;padding-top:8px;margin-top:18px}.flag{color:#c0392b;font-weight:600}
.note{color:#5d6d7e;font-size:13px}.up{color:#27ae60}.down{color:#c0392b}
"""


class Page:
    """Sections and charts in order; :meth:`render` makes the document."""

    def __init__(self, title: str, subtitle: str, lang: str) -> None:
        self.title = title
        self.subtitle = subtitle
        self.lang = lang
        self.sections: list[tuple[str, str, str]] = []
        self.charts: list[str] = []

    def chart(self, fig: go.Figure, name: str) -> str:
        """The HTML of one chart (its id is recorded in :attr:`charts`)."""
        div_id = f"chart-{len(self.charts) + 1}-{name}"
        self.charts.append(div_id)
        return pio.to_html(
            fig,
            full_html=False,
            include_plotlyjs=False,
            div_id=div_id,
            config={"displaylogo": False, "responsive": True},
        )

    def section(self, anchor: str, title: str, body: str) -> None:
        self.sections.append((anchor, title, body))

    def render(self) -> str:
        nav = "".join(f'<a href="#{a}">{esc(t)}</a>' for a, t, _ in self.sections)
        body = "".join(
            f'<section id="{a}"><h2>{esc(t)}</h2>{b}</section>' for a, t, b in self.sections
        )
        return (
            f'<!DOCTYPE html><html lang="{self.lang}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{esc(self.title)}</title><style>{CSS}</style>"
            f'<script type="text/javascript">{get_plotlyjs()}</script></head><body>'
            f"<header><h1>{esc(self.title)}</h1><p>{esc(self.subtitle)}</p></header>"
            f"<nav>{nav}</nav><main>{body}</main></body></html>"
        )


def esc(text: Any) -> str:
    return html.escape(str(text), quote=True)


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], numeric: set[int]) -> str:
    """An HTML table; columns in ``numeric`` are right-aligned (already formatted text)."""
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="n">{esc(v)}</td>' if i in numeric else f"<td>{esc(v)}</td>"
            for i, v in enumerate(r)
        )
        + "</tr>"
        for r in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def kpis(items: Sequence[tuple[str, str]]) -> str:
    return (
        '<div class="kpis">'
        + "".join(
            f'<div class="kpi">{esc(label)}<b>{esc(value)}</b></div>' for label, value in items
        )
        + "</div>"
    )


def note(text: str) -> str:
    return f'<p class="note">{esc(text)}</p>'
