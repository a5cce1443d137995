/* The login page: a token or user/password -> POST /api/v1/session (sets the cookie). */
"use strict";
(() => {
  const { api, t, $ } = segmint;
  const next = () => {
    const n = new URLSearchParams(location.search).get("next") || "/";
    return n.startsWith("/") && !n.startsWith("//") ? n : "/";
  };
  async function login(body) {
    const err = $("#login-error");
    err.textContent = "";
    try {
      await api("/session", { method: "POST", json: body });
      window.location.assign(next());
    } catch (e) {
      err.textContent = t("login_failed", { message: e.message });
    }
  }
  $("#login-token").addEventListener("submit", (ev) => {
    ev.preventDefault();
    login({ token: $("#token").value.trim() });
  });
  $("#login-password").addEventListener("submit", (ev) => {
    ev.preventDefault();
    login({ username: $("#username").value.trim(), password: $("#password").value });
  });
})();
