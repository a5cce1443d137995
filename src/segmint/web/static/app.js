/* segmint web UI: helpers every page uses (labels, the API client, formatting, DOM, charts).
   Plain browser JavaScript, no build step. Data is always inserted as text, never as HTML. */
"use strict";
const segmint = (() => {
  const read = (id) => JSON.parse(document.getElementById(id).textContent);
  const words = read("segmint-words");
  const page = read("segmint-page");
  const LOCALES = { en: "en-GB", da: "da-DK", sv: "sv-SE", nb: "nb-NO" };
  const locale = LOCALES[words.lang] || "en-GB";

  function t(key, vars) {
    let s = words.labels[key] !== undefined ? words.labels[key] : key;
    for (const [k, v] of Object.entries(vars || {})) s = s.split("{" + k + "}").join(String(v));
    return s;
  }

  /** A trait's label in the page's language ("spend_90d" -> "Spend (90 days)"). */
  function trait(name) {
    if (words.traits[name]) return words.traits[name];
    const m = /^(.+)_(\d+)d$/.exec(name);
    if (m && words.windowed[m[1]]) return `${words.windowed[m[1]]} (${m[2]} ${words.days})`;
    if (name.startsWith("propensity_")) return `P(${name.slice(11)})`;
    return name;
  }

  class ApiError extends Error {
    constructor(status, body) {
      const e = (body && body.error) || {};
      super(e.message || `HTTP ${status}`);
      this.status = status;
      this.code = e.code;
      this.field = e.field;
      this.body = body;
    }
  }

  /** fetch /api/v1 + path with the session cookie; JSON in and out; 401 goes to /login. */
  async function api(path, options) {
    const opts = Object.assign({ credentials: "same-origin", headers: {} }, options || {});
    if (opts.json !== undefined) {
      opts.body = JSON.stringify(opts.json);
      opts.headers["Content-Type"] = "application/json";
      delete opts.json;
    }
    opts.headers.Accept = "application/json";
    const res = await fetch(page.api + path, opts);
    let body = null;
    const text = await res.text();
    if (text) {
      try { body = JSON.parse(text); } catch (e) { body = { error: { message: text.slice(0, 200) } }; }
    }
    if (res.status === 401 && !path.startsWith("/session")) {
      window.location.assign("/login?next=" + encodeURIComponent(location.pathname + location.search));
      throw new ApiError(401, body);
    }
    if (!res.ok) throw new ApiError(res.status, body);
    return body;
  }

  const nf = new Intl.NumberFormat(locale, { maximumFractionDigits: 0 });
  const nf2 = new Intl.NumberFormat(locale, { maximumFractionDigits: 2 });
  const pf = new Intl.NumberFormat(locale, { style: "percent", maximumFractionDigits: 1 });
  const num = (v) => (v === null || v === undefined || Number.isNaN(v) ? "–" : nf.format(v));
  const dec = (v) => (v === null || v === undefined || Number.isNaN(v) ? "–" : nf2.format(v));
  const pct = (v) => (v === null || v === undefined || Number.isNaN(v) ? "–" : pf.format(v));
  function value(v) {
    if (v === null || v === undefined) return "–";
    if (typeof v === "number") return Number.isInteger(v) ? num(v) : dec(v);
    if (typeof v === "boolean") return v ? "✓" : "✗";
    if (typeof v === "object") return JSON.stringify(v);
    return String(v);
  }
  function date(v) {
    if (!v) return "–";
    const d = new Date(v);
    if (Number.isNaN(d.getTime())) return String(v);
    const s = String(v);
    return s.length <= 10 || /T00:00:00/.test(s)
      ? d.toLocaleDateString(locale)
      : d.toLocaleString(locale);
  }

  /** el("a", {href: "/x", class: "y"}, "text", child) */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else if (k === "text") node.textContent = v;
      else node.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined) continue;
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  }
  const $ = (sel) => document.querySelector(sel);
  function fill(tbody, rows) {
    tbody.replaceChildren(...rows);
  }
  function showError(target, err) {
    const node = typeof target === "string" ? $(target) : target;
    if (node) {
      node.textContent = t("error", { message: err.message || String(err) });
      node.classList.add("error");
    }
  }

  /** An interactive Plotly chart (plotly.js served by segmint from the plotly package). */
  function plot(id, data, layout) {
    const base = {
      margin: { l: 60, r: 20, t: 10, b: 60 },
      font: { family: "system-ui, sans-serif", size: 12 },
      paper_bgcolor: "rgba(0,0,0,0)",
      plot_bgcolor: "rgba(0,0,0,0)",
      separators: (0.5).toLocaleString(locale).charAt(1) + (1000).toLocaleString(locale).charAt(1),
    };
    return window.Plotly.newPlot(id, data, Object.assign(base, layout || {}), {
      responsive: true, displaylogo: false, locale: words.lang,
    });
  }
  // -- a small YAML writer for segment definitions, as segmint.yaml holds them (strings
  //    quoted when YAML would misread them; block style, lists of scalars inline)
  function scalar(v) {
    if (typeof v === "number" || typeof v === "boolean") return String(v);
    if (v === null || v === undefined) return "null";
    const s = String(v);
    const plain = /^[A-Za-z_][A-Za-z0-9_ .\-/]*$/.test(s)
      && !/^(true|false|yes|no|on|off|null|y|n)$/i.test(s) && !/\s$/.test(s);
    return plain ? s : JSON.stringify(s);
  }
  const flat = (x) => typeof x !== "object" || x === null
    || (Array.isArray(x) && x.every((y) => typeof y !== "object" || y === null));
  const inline = (x) => (Array.isArray(x) ? `[${x.map(scalar).join(", ")}]` : scalar(x));
  /** Block-style YAML lines of a mapping (lists of mappings as "- " items). */
  function yamlLines(obj, pad) {
    const out = [];
    for (const [k, x] of Object.entries(obj)) {
      if (flat(x)) out.push(`${pad}${k}: ${inline(x)}`);
      else if (Array.isArray(x)) {
        out.push(`${pad}${k}:`);
        for (const item of x) {
          const lines = flat(item) ? [`${pad}    ${inline(item)}`] : yamlLines(item, pad + "    ");
          out.push(`${pad}  - ${lines[0].trimStart()}`, ...lines.slice(1));
        }
      } else {
        out.push(`${pad}${k}:`, ...yamlLines(x, pad + "  "));
      }
    }
    return out;
  }
  /** A definition as the ``segments:`` entry of segmint.yaml. */
  const toYaml = (def) => yamlLines({ segments: [def] }, "").join("\n") + "\n";

  const segmentHref = (name) => "/segments/" + encodeURIComponent(name);
  const customerHref = (id) => "/customers/" + encodeURIComponent(id);

  document.addEventListener("DOMContentLoaded", () => {
    const out = document.getElementById("logout");
    if (out) {
      out.addEventListener("click", async () => {
        try { await api("/session", { method: "DELETE" }); } catch (e) { /* gone already */ }
        window.location.assign("/login");
      });
    }
  });

  return { words, page, t, trait, api, ApiError, num, dec, pct, value, date, el, $, fill,
           showError, plot, segmentHref, customerHref, locale, toYaml };
})();
