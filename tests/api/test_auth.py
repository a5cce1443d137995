"""Who may do what: 401 without credentials, 403 for each role that is too low, tokens
kept hashed, sessions by token or password, the audit log, CORS closed by default."""

from __future__ import annotations

import hashlib
import sqlite3
from typing import Any

import pytest

from segmint.api import create_app
from segmint.api._auth import ROLES, AuthStore

from .conftest import PASSWORD, Served

RULE = {"field": "country", "op": "=", "value": "DK"}
SEGMENT = {"name": "danes_x", "rule": RULE}
#: every operation of the API with the lowest role allowed, and a body where one is needed
ROUTES: list[tuple[str, str, str, Any]] = [
    ("GET", "/api/v1/session", "viewer", None),
    ("GET", "/api/v1/status", "viewer", None),
    ("GET", "/api/v1/runs", "viewer", None),
    ("GET", "/api/v1/runs/{run_id}", "viewer", None),
    ("GET", "/api/v1/tables", "viewer", None),
    ("GET", "/api/v1/loads", "viewer", None),
    ("GET", "/api/v1/models", "viewer", None),
    ("GET", "/api/v1/segments", "viewer", None),
    ("GET", "/api/v1/segments/{name}", "viewer", None),
    ("POST", "/api/v1/segments/preview", "viewer", {"rule": RULE}),
    ("POST", "/api/v1/segments/validate", "viewer", SEGMENT),
    ("GET", "/api/v1/fields", "viewer", None),
    ("GET", "/api/v1/schema/segment", "viewer", None),
    ("GET", "/api/v1/profiles/{segment}", "viewer", None),
    ("GET", "/api/v1/destinations", "viewer", None),
    ("GET", "/api/v1/segments/{name}/members", "analyst", None),
    ("GET", "/api/v1/segments/{name}/members.csv", "analyst", None),
    ("GET", "/api/v1/customers/{customer_id}", "analyst", None),
    ("POST", "/api/v1/exports", "analyst", {"segment": "vip", "destination": "x"}),
    ("GET", "/api/v1/exports", "analyst", None),
    ("GET", "/api/v1/exports/{job_id}", "analyst", None),
    ("GET", "/api/v1/exports/{job_id}/file", "analyst", None),
    ("POST", "/api/v1/segments", "admin", SEGMENT),
    ("PUT", "/api/v1/segments/{name}", "admin", SEGMENT),
    ("DELETE", "/api/v1/segments/{name}", "admin", None),
    ("GET", "/api/v1/audit", "admin", None),
    ("GET", "/api/v1/tokens", "admin", None),
    ("POST", "/api/v1/tokens", "admin", {"name": "n", "role": "viewer"}),
    ("DELETE", "/api/v1/tokens/{name}", "admin", None),
]
PUBLIC = {("POST", "/api/v1/session"), ("DELETE", "/api/v1/session")}
VALUES = {"run_id": "x", "name": "vip", "segment": "vip", "customer_id": "100001", "job_id": "x"}


def _url(path: str) -> str:
    return path.format(**VALUES)


def test_the_table_covers_every_operation(served: Served) -> None:
    spec = served.client().get("/openapi.json").json()
    ops = {(m.upper(), p) for p, item in spec["paths"].items() for m in item}
    assert ops - PUBLIC == {(m, p) for m, p, _, _ in ROUTES}


@pytest.mark.parametrize(("method", "path", "role", "body"), ROUTES)
def test_401_without_or_with_a_wrong_token(
    served: Served, method: str, path: str, role: str, body: Any
) -> None:
    c = served.client()
    for headers in ({}, {"Authorization": "Bearer sgm_not-a-token"}):
        r = c.request(method, _url(path), json=body, headers=headers)
        assert r.status_code == 401, r.text
        assert r.json()["error"]["code"] == "unauthorized"
        assert r.headers["www-authenticate"] == "Bearer"


LOWER = [
    (m, p, low, b)
    for m, p, role, b in ROUTES
    for low in ROLES[: ROLES.index(role)]  # type: ignore[arg-type]
]


@pytest.mark.parametrize(("method", "path", "low", "body"), LOWER)
def test_403_for_each_role_too_low(
    served: Served, method: str, path: str, low: str, body: Any
) -> None:
    r = served.client(low).request(method, _url(path), json=body)
    assert r.status_code == 403, r.text
    err = r.json()["error"]
    assert err["code"] == "forbidden"
    assert low in err["message"]


def test_tokens_are_kept_as_sha256_only(served: Served) -> None:
    con = sqlite3.connect(served.root / ".segmint" / "server.sqlite")
    stored = {name: h for name, h in con.execute("SELECT name, hash FROM tokens")}
    dump = "\n".join(con.iterdump())
    for role, token in served.tokens.items():
        assert stored[f"t-{role}"] == hashlib.sha256(token.encode()).hexdigest()
        assert token not in dump
    assert PASSWORD not in dump


