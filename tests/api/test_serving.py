"""Serving replicas: published by writing operations once a project is served, pruned to
two, swapped by a running server without a restart, and erased everywhere by forget."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import duckdb

from segmint import service, serving
from segmint._serving_lookup import ALIASES, KEYS, RECORDS, CustomerIndex
from segmint.serving import ServingStore

from .conftest import Served


def _replicas(root: Path) -> list[str]:
    return sorted(p.name for p in serving.serving_dir(root).glob("*.duckdb"))


def _lookups(root: Path) -> list[str]:
    return sorted(p.name for p in serving.serving_dir(root).glob("*.lookup"))


def _arrow_column(folder: Path, name: str, column: str) -> list[str]:
    import pyarrow as pa

    with pa.memory_map(str(folder / name)) as source:
        return [str(x) for x in pa.ipc.open_file(source).read_all().column(column).to_pylist()]


def test_an_unserved_project_publishes_nothing(tmp_path: Path) -> None:
    p = service.init_project(tmp_path / "p")
    try:
        assert serving.publish_if_served(p) is None
        assert not serving.serving_dir(p.root).exists()
    finally:
        p.close()


def test_a_run_publishes_the_server_swaps_and_two_replicas_are_kept(served_copy: Served) -> None:
    root = served_copy.root
    c = served_copy.client("viewer")
    before = c.get("/api/v1/status").json()
    assert len(_replicas(root)) == 1
    with service.open_project(root) as p:
        first = service.run(p)
        second = service.run(p)
    names = _replicas(root)
    assert len(names) == 2  # the first replica (of the demo's run) was pruned
    assert serving.current_replica(root) == serving.serving_dir(root) / names[-1]
    after = c.get("/api/v1/status").json()  # the same app: swapped without a restart
    assert after["latest_run"]["run_id"] == second.run_id != before["latest_run"]["run_id"]
    assert after["replica"]["name"] == names[-1]
    runs = [r["run_id"] for r in c.get("/api/v1/runs").json()]
    assert runs[:2] == [second.run_id, first.run_id]
    # every replica has its lookup files, pruned with it
    assert _lookups(root) == [n.removesuffix(".duckdb") + ".lookup" for n in names]


def test_forget_removes_the_person_from_every_replica(served_copy: Served) -> None:
    from typer.testing import CliRunner

    from segmint.cli import app

    root = served_copy.root
    with service.open_project(root) as p:
        service.run(p)  # two replicas now
    assert len(_replicas(root)) == 2
    c = served_copy.client("analyst")
    pid = c.get("/api/v1/segments/vip/members?limit=1").json()["items"][0]["customer_id"]
    assert c.get(f"/api/v1/customers/{pid}").status_code == 200
    r = CliRunner().invoke(app, ["forget", pid, "--yes", "--project", str(root)])
    assert r.exit_code == 0, r.output
    assert len(_replicas(root)) == 1
    assert c.get(f"/api/v1/customers/{pid}").status_code == 404
    assert len(_lookups(root)) == 1
    for name in _lookups(root):
        folder = serving.serving_dir(root) / name
        assert CustomerIndex(folder).customer_json(pid) is None
        assert pid not in _arrow_column(folder, KEYS, "pid")
        assert pid not in _arrow_column(folder, RECORDS, "customer_id")
        assert pid not in _arrow_column(folder, ALIASES, "customer_id")


def test_a_load_publishes(served_copy: Served) -> None:
    root = served_copy.root
    before = _replicas(root)
    with service.open_project(root) as p:
        source = p.config.sources[0]
        service.load(p, source.table, p.resolve(source.path), source=source.name)
    after = _replicas(root)
    assert after != before
    assert len(after) == 2


def test_an_export_waits_while_another_process_holds_the_store(served_copy: Served) -> None:
    root = served_copy.root
    hold = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('held', flush=True);"
            " time.sleep(3); c.close()",
            str(root / "store.duckdb"),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert hold.stdout is not None
        assert hold.stdout.readline().strip() == "held"
        c = served_copy.client("analyst")
        ctx = c.app.state.ctx  # type: ignore[attr-defined]
        job = c.post(
            "/api/v1/exports", json={"segment": "vip", "format": "csv", "channels": ["email"]}
        ).json()
        seen = set()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            status = c.get(f"/api/v1/exports/{job['job_id']}").json()["status"]
            seen.add(status)
            if status in ("done", "failed"):
                break
            time.sleep(0.1)
        # while the other process held the store the server kept answering from the replica
        assert "waiting for the store" in seen
        assert status == "done", ctx.jobs.get(job["job_id"]).error
    finally:
        hold.wait(timeout=30)


def test_no_replica_is_a_503_naming_the_fix(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from segmint.api import create_app
    from segmint.api._auth import AuthStore

    p = service.init_project(tmp_path / "p")
    p.close()
    token = AuthStore(p.root).create_token("v", "viewer")
    c = TestClient(create_app(p.root), headers={"Authorization": f"Bearer {token}"})
    r = c.get("/api/v1/status")
    assert r.status_code == 503
    assert "segmint run" in r.json()["error"]["message"]


def test_the_store_reader_reopens_only_when_the_pointer_changes(served_copy: Served) -> None:
    store = ServingStore(served_copy.root, check_every=0.0)
    first = store.info().name
    assert store.info().name == first
    with service.open_project(served_copy.root) as p:
        serving.publish(p)
    assert store.info().name != first
    store.close()


def test_a_request_on_the_old_replica_finishes_after_a_swap(served_copy: Served) -> None:
    store = ServingStore(served_copy.root, check_every=0.0)
    try:
        with store.engine() as old:
            first = store.info().name
            with service.open_project(served_copy.root) as p:
                serving.publish(p)
            assert store.info().name != first  # swapped while this request is busy
            assert old.count("customers") > 0  # its connection still works
            assert store.customer_json("nobody") is None  # new requests use the new one
        assert store.info().name != first
    finally:
        store.close()


def test_serve_publishes_only_when_the_store_changed_since_the_replica(
    served_copy: Served,
) -> None:
    import os

    root = served_copy.root
    with service.open_project(root) as p:
        assert serving.ensure_replica(p) is None  # the replica is newer than the store
    later = serving.current_replica(root).stat().st_mtime + 5  # type: ignore[union-attr]
    os.utime(root / "store.duckdb", (later, later))
    with service.open_project(root) as p:
        published = serving.ensure_replica(p)
    assert published is not None
    assert serving.current_replica(root) == published.path


def test_a_demo_rebuilt_in_a_served_folder_keeps_its_tokens_and_publishes(
    served_copy: Served,
) -> None:
    root = served_copy.root
    c = served_copy.client("analyst")
    assert c.get("/api/v1/status").json()["customers"] > 2000
    service.build_demo(root, customers=400, seed=3)
    status = c.get("/api/v1/status")  # the same app and token, no restart
    assert status.status_code == 200
    assert status.json()["customers"] == _customers(root) < 500
    assert len(_replicas(root)) == 1


def _customers(root: Path) -> int:
    con = duckdb.connect(str(root / "store.duckdb"), read_only=True, config=serving._OFFLINE)
    try:
        return int(con.execute("SELECT count(*) FROM customer_traits").fetchone()[0])  # type: ignore[index]
    finally:
        con.close()


def test_a_replica_without_lookup_files_is_published_again(served_copy: Served) -> None:
    import shutil

    root = served_copy.root
    old = serving.current_replica(root)
    assert old is not None
    shutil.rmtree(serving.lookup_dir(old))  # as an earlier segmint published it
    c = served_copy.client("analyst")
    r = c.get("/api/v1/customers/anyone")
    assert r.status_code == 503
    assert r.json()["error"]["code"] == "no_replica"
    with service.open_project(root) as p:
        published = serving.ensure_replica(p)
    assert published is not None
    assert serving.lookup_dir(published.path).is_dir()
    person = c.get("/api/v1/segments/vip/members?limit=1").json()["items"][0]["customer_id"]
    assert c.get(f"/api/v1/customers/{person}").json()["customer_id"] == person
