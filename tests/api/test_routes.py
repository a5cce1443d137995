"""Every route's answer, checked against the service layer on the live project or an
independent query of the store."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from typing import Any

import duckdb
import pytest
import yaml

from segmint import service
from segmint.segments._rules import OPS_BY_FAMILY

from .conftest import Served


def _sql(served: Served, query: str, *params: Any) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(served.root / "store.duckdb"), read_only=True)
    try:
        return con.execute(query, list(params)).fetchall()
    finally:
        con.close()


def _last_run(served: Served) -> str:
    return str(_sql(served, "SELECT max(run_id) FROM runs WHERE status = 'succeeded'")[0][0])


def _plain(value: Any) -> Any:
    """JSON values with timestamps as datetimes, to compare two renderings of one value."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] in "T ":
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, float):
        return round(value, 9)
    return value


def _json(value: Any) -> Any:
    return _plain(json.loads(json.dumps(value, default=str)))


def test_status(served: Served) -> None:
    body = served.client("viewer").get("/api/v1/status").json()
    customers, revenue = _sql(served, "SELECT count(*), sum(spend_365d) FROM customer_traits")[0]
    assert body["customers"] == customers
    assert body["revenue_365d"] == pytest.approx(revenue, abs=0.01)
    assert body["latest_run"]["run_id"] == _last_run(served)
    assert body["replica"]["run_id"] == _last_run(served)
    assert (
        body["replica"]["customers"]
        == _sql(served, "SELECT count(DISTINCT person_id) FROM identities")[0][0]
    )
    assert body["segments"] == len(service.open_project(served.root).config.segments)


def test_runs_and_one_run(served: Served) -> None:
    c = served.client("viewer")
    runs = c.get("/api/v1/runs").json()
    assert [r["run_id"] for r in runs] == [
        r[0] for r in _sql(served, "SELECT run_id FROM runs ORDER BY run_id DESC")
    ]
    run = c.get(f"/api/v1/runs/{runs[0]['run_id']}").json()
    sizes = dict(
        _sql(served, "SELECT segment, size FROM segment_sizes WHERE run_id = ?", runs[0]["run_id"])
    )
    assert {s["segment"]: s["size"] for s in run["segment_sizes"]} == sizes
    assert sorted(m for m in run["models"] if m) == sorted(
        r[0]
        for r in _sql(served, "SELECT model FROM model_cards WHERE run_id = ?", runs[0]["run_id"])
    )
    r = c.get("/api/v1/runs/nope")
    assert r.status_code == 404
    assert "no run 'nope'" in r.json()["error"]["message"]


def test_tables_and_loads(served: Served) -> None:
    c = served.client("viewer")
    tables = {t["table"]: t["rows"] for t in c.get("/api/v1/tables").json()}
    assert tables["customers"] == _sql(served, "SELECT count(*) FROM customers")[0][0]
    assert tables["transactions"] == _sql(served, "SELECT count(*) FROM transactions")[0][0]
    loads = c.get("/api/v1/loads").json()
    assert len(loads) == _sql(served, "SELECT count(*) FROM loads")[0][0]
    by_id = {
        r[0]: r[1:] for r in _sql(served, "SELECT load_id, rows_in, rows_quarantined FROM loads")
    }
    for load in loads:
        assert (load["rows_in"], load["rows_quarantined"]) == by_id[load["load_id"]]
        assert sum(load["reasons"].values()) == load["rows_quarantined"]


def test_segment_list_and_detail_match_the_service(served: Served) -> None:
    c = served.client("viewer")
    got = c.get("/api/v1/segments").json()
    with service.open_project(served.root) as p:
        want = [s.to_dict() for s in service.segments(p)]
        detail = service.segment(p, "vip")
    assert [{k: v for k, v in g.items() if k != "evaluated"} for g in got] == want
    assert all(g["evaluated"] for g in got)
    assert _json(c.get("/api/v1/segments/vip").json()) == _json(detail)
    r = c.get("/api/v1/segments/vipp")
    assert r.status_code == 404
    assert "did you mean 'vip'" in r.json()["error"]["message"]


def test_preview_counts_as_the_cli_preview_does(served: Served, tmp_path: Any) -> None:
    rule = {
        "all": [
            {"field": "country", "op": "=", "value": "DK"},
            {"performed": "transactions", "within": "90d", "count": {">=": 2}},
        ]
    }
    body = served.client("viewer").post("/api/v1/segments/preview", json={"rule": rule}).json()
    definition = tmp_path / "rule.yaml"
    definition.write_text(yaml.safe_dump({"rule": rule}), encoding="utf-8")
    with service.open_project(served.root) as p:
        cli = service.preview(p, definition)
    assert body["count"] == cli.count
    assert body["sample"] == cli.sample
    assert body["count"] > 0


