/* Models: one section per model card with its metrics, drivers and calibration chart. */
"use strict";
(async () => {
  const { api, t, trait, value, el, $, plot, showError } = segmint;
  const scalars = (obj) => Object.entries(obj || {}).filter(([, v]) => v === null
    || ["number", "string", "boolean"].includes(typeof v));
  const table = (caption, rows) => el("table", { class: "data compact" },
    el("caption", { class: "visually-hidden" }, caption),
    el("tbody", {}, ...rows.map(([k, v]) => el("tr", {},
      el("th", { scope: "row" }, k), el("td", { class: "num" }, value(v))))));
  try {
    const r = await api("/models");
    const cards = Array.isArray(r) ? r : r.models || r.cards || r.items || [];
    $("#models-status").textContent = cards.length ? "" : t("no_models");
    const plots = [];
    cards.forEach((card, i) => {
      const metrics = card.metrics || card.validation || {};
      const drivers = (card.drivers || []).slice().sort((a, b) => a.importance - b.importance);
      const calibration = metrics.calibration || [];
      // a purchase model's holdout check: actual and predicted orders per group of customers
      const groups = (metrics.groups || []).filter((g) => g.actual_mean !== undefined);
      const facts = [...scalars(metrics), ...scalars(card.parameters),
        ...scalars({ log_likelihood: card.log_likelihood, converged: card.converged })
          .filter(([, v]) => v !== null && v !== undefined)];
      const section = el("section", { class: "card model", "aria-labelledby": `model-${i}-h` },
        el("h2", { id: `model-${i}-h` }, card.model || `model ${i + 1}`),
        card.fitted_at ? el("p", { class: "muted small" }, card.fitted_at) : null,
        el("div", { class: "grid2" },
          el("div", {}, el("h3", {}, t("metrics")),
            table(t("metrics"), facts)),
          el("div", {},
            drivers.length ? [el("h3", {}, t("drivers")),
              el("div", { id: `model-${i}-drivers`, class: "chart", role: "img",
                          "aria-label": t("drivers") })] : null,
            calibration.length ? [el("h3", {}, t("calibration")),
              el("div", { id: `model-${i}-calibration`, class: "chart", role: "img",
                          "aria-label": t("calibration") })] : null,
            groups.length ? [el("h3", {}, t("clv_check")),
              el("div", { id: `model-${i}-check`, class: "chart", role: "img",
                          "aria-label": t("clv_check") })] : null)));
      $("#models").append(section);
      if (drivers.length) {
        plots.push(plot(`model-${i}-drivers`, [{
          type: "bar", orientation: "h", x: drivers.map((d) => d.importance),
          y: drivers.map((d) => d.label || trait(d.name)), marker: { color: "#0b5cad" },
        }], { margin: { l: 200, r: 20, t: 10, b: 40 } }));
      }
      if (calibration.length) {
        const hi = Math.max(...calibration.map((b) => Math.max(b.predicted, b.observed)), 0.01);
        plots.push(plot(`model-${i}-calibration`, [
          { type: "scatter", mode: "lines+markers", name: t("actual"),
            x: calibration.map((b) => b.predicted), y: calibration.map((b) => b.observed) },
          { type: "scatter", mode: "lines", name: t("predicted"), x: [0, hi], y: [0, hi],
            line: { dash: "dot", color: "#5b6475" } },
        ], { xaxis: { title: { text: t("predicted") } }, yaxis: { title: { text: t("actual") } },
             legend: { orientation: "h", y: -0.25 }, margin: { l: 60, r: 20, t: 10, b: 90 } }));
      }
      if (groups.length) {
        const x = groups.map((g) => g.label);
        plots.push(plot(`model-${i}-check`, [
          { type: "bar", name: t("actual"), x, y: groups.map((g) => g.actual_mean) },
          { type: "bar", name: t("predicted"), x, y: groups.map((g) => g.predicted_mean) },
        ], { barmode: "group", xaxis: { type: "category", title: { text: t("orders_before") } },
             legend: { orientation: "h", y: -0.3 }, margin: { l: 60, r: 20, t: 10, b: 90 } }));
      }
    });
    await Promise.all(plots);
    document.body.dataset.ready = "models";
  } catch (e) {
    showError("#models-status", e);
  }
})();
