/* Segment builder: conditions from GET /fields, the live count from POST /segments/preview
   (debounced, the latest answer wins), errors shown at the input they name, saved with
   POST /segments; the definition is shown as the YAML segmint.yaml holds. */
"use strict";
(async () => {
  const { api, t, trait, num, date, el, $, page, segmentHref, customerHref, showError, toYaml } =
    segmint;
  const NO_VALUE = new Set(["is_null", "not_null"]);
  const LIST = new Set(["in", "not_in"]);
  const FALLBACK_OPS = ["=", "!=", "<", "<=", ">", ">=", "between", "in", "not_in", "is_null",
    "not_null"];
  let fields = [];
  let byName = new Map();
  let counter = 0; // ids of condition rows
  let seq = 0; // preview requests: only the latest answer is shown
  let timer = null;

  const live = $("#live-count");
  const setLive = (state, count) => {
    live.dataset.state = state;
    if (count !== undefined) {
      live.dataset.count = String(count);
      live.textContent = num(count);
    } else if (state !== "ready") {
      delete live.dataset.count;
      live.textContent = state === "pending" ? "…" : "–";
    }
  };

  function fieldType(f) { return f.family || f.type || "other"; }
  function opsOf(name) {
    const f = byName.get(name);
    const ops = f && (f.ops || f.operators);
    return ops && ops.length ? ops : FALLBACK_OPS;
  }

  function addCondition(init) {
    const id = ++counter;
    const li = el("li", { "data-condition": String(id) });
    const fieldSel = el("select", { id: `c${id}-field`, name: "field", "data-role": "field" },
      el("option", { value: "" }, "—"),
      ...groupedFieldOptions());
    const opSel = el("select", { id: `c${id}-op`, name: "op", "data-role": "op" });
    const value = el("input", { id: `c${id}-value`, name: "value", type: "text",
      "data-role": "value", "aria-describedby": `value-help c${id}-error` });
    const remove = el("button", { type: "button", class: "secondary", "data-role": "remove",
      "aria-label": `${t("remove")}: ${t("condition_n", { n: id })}` }, t("remove"));
    const err = el("p", { id: `c${id}-error`, class: "error cond-error", "aria-live": "polite" });
    const box = el("div", { class: "condition", role: "group",
      "aria-label": t("condition_n", { n: id }) },
      el("div", { class: "field" }, el("label", { for: fieldSel.id }, t("cond_field")), fieldSel),
      el("div", {}, el("label", { for: opSel.id }, t("operator")), opSel),
      el("div", {}, el("label", { for: value.id }, t("cond_value")), value),
      remove, err);
    li.append(box);
    $("#conditions").append(li);
    const syncOps = () => {
      const keep = opSel.value;
      opSel.replaceChildren(...opsOf(fieldSel.value).map((o) => el("option", { value: o }, o)));
      if (opsOf(fieldSel.value).includes(keep)) opSel.value = keep;
      syncValue();
    };
    const syncValue = () => {
      value.disabled = NO_VALUE.has(opSel.value);
      const f = byName.get(fieldSel.value);
      const type = f ? fieldType(f) : "";
      value.placeholder = opSel.value === "between" ? "low, high"
        : LIST.has(opSel.value) ? "a, b, c"
        : opSel.value === "within_last" ? "90d"
        : type === "boolean" ? "true / false" : type === "date" ? "2026-01-31" : "";
    };
    fieldSel.addEventListener("change", () => { syncOps(); changed(); });
    opSel.addEventListener("change", () => { syncValue(); changed(); });
    value.addEventListener("input", changed);
    remove.addEventListener("click", () => {
      li.remove();
      changed();
      const first = $("#conditions select");
      (first || $("#add-condition")).focus();
    });
    if (init) {
      fieldSel.value = init.field || "";
      syncOps();
      if (init.op) opSel.value = init.op;
      if (init.value !== undefined) value.value = init.value;
      syncValue();
    } else {
      syncOps();
    }
    return fieldSel;
  }

  function groupedFieldOptions() {
    const groups = new Map();
    for (const f of fields) {
      const g = f.source || f.kind || "";
      if (!groups.has(g)) groups.set(g, []);
      groups.get(g).push(f);
    }
    const opts = (fs) => fs.map((f) => el("option", { value: f.name },
      trait(f.name) === f.name ? f.name : `${trait(f.name)} (${f.name})`));
    if (groups.size <= 1) return opts(fields);
    return [...groups].map(([g, fs]) => el("optgroup", { label: g || "—" }, ...opts(fs)));
  }

  function parseScalar(text, type) {
    const s = text.trim();
    if (type === "number" && s !== "" && !Number.isNaN(Number(s))) return Number(s);
    if (type === "boolean") {
      if (/^(true|yes|ja|1)$/i.test(s)) return true;
      if (/^(false|no|nej|nei|0)$/i.test(s)) return false;
    }
    return s;
  }

  /** The conditions as the rule language writes them; rows without a field are left out. */
  function conditions() {
    const out = [];
    for (const li of document.querySelectorAll("#conditions > li")) {
      const field = li.querySelector("[data-role=field]").value;
      const op = li.querySelector("[data-role=op]").value;
      const raw = li.querySelector("[data-role=value]").value;
      if (!field) continue;
      const f = byName.get(field);
      const type = f ? fieldType(f) : "text";
      const c = { field, op };
      if (NO_VALUE.has(op)) { /* no value */ } else if (op === "between" || LIST.has(op)) {
        c.value = raw.split(",").map((x) => x.trim()).filter((x) => x !== "")
          .map((x) => parseScalar(x, type));
      } else if (op === "within_last") {
        c.value = raw.trim();
      } else {
        c.value = parseScalar(raw, type);
      }
      out.push({ li, condition: c });
    }
    return out;
  }

  function definition() {
    const match = document.querySelector("input[name=match]:checked").value;
    const conds = conditions().map((x) => x.condition);
    const def = { name: $("#seg-name").value.trim() };
    const description = $("#seg-description").value.trim();
    if (description) def.description = description;
    def.rule = { [match]: conds };
    return def;
  }

  function clearErrors() {
    for (const n of document.querySelectorAll(".invalid")) n.classList.remove("invalid");
    for (const n of document.querySelectorAll(".cond-error")) n.textContent = "";
    for (const n of document.querySelectorAll("[aria-invalid]")) n.removeAttribute("aria-invalid");
    $("#rule-error").textContent = "";
    $("#seg-name-error").textContent = "";
  }

  /** Put an API error next to what it names: rule.all[1].value -> condition 2's value. */
  function showApiError(err) {
    const path = err.field || "";
    const m = /rule\.(?:all|any)\[(\d+)\](?:\.(\w+))?/.exec(path);
    const rows = conditions();
    if (m && rows[Number(m[1])]) {
      const li = rows[Number(m[1])].li;
      const role = ["field", "op", "value"].includes(m[2]) ? m[2] : "field";
      const input = li.querySelector(`[data-role=${role}]`);
      input.classList.add("invalid");
      input.setAttribute("aria-invalid", "true");
      li.querySelector(".cond-error").textContent = err.message;
      return;
    }
    if (path === "name" || path.endsWith(".name") && !path.includes("rule")) {
      $("#seg-name").classList.add("invalid");
      $("#seg-name").setAttribute("aria-invalid", "true");
      $("#seg-name-error").textContent = err.message;
      return;
    }
    $("#rule-error").textContent = err.message;
  }

  function changed() {
    $("#yaml").textContent = toYaml(definition());
    $("#save-status").textContent = "";
    clearTimeout(timer);
    timer = setTimeout(refresh, 350);
    setLive("pending");
  }

  async function refresh() {
    const def = definition();
    const mine = ++seq;
    clearErrors();
    const conds = def.rule.all || def.rule.any;
    if (!conds.length) {
      setLive("empty");
      $("#live-sample").replaceChildren();
      return;
    }
    try {
      const r = await api("/segments/preview", { method: "POST", json: { rule: def.rule } });
      if (mine !== seq) return;
      setLive("ready", r.count);
      $("#live-asof").textContent = r.as_of ? `${t("as_of")} ${date(r.as_of)}` : "";
      $("#live-sample").replaceChildren(...(r.sample || []).slice(0, 10).map((id) =>
        el("li", {}, page.user && page.user.role !== "viewer"
          ? el("a", { href: customerHref(id) }, id) : id)));
    } catch (e) {
      if (mine !== seq) return;
      setLive("error");
      showApiError(e);
    }
  }

  async function save(ev) {
    ev.preventDefault();
    clearErrors();
    const def = definition();
    if (!/^[A-Za-z][A-Za-z0-9_-]*$/.test(def.name)) {
      showApiError({ field: "name", message: t("segment_name") + ": a-z, 0-9, _ -" });
      $("#seg-name").focus();
      return;
    }
    const status = $("#save-status");
    try {
      const r = page.edit
        ? await api("/segments/" + encodeURIComponent(page.edit), { method: "PUT", json: def })
        : await api("/segments", { method: "POST", json: def });
      if (r && typeof r.yaml === "string") $("#yaml").textContent = r.yaml;
      status.className = "ok";
      status.replaceChildren(t("saved"), " ",
        el("a", { href: segmentHref(def.name), id: "saved-link" }, t("open_segment")));
      status.dataset.saved = def.name;
    } catch (e) {
      status.className = "error";
      status.textContent = t("error", { message: e.message });
      showApiError(e);
    }
  }


  try {
    const r = await api("/fields");
    fields = (Array.isArray(r) ? r : r.fields || r.items || []).slice()
      .sort((a, b) => a.name.localeCompare(b.name));
    byName = new Map(fields.map((f) => [f.name, f]));
  } catch (e) {
    showError("#rule-error", e);
  }
  $("#add-condition").addEventListener("click", () => addCondition().focus());
  for (const r of document.querySelectorAll("input[name=match]")) r.addEventListener("change", changed);
  $("#seg-name").addEventListener("input", () => { $("#yaml").textContent = toYaml(definition()); });
  $("#seg-description").addEventListener("input", () => {
    $("#yaml").textContent = toYaml(definition());
  });
  $("#builder").addEventListener("submit", save);
  if (!page.can_write) {
    $("#save").disabled = true;
    $("#save-status").textContent = t("role_too_low_part", {
      role: page.user.role, needed: "admin" });
  }
  if (page.edit) {
    await loadForEdit(page.edit);
  } else {
    addCondition();
    $("#yaml").textContent = toYaml(definition());
    setLive("empty");
  }
  document.body.dataset.ready = "builder";

  /** The form's conditions, when the rule is a flat all / any of field conditions. */
  function formConditions(rule) {
    const simple = (c) => c && typeof c === "object" && "field" in c && "op" in c
      && Object.keys(c).every((k) => ["field", "op", "value"].includes(k));
    if (simple(rule)) return { match: "all", conds: [rule] };
    for (const match of ["all", "any"]) {
      if (rule && Array.isArray(rule[match]) && Object.keys(rule).length === 1
          && rule[match].every(simple)) return { match, conds: rule[match] };
    }
    return null;
  }

  async function loadForEdit(name) {
    try {
      const d = await api("/segments/" + encodeURIComponent(name));
      const def = d.definition;
      const form = def && formConditions(def.rule);
      if (def) $("#seg-description").value = def.description || "";
      if (!form) {
        $("#rule-error").textContent = t("cannot_edit");
        $("#save").disabled = true;
        $("#yaml").textContent = def ? toYaml(def) : "";
        return;
      }
      document.querySelector(`input[name=match][value=${form.match}]`).checked = true;
      const text = (v) => (v === null || v === undefined ? ""
        : Array.isArray(v) ? v.join(", ") : String(v));
      for (const c of form.conds) addCondition({ field: c.field, op: c.op, value: text(c.value) });
      changed();
    } catch (e) {
      showError("#rule-error", e);
    }
  }

  const del = document.getElementById("delete");
  if (del) {
    del.addEventListener("click", async () => {
      if (!window.confirm(t("confirm_delete", { name: page.edit }))) return;
      try {
        await api("/segments/" + encodeURIComponent(page.edit), { method: "DELETE" });
        window.location.assign("/segments");
      } catch (e) {
        $("#save-status").className = "error";
        $("#save-status").textContent = t("error", { message: e.message });
      }
    });
  }
})();
