"""``segmint token`` and ``segmint user``: what the CLI creates is what the server accepts."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from segmint.cli import app

from .conftest import Served

runner = CliRunner()


def test_token_create_list_revoke(served_copy: Served) -> None:
    p = ["--project", str(served_copy.root)]
    r = runner.invoke(app, ["token", "create", "--name", "crm", "--role", "analyst", "--json", *p])
    assert r.exit_code == 0, r.output
    made = json.loads(r.stdout)
    assert made["role"] == "analyst"
    c = served_copy.client()
    headers = {"Authorization": f"Bearer {made['token']}"}
    assert c.get("/api/v1/session", headers=headers).json()["name"] == "crm"
    listed = json.loads(runner.invoke(app, ["token", "list", "--json", *p]).stdout)
    assert {"crm", "t-viewer", "t-analyst", "t-admin"} <= {t["name"] for t in listed}
    assert all("token" not in t and "hash" not in t for t in listed)
    again = runner.invoke(app, ["token", "create", "--name", "crm", *p])
    assert again.exit_code == 1
    assert "exists already" in again.output
    bad = runner.invoke(app, ["token", "create", "--name", "x", "--role", "boss", *p])
    assert bad.exit_code == 1
    assert "viewer, analyst, admin" in bad.output
    assert runner.invoke(app, ["token", "revoke", "crm", *p]).exit_code == 0
    assert served_copy.client().get("/api/v1/session", headers=headers).status_code == 401
    assert runner.invoke(app, ["token", "revoke", "crm", *p]).exit_code == 1


def test_user_add_list_remove(served_copy: Served) -> None:
    p = ["--project", str(served_copy.root)]
    r = runner.invoke(
        app, ["user", "add", "anna", "--role", "admin", "--password-stdin", *p],
        input="a long passphrase\n",
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    c = served_copy.client()
    login = {"username": "anna", "password": "a long passphrase"}
    assert c.post("/api/v1/session", json=login).json()["role"] == "admin"
    users = json.loads(runner.invoke(app, ["user", "list", "--json", *p]).stdout)
    assert {"name": "anna", "role": "admin"} in [
        {"name": u["name"], "role": u["role"]} for u in users
    ]
    short = runner.invoke(app, ["user", "add", "bo", "--password-stdin", *p], input="short\n")
    assert short.exit_code == 1
    assert "at least 8" in short.output
    assert runner.invoke(app, ["user", "remove", "anna", *p]).exit_code == 0
    assert c.get("/api/v1/session").status_code == 401  # the session ended with the user
    assert served_copy.client().post("/api/v1/session", json=login).status_code == 401
