/* Customer 360: segments, history of entering and leaving, traits and scores, records. */
"use strict";
(async () => {
  const { api, t, trait, value, date, el, $, fill, page, segmentHref, showError } = segmint;
  if (!page.customer) return;
  try {
    const c = await api("/customers/" + encodeURIComponent(page.customer));
    $("#customer-status").textContent = "";
    $("#customer-segments").replaceChildren(...(c.segments || []).map((s) =>
      el("li", {}, el("a", { href: segmentHref(s) }, s))));
    if (!(c.segments || []).length) {
      $("#customer-segments").replaceChildren(el("li", { class: "muted" }, t("none_yet")));
    }
    fill($("#customer-history tbody"), (c.history || []).slice().reverse().map((h) => el("tr", {},
      el("td", {}, date(h.as_of || h.run_id)),
      el("td", {}, el("a", { href: segmentHref(h.segment) }, h.segment)),
      el("td", {}, h.change || h.event || h.kind || ""))));
    const traits = Object.entries(c.traits || {}).filter(([k]) => k !== "customer_id");
    fill($("#customer-traits tbody"), traits.map(([k, v]) => el("tr", {},
      el("th", { scope: "row" }, trait(k) === k ? k : `${trait(k)} (${k})`),
      el("td", {}, typeof v === "string" && /^\d{4}-\d\d-\d\dT/.test(v) ? date(v) : value(v)))));
    const records = c.records || (c.attributes ? [c.attributes] : []);
    $("#customer-records").replaceChildren(...records.map((r, i) => {
      // bookkeeping columns (_key, _row, _loaded_at ...) are not the customer's attributes
      const rows = Object.entries(r).filter(([k, v]) => !k.startsWith("_") && v !== null
        && v !== "");
      return el("table", { class: "data compact" },
        el("caption", {}, `${t("source")}: ${r._source || i + 1}`),
        el("tbody", {}, ...rows.map(([k, v]) => el("tr", {},
          el("th", { scope: "row" }, k), el("td", {}, value(v))))));
    }));
    document.body.dataset.ready = "customer";
  } catch (e) {
    showError("#customer-status", e);
    document.body.dataset.ready = "customer";
  }
})();