@pytest.mark.parametrize(
    ("rule", "field", "words"),
    [
        ({"field": "countr", "op": "=", "value": "DK"}, "rule.field", "did you mean 'country'"),
        ({"all": [{"field": "country", "op": "==x", "value": "DK"}]}, "rule.all[0].op", "op"),
        ({"any": [{"feild": "country"}]}, "rule.any[0]", "did you mean 'field'"),
    ],
)
def test_preview_errors_name_the_field_path(
    served: Served, rule: dict[str, Any], field: str, words: str
) -> None:
    r = served.client("viewer").post("/api/v1/segments/preview", json={"rule": rule})
    assert r.status_code == 422
    err = r.json()["error"]
    assert err["field"] == field
    assert words in err["message"]


def test_validate(served: Served) -> None:
    c = served.client("viewer")
    ok = c.post(
        "/api/v1/segments/validate",
        json={"name": "danes", "rule": {"field": "country", "op": "=", "value": "DK"}},
    )
    assert ok.json() == {"valid": True, "errors": []}
    bad = c.post(
        "/api/v1/segments/validate",
        json={
            "name": "x y",
            "rule": {"all": [{"field": "nope", "op": "=", "value": 1}, {"in_segment": "vipp"}]},
        },
    ).json()
    assert bad["valid"] is False
    fields = {e["field"] for e in bad["errors"]}
    assert "name" in fields
    bad2 = c.post(
        "/api/v1/segments/validate",
        json={
            "name": "ok",
            "rule": {"all": [{"field": "nope", "op": "=", "value": 1}, {"in_segment": "vipp"}]},
        },
    ).json()
    assert {e["field"] for e in bad2["errors"]} == {"rule.all[0].field", "rule.all[1].in_segment"}
    assert any("did you mean 'vip'" in e["message"] for e in bad2["errors"])


def test_members_pages_filter_and_csv(served: Served) -> None:
    c = served.client("analyst")
    want = [
        r[0]
        for r in _sql(
            served,
            "SELECT customer_id FROM segment_memberships WHERE from_run <= $1 "
            "AND (to_run IS NULL OR to_run > $1) AND segment = 'vip' ORDER BY customer_id",
            _last_run(served),
        )
    ]
    first = c.get("/api/v1/segments/vip/members?limit=7").json()
    second = c.get("/api/v1/segments/vip/members?limit=7&offset=7").json()
    assert first["total"] == len(want)
    assert [m["customer_id"] for m in first["items"] + second["items"]] == want[:14]
    monetary = dict(_sql(served, "SELECT customer_id, monetary FROM customer_traits"))
    for m in first["items"]:
        assert m["monetary"] == pytest.approx(monetary[m["customer_id"]])
    name = first["items"][0]["last_name"]
    found = c.get(f"/api/v1/segments/vip/members?q={name.lower()}&limit=1000").json()
    names = dict(_sql(served, "SELECT customer_id, last_name FROM customers"))
    expected = [
        i
        for i in want
        if name.lower() in (names.get(i) or "").lower() or i.startswith(name.lower())
    ]
    assert [m["customer_id"] for m in found["items"]] == expected
    assert found["total"] == len(expected) >= 1
    r = c.get("/api/v1/segments/vip/members.csv")
    assert r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [row["customer_id"] for row in rows] == want
    assert "email" not in rows[0]
    assert "first_name" not in rows[0]
    assert c.get("/api/v1/segments/nope/members").status_code == 404


def test_customer_lookup_matches_the_service(served: Served) -> None:
    c = served.client("analyst")
    merged = _sql(
        served,
        "SELECT customer_id, person_id FROM identities WHERE customer_id <> person_id "
        "ORDER BY 1 LIMIT 2",
    )
    plain = _sql(served, "SELECT person_id FROM identities ORDER BY 1 LIMIT 3")
    ids = [r[0] for r in plain] + [r[0] for r in merged]
    with service.open_project(served.root) as p:
        for cid in ids:
            got = c.get(f"/api/v1/customers/{cid}").json()
            want = service.customer(p, cid).to_dict()
            assert _json(got) == _json(want), cid
    assert got["customer_id"] == merged[-1][1]
    assert len(got["records"]) >= 2
    r = c.get("/api/v1/customers/nobody")
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"


