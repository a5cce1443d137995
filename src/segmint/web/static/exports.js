/* Exports: destinations with a trigger, export jobs with their status and file, the audit. */
"use strict";
(async () => {
  const { api, t, date, el, $, fill, page, showError } = segmint;
  const list = (r, key) => (Array.isArray(r) ? r : (r && (r[key] || r.items)) || []);
  let polling = null;

  async function loadJobs() {
    const jobs = list(await api("/exports"), "exports");
    fill($("#jobs tbody"), jobs.map((j) => el("tr", {},
      el("td", {}, j.job || j.id || ""), el("td", {}, j.destination || ""),
      el("td", {}, j.status || ""), el("td", {}, date(j.created_at || j.created)),
      el("td", {}, j.status === "done"
        ? el("a", { href: `${page.api}/exports/${encodeURIComponent(j.job || j.id)}/file` },
          t("download")) : j.error || ""))));
    const busy = jobs.some((j) => !["done", "failed"].includes(j.status));
    clearTimeout(polling);
    if (busy) polling = setTimeout(() => loadJobs().catch(() => {}), 2000);
  }

  async function trigger(name) {
    const status = $("#export-status");
    try {
      const r = await api("/exports", { method: "POST", json: { destination: name } });
      status.className = "ok";
      status.textContent = `${t("job")} ${r.job || r.id || ""}: ${r.status || ""}`;
      await loadJobs();
    } catch (e) {
      status.className = "error";
      status.textContent = t("error", { message: e.message });
    }
  }

  try {
    const dests = list(await api("/destinations"), "destinations");
    fill($("#destinations tbody"), dests.map((d) => el("tr", {},
      el("th", { scope: "row" }, d.name), el("td", {}, d.kind || ""),
      el("td", {}, d.segment || (d.segments || []).join(", ")),
      el("td", {}, el("button", { type: "button", "aria-label": `${t("trigger")}: ${d.name}`,
        onclick: () => trigger(d.name) }, t("trigger"))))));
    if (!dests.length) $("#export-status").textContent = t("none_yet");
    await loadJobs();
    if (page.can_audit) {
      const audit = list(await api("/audit"), "audit");
      fill($("#audit tbody"), audit.slice(0, 100).map((a) => el("tr", {},
        el("td", {}, date(a.at || a.time || a.created_at)), el("td", {}, a.actor || a.who || ""),
        el("td", {}, a.action || ""),
        el("td", {}, typeof a.details === "string" ? a.details : JSON.stringify(a.details || "")))));
    }
    document.body.dataset.ready = "exports";
  } catch (e) {
    showError("#export-status", e);
  }
})();