def test_session_by_password_sets_a_strict_httponly_cookie_and_logs_out(served: Served) -> None:
    c = served.client()
    r = c.post("/api/v1/session", json={"username": "u-analyst", "password": PASSWORD})
    assert r.status_code == 200
    assert r.json() == {"name": "u-analyst", "role": "analyst", "kind": "user"}
    cookie = r.headers["set-cookie"].lower()
    assert "segmint_session=" in cookie
    assert "httponly" in cookie
    assert "samesite=strict" in cookie
    assert c.get("/api/v1/session").json()["role"] == "analyst"
    assert c.get("/api/v1/customers/100001").status_code == 200
    assert c.get("/api/v1/audit").status_code == 403
    assert c.delete("/api/v1/session").status_code == 204
    c.cookies.clear()
    assert c.get("/api/v1/session").status_code == 401


def test_session_by_token_and_wrong_credentials(served: Served) -> None:
    c = served.client()
    r = c.post("/api/v1/session", json={"token": served.tokens["viewer"]})
    assert r.json() == {"name": "t-viewer", "role": "viewer", "kind": "token"}
    assert c.get("/api/v1/status").status_code == 200
    bad = served.client()
    r = bad.post("/api/v1/session", json={"username": "u-admin", "password": "wrong password"})
    assert r.status_code == 401
    assert "segmint_session" not in r.headers.get("set-cookie", "")
    r = bad.post("/api/v1/session", json={"token": "sgm_nope"})
    assert r.status_code == 401
    assert bad.post("/api/v1/session", json={}).status_code == 422


def test_a_revoked_token_is_refused(served_copy: Served) -> None:
    admin = served_copy.client("admin")
    r = admin.post("/api/v1/tokens", json={"name": "crm", "role": "analyst"})
    assert r.status_code == 201
    crm = {"Authorization": f"Bearer {r.json()['token']}"}
    assert admin.get("/api/v1/customers/100001", headers=crm).status_code == 200
    assert [t["name"] for t in admin.get("/api/v1/tokens").json()].count("crm") == 1
    assert admin.delete("/api/v1/tokens/crm").status_code == 204
    assert admin.get("/api/v1/customers/100001", headers=crm).status_code == 401
    # another server process of the project (its own cache) refuses it as well
    assert served_copy.client().get("/api/v1/session", headers=crm).status_code == 401
    assert admin.delete("/api/v1/tokens/crm").status_code == 422
    actions = [(e["action"], e["target"]) for e in admin.get("/api/v1/audit").json()]
    assert ("token.create", "crm") in actions
    assert ("token.revoke", "crm") in actions


def test_audit_records_writes_and_exports_with_the_actor(served_copy: Served) -> None:
    admin = served_copy.client("admin")
    analyst = served_copy.client("analyst")
    assert admin.post("/api/v1/segments", json=SEGMENT).status_code == 201
    assert analyst.get("/api/v1/segments/vip/members.csv").status_code == 200
    r = analyst.post(
        "/api/v1/exports", json={"segment": "vip", "format": "csv", "channels": ["sms"]}
    )
    assert r.status_code == 202
    log = admin.get("/api/v1/audit").json()
    got = {(e["action"], e["target"], e["actor"]) for e in log}
    assert ("segment.create", "danes_x", "token:t-admin") in got
    assert ("members.csv", "vip", "token:t-analyst") in got
    assert ("export", "vip", "token:t-analyst") in got
    assert [e["id"] for e in log] == sorted((e["id"] for e in log), reverse=True)
    AuthStore(served_copy.root)  # the store opens again on the same file


def test_cors_is_closed_by_default_and_opens_for_configured_origins(served: Served) -> None:
    from fastapi.testclient import TestClient

    pre = {"Origin": "https://crm.example.com", "Access-Control-Request-Method": "GET"}
    closed = served.client().options("/api/v1/status", headers=pre)
    assert "access-control-allow-origin" not in closed.headers
    app = create_app(served.root, cors_origins=["https://crm.example.com"])
    opened = TestClient(app).options("/api/v1/status", headers=pre)
    assert opened.headers["access-control-allow-origin"] == "https://crm.example.com"


def test_unknown_tokens_do_not_grow_the_credential_cache_without_end(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("segmint.api._auth.CACHE_ENTRIES", 50)
    auth = AuthStore(tmp_path)
    token = auth.create_token("crm", "analyst")
    for i in range(200):
        assert auth.token_principal(f"sgm_wrong{i}") is None
        assert len(auth._cache) <= 50
    who = auth.token_principal(token)
    assert who is not None
    assert (who.name, who.role) == ("crm", "analyst")
