/* Segment list: every segment with its size at the last run; filter as you type. */
"use strict";
(async () => {
  const { api, t, num, el, $, fill, segmentHref, showError } = segmint;
  let rows = [];
  function render() {
    const q = $("#segment-filter").value.trim().toLowerCase();
    const shown = rows.filter((s) => !q || s.name.toLowerCase().includes(q)
      || (s.description || "").toLowerCase().includes(q));
    fill($("#segments-table tbody"), shown.map((s) => el("tr", {},
      el("th", { scope: "row" }, el("a", { href: segmentHref(s.name) }, s.name)),
      el("td", {}, s.kind === "rule" ? t("rule") : t("family")),
      el("td", { class: "num" }, s.size === null || s.size === undefined
        ? el("span", { class: "muted" }, t("not_evaluated")) : num(s.size)),
      el("td", { class: "num" }, num(s.entered)),
      el("td", { class: "num" }, num(s.exited)),
      el("td", {}, s.description || ""))));
    $("#segments-status").textContent = `${num(shown.length)} / ${num(rows.length)}`;
  }
  try {
    const r = await api("/segments");
    rows = Array.isArray(r) ? r : r.segments || r.items || [];
    render();
    $("#segment-filter").addEventListener("input", render);
    document.body.dataset.ready = "segments";
  } catch (e) {
    showError("#segments-status", e);
  }
})();