def test_profile_models_fields_schema_destinations(served: Served) -> None:
    c = served.client("viewer")
    card = c.get("/api/v1/profiles/vip").json()["card"]
    assert (
        card["size"]
        == _sql(
            served,
            "SELECT size FROM segment_sizes WHERE run_id = ? AND segment = 'vip'",
            _last_run(served),
        )[0][0]
    )
    both = c.get("/api/v1/profiles/vip?versus=active_danes").json()
    assert (
        both["other"]["size"]
        == _sql(
            served,
            "SELECT size FROM segment_sizes WHERE run_id = ? AND segment = 'active_danes'",
            _last_run(served),
        )[0][0]
    )
    models = c.get("/api/v1/models").json()
    stored = [
        json.loads(r[0])
        for r in _sql(
            served,
            "SELECT card FROM model_cards WHERE run_id = ? ORDER BY model",
            _last_run(served),
        )
    ]
    assert _json(models) == _json(stored)
    fields = {f["name"]: f for f in c.get("/api/v1/fields").json()}
    assert fields["country"]["source"] == "attribute"
    assert fields["monetary"]["family"] == "number"
    assert fields["monetary"]["ops"] == list(OPS_BY_FAMILY["number"])
    assert fields["rfm_cell"]["source"] == "trait"
    assert "run_id" not in fields
    schema = c.get("/api/v1/schema/segment").json()
    assert set(schema["required"]) == {"name", "rule"}
    with service.open_project(served.root) as p:
        assert c.get("/api/v1/destinations").json() == [
            d.model_dump(mode="json") for d in p.config.destinations
        ]


def test_create_update_delete_a_segment(served_copy: Served) -> None:
    c = served_copy.client("admin")
    rule = {"field": "country", "op": "=", "value": "SE"}
    r = c.post("/api/v1/segments", json={"name": "swedes", "description": "In SE", "rule": rule})
    assert r.status_code == 201, r.text
    saved = service.open_project(served_copy.root).config.segment("swedes")
    assert saved is not None
    assert saved.description == "In SE"
    listed = {s["name"]: s for s in c.get("/api/v1/segments").json()}
    assert listed["swedes"]["evaluated"] is False
    assert listed["swedes"]["size"] is None
    again = c.post("/api/v1/segments", json={"name": "swedes", "rule": rule})
    assert again.status_code == 422
    assert again.json()["error"]["field"] == "name"
    bad = c.post("/api/v1/segments", json={"name": "x", "rule": {"field": "nope", "op": "="}})
    assert bad.status_code == 422
    rule2 = {"field": "country", "op": "in", "value": ["SE", "NO"]}
    r = c.put("/api/v1/segments/swedes", json={"name": "swedes", "rule": rule2})
    assert r.status_code == 200
    saved = service.open_project(served_copy.root).config.segment("swedes")
    assert saved is not None
    assert saved.rule.model_dump(mode="json", by_alias=True, exclude_defaults=True) == rule2
    both = [{"in_segment": "swedes"}, {"in_segment": "vip"}]
    uses = {"name": "swedes_vip", "rule": {"all": both}}
    assert c.post("/api/v1/segments", json=uses).status_code == 201
    refused = c.delete("/api/v1/segments/swedes")
    assert refused.status_code == 422
    assert "swedes_vip" in refused.json()["error"]["message"]
    assert c.delete("/api/v1/segments/swedes_vip").status_code == 204
    assert c.delete("/api/v1/segments/swedes").status_code == 204
    assert service.open_project(served_copy.root).config.segment("swedes") is None
    assert c.delete("/api/v1/segments/swedes").status_code == 404


def test_an_ad_hoc_export_runs_as_a_job_with_a_download(served_copy: Served) -> None:
    c = served_copy.client("analyst")
    r = c.post("/api/v1/exports", json={"segment": "vip", "format": "csv", "channels": ["email"]})
    assert r.status_code == 202
    job_id = r.json()["job_id"]
    job = c.app.state.ctx.jobs.wait(job_id)  # type: ignore[attr-defined]
    assert job.status == "done", job.error
    body = c.get(f"/api/v1/exports/{job_id}").json()
    report = body["report"]
    assert report["members"] == len(
        [
            1
            for _ in _sql(
                served_copy,
                "SELECT 1 FROM segment_memberships WHERE from_run <= $1 "
                "AND (to_run IS NULL OR to_run > $1) AND segment = 'vip'",
                _last_run(served_copy),
            )
        ]
    )
    assert report["rows_sent"] + report["suppressed"] == report["members"]
    assert report["suppressed"] > 0  # the demo plants customers without email consent
    f = c.get(body["download"])
    assert f.status_code == 200
    assert len(f.text.strip().splitlines()) == report["rows_sent"] + 1
    assert [j["job_id"] for j in c.get("/api/v1/exports").json()] == [job_id]
    logged = _sql(served_copy, "SELECT rows_sent FROM export_log WHERE segment = 'vip'")
    assert logged == [(report["rows_sent"],)]
    assert c.get("/api/v1/exports/nope").status_code == 404
    r = c.post("/api/v1/exports", json={"segment": "vip", "destination": "nowhere"})
    assert r.status_code == 404
    assert r.json()["error"]["field"] == "destination"
    r = c.post("/api/v1/exports", json={"segment": "vip"})
    assert r.status_code == 422
    r = c.post("/api/v1/exports", json={"segment": "vip", "format": "csv"})
    assert r.status_code == 422
    assert "consent channel" in r.json()["error"]["message"]
    assert r.json()["error"]["field"] == "channels"
