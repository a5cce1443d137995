"""The report's charts: plotly figures built from figures already computed.

Charts receive aggregates (counts per bin, per cell, per segment), never per-customer
rows, so a report of a million customers embeds a few kilobytes of data per chart.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import plotly.graph_objects as go

from segmint.report._i18n import Words

PALETTE = ("#1f4e79", "#2e86c1", "#f39c12", "#27ae60", "#8e44ad", "#c0392b", "#16a085")
_LAYOUT: dict[str, Any] = {
    "template": "plotly_white",
    "margin": {"l": 60, "r": 20, "t": 40, "b": 50},
    "font": {"family": "system-ui, sans-serif", "size": 12},
    "height": 380,
}


#: plotly's number separators (decimal mark, then thousands) per language
SEPARATORS = {"en": ".,", "da": ",.", "sv": ", ", "nb": ", "}


def _fig(title: str, w: Words | None = None, **layout: Any) -> go.Figure:
    fig = go.Figure()
    extra = {"separators": SEPARATORS[w.lang]} if w is not None else {}
    fig.update_layout(
        **{**_LAYOUT, **extra, "title": {"text": title, "font": {"size": 14}}, **layout}
    )
    return fig


def segment_shares(rows: list[dict[str, Any]], w: Words) -> go.Figure:
    """Share of customers, revenue and CLV per segment, side by side."""
    names = [r["name"] for r in rows]
    fig = _fig(w["sizes_values"], w, barmode="group", height=max(300, 60 + 45 * len(rows)))
    series = [("share", "share_customers"), ("revenue_share", "share_revenue")]
    if any(r.get("clv_share") is not None for r in rows):
        series.append(("clv_share", "share_clv"))
    for i, (key, label) in enumerate(series):
        fig.add_bar(
            y=names,
            x=[100 * (r.get(key) or 0.0) for r in rows],
            name=w[label],
            orientation="h",
            marker_color=PALETTE[i],
            hovertemplate="%{y}: %{x:.1f}%<extra></extra>",
        )
    fig.update_xaxes(ticksuffix="%")
    fig.update_yaxes(autorange="reversed")
    return fig


def rfm_grid(cells: list[dict[str, Any]], w: Words) -> go.Figure:
    """Customers per (R, F) score: a 5 x 5 heat map with the counts written in."""
    z = np.zeros((5, 5))
    for c in cells:
        if c["r"] and c["f"]:
            z[int(c["f"]) - 1, int(c["r"]) - 1] = c["customers"]
    fig = _fig(w["rfm"], w, height=420)
    fig.add_heatmap(
        z=z,
        x=[1, 2, 3, 4, 5],
        y=[1, 2, 3, 4, 5],
        colorscale="Blues",
        text=[[f"{int(v):,}" for v in row] for row in z],
        texttemplate="%{text}",
        hovertemplate="R %{x} · F %{y}: %{text}<extra></extra>",
        colorbar={"title": {"text": w["customers"]}},
    )
    fig.update_xaxes(title=w["recency_score"], dtick=1)
    fig.update_yaxes(title=w["frequency_score"], dtick=1)
    return fig


def bars(
    labels: list[str], values: list[float], title: str, w: Words, *, color: str = PALETTE[0]
) -> go.Figure:
    fig = _fig(title, w, height=max(300, 60 + 30 * len(labels)))
    fig.add_bar(
        y=labels,
        x=values,
        orientation="h",
        marker_color=color,
        hovertemplate="%{y}: %{x:,.4g}<extra></extra>",
    )
    fig.update_yaxes(autorange="reversed")
    return fig


def histogram(
    edges: np.ndarray, counts: np.ndarray, title: str, x_title: str, w: Words
) -> go.Figure:
    """A histogram from bins counted beforehand (bars at the bin centres)."""
    fig = _fig(title, w, bargap=0.05)
    centres = (edges[:-1] + edges[1:]) / 2
    fig.add_bar(
        x=centres,
        y=counts,
        width=np.diff(edges),
        marker_color=PALETTE[1],
        hovertemplate="%{x:,.3g}: %{y:,}<extra></extra>",
    )
    fig.update_xaxes(title=x_title)
    fig.update_yaxes(title=w["customers"])
    return fig


def clv_check(groups: list[dict[str, Any]], w: Words) -> go.Figure:
    """The CLV model's holdout check: actual vs predicted orders per calibration group."""
    labels = [str(g["label"]) for g in groups]
    fig = _fig(w["clv_check"], w, barmode="group")
    fig.add_bar(x=labels, y=[g["actual_mean"] for g in groups], name=w["actual"],
                marker_color=PALETTE[0])  # fmt: skip
    fig.add_bar(x=labels, y=[g["predicted_mean"] for g in groups], name=w["predicted"],
                marker_color=PALETTE[2])  # fmt: skip
    fig.update_xaxes(title=w["orders_before"], type="category")
    return fig


