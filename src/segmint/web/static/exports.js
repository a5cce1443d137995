/* Exports: export a segment to a destination of segmint.yaml or as a file (consent and
   suppression are enforced by the export), follow the jobs, download the file; the audit. */
"use strict";
(async () => {
  const { api, t, num, date, el, $, fill, page, showError } = segmint;
  const list = (r, key) => (Array.isArray(r) ? r : (r && (r[key] || r.items)) || []);
  const FORMATS = ["csv", "xlsx", "parquet"];
  let polling = null;

  const rowsOf = (report) => {
    if (!report) return null;
    for (const k of ["rows_sent", "rows", "exported"]) {
      if (typeof report[k] === "number") return report[k];
    }
    return null;
  };

  async function loadJobs() {
    const jobs = list(await api("/exports"), "exports");
    fill($("#jobs tbody"), jobs.map((j) => el("tr", { "data-job": j.job_id, "data-status": j.status },
      el("td", {}, j.job_id), el("td", {}, j.segment),
      el("td", {}, j.destination || t("file_format", { format: j.format || "" })),
      el("td", {}, j.status), el("td", {}, date(j.created_at)),
      el("td", { class: "num" }, num(rowsOf(j.report))),
      el("td", {}, j.download
        ? el("a", { href: j.download, download: "" }, t("download")) : j.error || ""))));
    const status = $("#export-status");
    const mine = jobs.find((j) => j.job_id === status.dataset.job);
    if (mine) {
      status.className = mine.status === "failed" ? "error" : "ok";
      status.textContent = `${t("job")} ${mine.job_id}: ${mine.status}`
        + (mine.error ? ` (${mine.error})` : "");
    }
    const busy = jobs.some((j) => !["done", "failed"].includes(j.status));
    clearTimeout(polling);
    if (busy) polling = setTimeout(() => loadJobs().catch(() => {}), 1000);
    else if (page.can_audit) await loadAudit();
  }

  async function loadAudit() {
    const audit = list(await api("/audit"), "audit");
    fill($("#audit tbody"), audit.slice(0, 100).map((a) => el("tr", {},
      el("td", {}, date(a.at)), el("td", {}, `${a.actor} (${a.role})`),
      el("td", {}, a.action), el("td", {}, a.target || ""), el("td", {}, a.status),
      el("td", {}, a.detail ? Object.entries(a.detail)
        .map(([k, v]) => `${k}: ${typeof v === "object" ? JSON.stringify(v) : v}`)
        .join("; ") : ""))));
  }

  async function start(ev) {
    ev.preventDefault();
    const status = $("#export-status");
    const to = $("#export-to").value;
    const body = { segment: $("#export-segment").value };
    if (to.startsWith("file:")) body.format = to.slice(5);
    else body.destination = to;
    if ($("#export-mode").value) body.mode = $("#export-mode").value;
    const channels = $("#export-channels").value.split(",").map((x) => x.trim()).filter(Boolean);
    if (channels.length) body.channels = channels;
    try {
      const r = await api("/exports", { method: "POST", json: body });
      status.className = "ok";
      status.textContent = `${t("job")} ${r.job_id}: ${r.status}`;
      status.dataset.job = r.job_id;
      await loadJobs();
    } catch (e) {
      status.className = "error";
      status.textContent = t("error", { message: e.message });
    }
  }

  try {
    const [dests, segs] = await Promise.all([
      api("/destinations").then((r) => list(r, "destinations")),
      api("/segments").then((r) => list(r, "segments")),
    ]);
    fill($("#destinations tbody"), dests.map((d) => el("tr", {},
      el("th", { scope: "row" }, d.name), el("td", {}, d.kind || ""),
      el("td", {}, (d.segments || []).join(", ")), el("td", {}, d.mode || ""))));
    $("#destinations-none").hidden = dests.length > 0;
    $("#export-segment").replaceChildren(...segs.filter((s) => s.size !== null)
      .map((s) => el("option", { value: s.name }, `${s.name} (${num(s.size)})`)));
    $("#export-to").replaceChildren(
      ...dests.map((d) => el("option", { value: d.name }, `${d.name} (${d.kind})`)),
      ...FORMATS.map((f) => el("option", { value: "file:" + f }, t("file_format", { format: f }))));
    $("#export-form").addEventListener("submit", start);
    await loadJobs();
    document.body.dataset.ready = "exports";
  } catch (e) {
    showError("#export-status", e);
  }
})();
