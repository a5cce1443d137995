/* Dashboard: status figures, segment sizes (bar) and sizes over runs (lines), latest run. */
"use strict";
(async () => {
  const { api, t, num, date, el, $, plot, segmentHref, showError } = segmint;
  const list = (r, key) => (Array.isArray(r) ? r : (r && (r[key] || r.items)) || []);
  try {
    const [status, segs, runs] = await Promise.all([
      api("/status"), api("/segments"), api("/runs"),
    ]);
    const latest = status.latest_run || list(runs, "runs")[0] || null;
    $("#kpi-customers").textContent = num(status.customers);
    $("#kpi-revenue").textContent = num(
      status.revenue_365d !== undefined ? status.revenue_365d : status.revenue);
    const segments = list(segs, "segments");
    $("#kpi-segments").textContent = num(segments.length);
    $("#kpi-run").textContent = latest ? date(latest.as_of) : "–";
    const published = status.replica && status.replica.published_at;
    $("#status-line").textContent = published ? t("data_as_of", { time: date(published) }) : "";
    if (!latest) $("#status-line").textContent = t("no_run");
    $("#latest-run").replaceChildren(runTable(latest));

    const sized = segments.filter((s) => s.size !== null && s.size !== undefined)
      .sort((a, b) => b.size - a.size);
    if (sized.length) {
      const shown = sized.slice(0, 25).reverse();
      await plot("chart-sizes", [{
        type: "bar", orientation: "h",
        x: shown.map((s) => s.size), y: shown.map((s) => s.name),
        customdata: shown.map((s) => s.name),
        hovertemplate: "%{y}: %{x:,}<extra></extra>", marker: { color: "#0b5cad" },
      }], { margin: { l: 160, r: 20, t: 10, b: 40 }, height: Math.max(320, 22 * shown.length + 60) });
      document.getElementById("chart-sizes").on("plotly_click", (ev) => {
        window.location.assign(segmentHref(ev.points[0].customdata));
      });
      // sizes over runs: the rule segments first, then the largest others (at most 8 lines)
      const rules = sized.filter((s) => s.kind === "rule");
      const picks = [...rules, ...sized.filter((s) => s.kind !== "rule")].slice(0, 8);
      const details = await Promise.all(
        picks.map((s) => api("/segments/" + encodeURIComponent(s.name)).catch(() => null)));
      // one category per run, in run order, named by its as-of date in the page's language
      const found = details.filter(Boolean);
      const runs = [...new Map(found.flatMap((d) => d.sizes || [])
        .map((r) => [r.run_id, r])).values()].sort((a, b) => (a.run_id < b.run_id ? -1 : 1));
      const label = (r) => date(r.as_of || r.run_id);
      const traces = found.map((d) => ({
        type: "scatter", mode: "lines+markers", name: d.name,
        x: (d.sizes || []).map(label), y: (d.sizes || []).map((r) => r.size),
        hovertemplate: "%{fullData.name}: %{y:,}<extra></extra>",
      }));
      await plot("chart-trends", traces, {
        legend: { orientation: "h", y: -0.3, yanchor: "top" },
        margin: { l: 60, r: 20, t: 10, b: 110 }, height: 440,
        yaxis: { title: { text: t("customers") }, rangemode: "tozero" },
        xaxis: { type: "category", categoryorder: "array",
                 categoryarray: [...new Set(runs.map(label))], title: { text: t("as_of") } },
      });
    } else {
      $("#chart-sizes").replaceChildren(el("p", { class: "muted" }, t("no_run")));
      $("#chart-trends").replaceChildren(el("p", { class: "muted" }, t("no_run")));
    }
    document.body.dataset.ready = "dashboard";
  } catch (e) {
    showError("#status-line", e);
  }

  function runTable(run) {
    if (!run) return el("p", { class: "muted" }, t("no_run"));
    const row = (k, v) => el("tr", {}, el("th", { scope: "row" }, k), el("td", {}, v));
    return el("table", { class: "data compact", id: "latest-run-table" },
      el("caption", { class: "visually-hidden" }, t("latest_run")),
      el("tbody", {},
        row(t("run"), run.run_id || "–"),
        row(t("as_of"), date(run.as_of)),
        row(t("status"), run.status || "–"),
        row(t("finished"), date(run.finished_at)),
        row(t("customers"), num(run.customers)),
        row(t("segment_list"), num(run.segments))));
  }
})();