def index_chart(rows: list[dict[str, Any]], w: Words, title: str) -> go.Figure:
    """Distinguishing traits as index bars around 100 (log scale: 50 and 200 look alike)."""
    labels = [r["label"] for r in rows]
    values = [max(float(r["index"]), 1.0) for r in rows]
    colors = [PALETTE[3] if v >= 100 else PALETTE[5] for v in values]
    # bars grow from 100 (the average customer) to the index, either way
    fig = _fig(title, w, height=max(280, 60 + 28 * len(rows)), margin={"l": 240, "r": 20,
               "t": 40, "b": 40})  # fmt: skip
    fig.add_bar(
        y=labels,
        x=[v - 100 for v in values],
        base=100,
        customdata=values,
        orientation="h",
        marker_color=colors,
        hovertemplate="%{y}: %{customdata:.0f}<extra></extra>",
    )
    fig.add_vline(x=100, line_dash="dot", line_color="#555")
    fig.update_xaxes(type="log", title=w["index"])
    fig.update_yaxes(autorange="reversed")
    return fig


def sizing_chart(rows: list[dict[str, Any]], w: Words) -> go.Figure:
    """Penetration per segment (bars), narrow segments in red."""
    fig = _fig(w["penetration"], w, height=max(300, 60 + 30 * len(rows)))
    fig.add_bar(
        y=[r["name"] for r in rows],
        x=[100 * (r["penetration"] or 0.0) for r in rows],
        orientation="h",
        marker_color=[PALETTE[5] if r["narrow"] else PALETTE[1] for r in rows],
        hovertemplate="%{y}: %{x:.3f}%<extra></extra>",
    )
    fig.update_xaxes(ticksuffix="%", title=w["penetration"])
    fig.update_yaxes(autorange="reversed")
    return fig


def sankey(flows: list[dict[str, Any]], title: str, w: Words, none: str) -> go.Figure:
    """Customers from each segment at one run (left) to each at the next (right)."""
    left = sorted({f["from"] for f in flows})
    right = sorted({f["to"] for f in flows})
    labels = [none if x == "(none)" else x for x in left] + [
        none if x == "(none)" else x for x in right
    ]
    fig = _fig(title, w, height=max(400, 30 * max(len(left), len(right))))
    names = sorted({*left, *right})
    color = {n: PALETTE[i % len(PALETTE)] for i, n in enumerate(names)}  # same on both sides
    fig.add_sankey(
        arrangement="snap",
        node={"label": labels, "pad": 12, "thickness": 14,
              "color": [color[x] for x in (*left, *right)]},
        link={
            "source": [left.index(f["from"]) for f in flows],
            "target": [len(left) + right.index(f["to"]) for f in flows],
            "value": [f["customers"] for f in flows],
            "color": [_transparent(color[f["from"]]) for f in flows],
        },
    )  # fmt: skip
    return fig


def _transparent(hex_color: str, alpha: float = 0.35) -> str:
    r, g, b = (int(hex_color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"
