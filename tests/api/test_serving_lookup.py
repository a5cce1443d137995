"""The customer lookup files of a replica: every person's answer against the store, merged
ids, a new run seen without a restart, and stores without identities or runs."""

from __future__ import annotations

import json
import math
from collections import defaultdict
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from segmint import service, serving
from segmint._serving_lookup import CustomerIndex
from segmint.serving import ServingStore

from .conftest import Served


def _store_rows(root: Path, query: str, *params: Any) -> list[dict[str, Any]]:
    con = duckdb.connect(str(root / "store.duckdb"), read_only=True, config=serving._OFFLINE)
    try:
        cur = con.execute(query, list(params))
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
    finally:
        con.close()


def _plain(value: Any) -> Any:
    """A value as the lookup's JSON writes it (ISO text, null for NaN), floats rounded."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float):
        return None if not math.isfinite(value) else round(value, 9)
    return value


def _rounded(row: dict[str, Any]) -> dict[str, Any]:
    return {k: round(v, 9) if isinstance(v, float) else v for k, v in row.items()}


def test_every_person_is_answered_as_the_store_says(served: Served) -> None:
    root = served.root
    run = _store_rows(root, "SELECT max(run_id) AS r FROM runs WHERE status = 'succeeded'")
    persons = [r["p"] for r in _store_rows(root, "SELECT DISTINCT person_id AS p FROM identities")]
    records: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in _store_rows(
        root,
        "SELECT i.person_id AS _person, c.* FROM customers c JOIN identities i USING "
        "(customer_id) ORDER BY c.customer_id, c._source",
    ):
        person = row.pop("_person")
        records[person].append({k: _plain(v) for k, v in row.items()})
    traits = {
        r["customer_id"]: {k: _plain(v) for k, v in r.items()}
        for r in _store_rows(root, "SELECT * FROM customer_traits")
    }
    segments: dict[str, list[str]] = defaultdict(list)
    for r in _store_rows(
        root,
        "SELECT customer_id, segment FROM segment_memberships "
        "WHERE from_run <= $1 AND (to_run IS NULL OR to_run > $1) ORDER BY segment",
        run[0]["r"],
    ):
        segments[r["customer_id"]].append(r["segment"])
    history: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in _store_rows(root, "SELECT * FROM segment_deltas ORDER BY run_id, segment, change"):
        history[r["customer_id"]].append({k: _plain(v) for k, v in r.items()})
    assert len(persons) > 2000
    assert sum(len(h) for h in history.values()) > len(persons)  # every person has some
    store = ServingStore(root)
    try:
        for person in persons:
            got = json.loads(store.customer_json(person) or "null")
            assert got["customer_id"] == person
            assert [_rounded(r) for r in got["records"]] == [
                _rounded(r) for r in records[person]
            ], person
            assert _rounded(got["traits"]) == _rounded(traits.get(person, {})), person
            assert got["segments"] == segments[person], person
            assert got["history"] == history[person], person
        assert store.customer_json("no such customer") is None
    finally:
        store.close()


def test_a_merged_id_answers_its_person(served: Served) -> None:
    merged = _store_rows(
        served.root,
        "SELECT customer_id, person_id FROM identities WHERE customer_id <> person_id",
    )
    assert len(merged) >= 5  # the demo plants duplicates across sources
    store = ServingStore(served.root)
    try:
        for row in merged:
            by_alias = store.customer_json(row["customer_id"])
            assert by_alias is not None
            assert by_alias == store.customer_json(row["person_id"])
            ids = {r["customer_id"] for r in json.loads(by_alias)["records"]}
            assert {row["customer_id"], row["person_id"]} <= ids
    finally:
        store.close()


def test_a_new_run_shows_in_the_lookup_without_a_restart(served_copy: Served) -> None:
    root = served_copy.root
    store = ServingStore(root, check_every=0.0)
    try:
        person = _store_rows(root, "SELECT person_id AS p FROM identities LIMIT 1")[0]["p"]
        before = store.customer(person)
        assert before is not None
        with service.open_project(root) as p:
            second = service.run(p)
        after = store.customer(person)
        assert after is not None
        assert before["traits"]["run_id"] != second.run_id
        assert after["traits"]["run_id"] == second.run_id
        assert after["segments"] == sorted(
            r["segment"]
            for r in _store_rows(
                root,
                "SELECT segment FROM segment_memberships WHERE from_run <= $1 "
                "AND (to_run IS NULL OR to_run > $1) AND customer_id = $2",
                second.run_id,
                person,
            )
        )
    finally:
        store.close()


def _tiny_store(path: Path, *, runs: bool) -> None:
    con = duckdb.connect(str(path))
    con.execute(
        "CREATE TABLE customers (customer_id VARCHAR, _source VARCHAR, name VARCHAR, "
        "score DOUBLE, seen TIMESTAMP, born DATE)"
    )
    con.execute(
        "INSERT INTO customers VALUES "
        "('b', 'web', 'Bjørn', 'nan'::DOUBLE, '2026-01-02 03:04:05.123456', '1980-05-06'), "
        "('b', 'crm', 'Bjørn', 1.5, '2026-01-02 03:04:05', NULL), "
        "('a', 'crm', 'Åse', NULL, NULL, NULL)"
    )
    if runs:
        con.execute("CREATE TABLE identities (customer_id VARCHAR, person_id VARCHAR)")
        con.execute("INSERT INTO identities VALUES ('a', 'a'), ('b', 'a')")
        con.execute("CREATE TABLE customer_traits (customer_id VARCHAR, spend DOUBLE)")
        con.execute("INSERT INTO customer_traits VALUES ('a', 'inf'::DOUBLE), ('z', 2.0)")
        con.execute("CREATE TABLE runs (run_id VARCHAR, status VARCHAR)")
        con.execute("INSERT INTO runs VALUES ('r1', 'succeeded'), ('r2', 'succeeded')")
        con.execute(
            "CREATE TABLE segment_memberships (segment VARCHAR, customer_id VARCHAR, "
            "from_run VARCHAR, to_run VARCHAR)"
        )
        con.execute(
            "INSERT INTO segment_memberships VALUES "
            "('vip', 'a', 'r2', NULL), ('old', 'a', 'r1', 'r2')"
        )
        # sizes name a run's segments; here r2's lack 'vip', so the snapshot itself is read
        con.execute("CREATE TABLE segment_sizes (run_id VARCHAR, segment VARCHAR, size BIGINT)")
        con.execute("INSERT INTO segment_sizes VALUES ('r2', 'old', 0)")
        con.execute(
            "CREATE TABLE segment_deltas (run_id VARCHAR, as_of TIMESTAMP, segment VARCHAR, "
            "customer_id VARCHAR, change VARCHAR)"
        )
        con.execute(
            "INSERT INTO segment_deltas VALUES "
            "('r2', '2026-02-01', 'vip', 'a', 'entered'), "
            "('r2', '2026-02-01', 'old', 'a', 'exited'), "
            "('r1', '2026-01-01', 'old', 'a', 'entered')"
        )
    con.close()


def test_a_store_without_identities_or_runs(tmp_path: Path) -> None:
    path = tmp_path / "r.duckdb"
    _tiny_store(path, runs=False)
    _, persons = serving.build_lookup(path, tmp_path / "r.lookup", published_at=datetime.now())
    assert persons == 2
    index = CustomerIndex(tmp_path / "r.lookup")
    b = json.loads(index.customer_json("b") or "null")
    assert [r["_source"] for r in b["records"]] == ["crm", "web"]  # by id, then source
    assert b["records"][1] == {
        "customer_id": "b",
        "_source": "web",
        "name": "Bjørn",
        "score": None,  # NaN is not JSON
        "seen": "2026-01-02T03:04:05.123456",
        "born": "1980-05-06",
    }
    assert b["records"][0]["seen"] == "2026-01-02T03:04:05"
    assert (b["traits"], b["segments"], b["history"]) == ({}, [], [])
    assert index.customer_json("c") is None


def test_identities_traits_segments_and_history_of_a_small_store(tmp_path: Path) -> None:
    path = tmp_path / "r.duckdb"
    _tiny_store(path, runs=True)
    run, persons = serving.build_lookup(path, tmp_path / "r.lookup", published_at=datetime.now())
    assert (run, persons) == ("r2", 2)  # a, and z (traits, no records)
    index = CustomerIndex(tmp_path / "r.lookup")
    a = json.loads(index.customer_json("b") or "null")  # b was merged into a
    assert a["customer_id"] == "a"
    assert [(r["customer_id"], r["_source"]) for r in a["records"]] == [
        ("a", "crm"),
        ("b", "crm"),
        ("b", "web"),
    ]
    assert a["traits"] == {"customer_id": "a", "spend": None}
    assert a["segments"] == ["vip"]  # the latest run's snapshot only
    assert [(h["run_id"], h["segment"], h["change"], h["as_of"]) for h in a["history"]] == [
        ("r1", "old", "entered", "2026-01-01T00:00:00"),
        ("r2", "old", "exited", "2026-02-01T00:00:00"),
        ("r2", "vip", "entered", "2026-02-01T00:00:00"),
    ]
    assert {h["customer_id"] for h in a["history"]} == {"a"}
    z = json.loads(index.customer_json("z") or "null")
    assert (z["records"], z["traits"], z["segments"]) == (
        [],
        {"customer_id": "z", "spend": 2.0},
        [],
    )


@pytest.mark.parametrize("name", ["a", "b"])
def test_the_answer_is_utf8_json_text(tmp_path: Path, name: str) -> None:
    path = tmp_path / "r.duckdb"
    _tiny_store(path, runs=False)
    serving.build_lookup(path, tmp_path / "r.lookup", published_at=datetime.now())
    text = CustomerIndex(tmp_path / "r.lookup").customer_json(name)
    assert text is not None
    assert ("Åse" if name == "a" else "Bjørn") in text  # not \u escapes
    assert json.loads(text)["customer_id"] == name
