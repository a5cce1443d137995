/* Segment page: profile card (FACTS / SALES / VALUE with index vs all customers), size over
   runs, the definition, members (paged, filterable) and the CSV download. */
"use strict";
(async () => {
  const { api, t, trait, num, dec, pct, value, date, el, $, fill, plot, page, customerHref,
          showError, toYaml } = segmint;
  const name = page.segment;
  const enc = encodeURIComponent(name);
  const PAGE = 50;
  let offset = 0;
  let query = "";
  let pending = 0;

  const label = (r) => (r.value === null || r.value === undefined
    ? trait(r.field) : `${trait(r.field)}: ${r.value}`);
  const figure = (r, v) => (r.kind === "numeric" ? dec(v) : pct(v));
  const indexCell = (i) => el("td", {
    class: "num" + (i >= 120 ? " high" : i !== null && i <= 80 ? " low" : ""),
  }, i === null || i === undefined ? "–" : num(i));

  async function loadSegment() {
    const d = await api("/segments/" + enc);
    if (d.definition) {
      $("#segment-description").textContent = d.definition.description || "";
      $("#rule-section").hidden = false;
      $("#segment-yaml").textContent = toYaml(d.definition);
      if ($("#edit-link")) $("#edit-link").hidden = false;
    }
    const sizes = d.sizes || [];
    if (sizes.length) {
      await plot("chart-size", [{
        type: "scatter", mode: "lines+markers", x: sizes.map((r) => date(r.as_of || r.run_id)),
        y: sizes.map((r) => r.size), name: t("size"),
        hovertemplate: "%{x}: %{y:,}<extra></extra>", line: { color: "#0b5cad" },
      }], {
        yaxis: { title: { text: t("customers") }, rangemode: "tozero" },
        xaxis: { type: "category", title: { text: t("as_of") } },
      });
    } else {
      $("#chart-size").replaceChildren(el("p", { class: "muted" }, t("not_evaluated")));
    }
    return d;
  }

  async function loadProfile() {
    const c = await api("/profiles/" + enc);
    const card = c.card || c;
    const kpi = (k, v) => el("div", {}, el("dt", {}, t(k)), el("dd", {}, v));
    $("#profile-kpis").replaceChildren(
      kpi("size", num(card.size)), kpi("share_customers", pct(card.share)),
      kpi("revenue", num(card.revenue)), kpi("share_revenue", pct(card.revenue_share)),
      ...(card.growth && card.growth.change !== null && card.growth.change !== undefined
        ? [kpi("growth", `${card.growth.change >= 0 ? "+" : ""}${num(card.growth.change)}`)]
        : []));
    for (const part of ["facts", "sales", "value"]) {
      const rows = ((card.canvas || {})[part] || []).slice(0, 12);
      fill($(`#canvas-${part} tbody`), rows.map((r) => el("tr", {},
        el("th", { scope: "row" }, label(r)), el("td", { class: "num" }, figure(r, r.group)),
        el("td", { class: "num" }, figure(r, r.base)), indexCell(r.index))));
    }
    const top = (card.distinguishing || []).filter((r) => r.index).slice(0, 12).reverse();
    if (top.length) {
      await plot("chart-index", [{
        type: "bar", orientation: "h", x: top.map((r) => r.index), y: top.map(label),
        base: 0, marker: { color: top.map((r) => (r.index >= 100 ? "#1f7a3f" : "#b3261e")) },
        hovertemplate: "%{y}: %{x:.0f}<extra></extra>",
      }], {
        margin: { l: 220, r: 20, t: 10, b: 40 },
        shapes: [{ type: "line", x0: 100, x1: 100, yref: "paper", y0: 0, y1: 1,
                   line: { dash: "dot", color: "#5b6475" } }],
        xaxis: { title: { text: t("index") } },
      });
    } else {
      $("#chart-index").replaceChildren(el("p", { class: "muted" }, t("none_yet")));
    }
  }

  async function loadMembers() {
    const mine = ++pending;
    const params = new URLSearchParams({ offset: String(offset), limit: String(PAGE) });
    if (query) params.set("q", query);
    const r = await api(`/segments/${enc}/members?${params}`);
    if (mine !== pending) return;
    const items = r.members || r.items || [];
    const total = r.total !== undefined ? r.total : items.length;
    const rows = items.map((m) => (typeof m === "string" ? { customer_id: m } : m));
    const cols = rows.length ? Object.keys(rows[0]) : ["customer_id"];
    $("#members-table thead").replaceChildren(el("tr", {}, ...cols.map((c) => el("th", {
      scope: "col", class: typeof rows[0]?.[c] === "number" ? "num" : null,
    }, c === "customer_id" ? t("customer_id") : trait(c)))));
    fill($("#members-table tbody"), rows.map((m) => el("tr", {}, ...cols.map((c) => (
      c === "customer_id"
        ? el("th", { scope: "row" }, el("a", { href: customerHref(m[c]) }, m[c]))
        : el("td", { class: typeof m[c] === "number" ? "num" : null }, value(m[c])))))));
    $("#members-range").textContent = total
      ? t("page_of", { first: num(offset + 1), last: num(offset + items.length), total: num(total) })
      : t("none_yet");
    $("#members-prev").disabled = offset === 0;
    $("#members-next").disabled = offset + items.length >= total;
    $("#members-table").dataset.total = String(total);
  }

  try {
    await loadSegment();
    $("#segment-status").textContent = "";
  } catch (e) {
    showError("#segment-status", e);
    return;
  }
  const jobs = [loadProfile().catch((e) => showError("#profile-kpis", e))];
  if (page.can_members) {
    let timer = null;
    $("#member-filter").addEventListener("input", (ev) => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        query = ev.target.value.trim();
        offset = 0;
        loadMembers().catch((e) => showError("#members-range", e));
      }, 300);
    });
    $("#members-prev").addEventListener("click", () => {
      offset = Math.max(0, offset - PAGE);
      loadMembers().catch((e) => showError("#members-range", e));
    });
    $("#members-next").addEventListener("click", () => {
      offset += PAGE;
      loadMembers().catch((e) => showError("#members-range", e));
    });
    jobs.push(loadMembers().catch((e) => showError("#members-range", e)));
  }
  await Promise.all(jobs);
  document.body.dataset.ready = "segment";
})();
