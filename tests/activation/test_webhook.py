"""The webhook against a real HTTP server on 127.0.0.1 that fails, times out and recovers."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from segmint.activation import DeliveryError, DestinationConfig, export_segment
from segmint.activation._audit import export_log, synced_members
from segmint.activation._ledger import Ledger
from segmint.activation._webhook import SIGNATURE_HEADER, verify
from segmint.project import Project

from .conftest import all_granted, customer, load_consents, make_project, run

SECRET = "s3cret-key"


class Receiver:
    """A webhook receiver whose next answers are scripted: a status code, or 'slow'."""

    def __init__(self) -> None:
        self.script: list[int | str] = []
        self.lock = threading.Lock()
        self.acked: dict[str, dict[str, Any]] = {}  # idempotency key -> body answered 2xx
        self.requests = 0
        self.bad_signatures = 0

    def handle(self, handler: BaseHTTPRequestHandler) -> None:
        body = handler.rfile.read(int(handler.headers["Content-Length"]))
        with self.lock:
            self.requests += 1
            action = self.script.pop(0) if self.script else 200
        if not verify(SECRET.encode(), body, handler.headers[SIGNATURE_HEADER]):
            self.bad_signatures += 1
        if action == "slow":
            time.sleep(1.0)  # the client gave up at 0.3 s: it must retry
            action = 200
        if action == 200:
            data = json.loads(body)
            assert handler.headers["Idempotency-Key"] == data["idempotency_key"]
            with self.lock:
                self.acked[data["idempotency_key"]] = data
        try:
            handler.send_response(int(action))
            handler.end_headers()
        except OSError:
            pass  # the client already left (the timeout case)


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    rec = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            rec.handle(self)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield rec, f"http://127.0.0.1:{server.server_address[1]}/segments"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Project]:
    monkeypatch.setenv("SEGMINT_WEBHOOK_SECRET", SECRET)
    rows = [customer(i, 100 if i < 23 else 10) for i in range(30)]
    p = make_project(tmp_path / "p", rows)
    load_consents(p, all_granted([r["customer_id"] for r in rows]))
    run(p)
    try:
        yield p
    finally:
        p.close()


MEMBERS = {f"C{i:04d}" for i in range(23)}


def test_failures_timeouts_and_a_crash_lose_no_batch(
    project: Project, receiver: tuple[Receiver, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    rec, url = receiver
    dest = DestinationConfig(
        name="hook", kind="webhook", url=url, channels=["email"], batch_size=5, max_attempts=3,
        backoff_seconds=0.01, timeout_seconds=0.3, mode="delta",
    )  # fmt: skip
    # the cursor may only pass a batch the receiver answered 2xx
    original = Ledger.acknowledge
    cursor_moves: list[int] = []

    def checked(self: Ledger, number: int) -> None:
        sync = self.pending()
        assert sync is not None
        assert f"{sync.sync_id}-{number}" in rec.acked, number
        cursor_moves.append(number)
        original(self, number)

    monkeypatch.setattr(Ledger, "acknowledge", checked)
    # batch 0: a 500 then ok; batch 1: a timeout then ok; batch 2: three 503s -> gives up
    rec.script = [500, 200, "slow", 200, 503, 503, 503]
    with pytest.raises(DeliveryError, match="batch 2 of 5 not delivered"):
        export_segment(project, "big", dest)
    ledger = Ledger(project.engine, "hook")
    pending = ledger.pending()
    assert pending is not None
    assert pending.next_batch == 2
    assert cursor_moves == [0, 1]
    assert export_log(project.engine)[0]["status"] == "pending"
    # nothing is marked synced until every batch is delivered
    assert synced_members(project.engine, "hook", "big").count().execute() == 0
    keys_before = set(rec.acked)

    # the receiver recovers after one more failure: the next export resumes batch 2 with
    # the same idempotency keys, then finds nothing new to send
    rec.script = [502]
    report = export_segment(project, "big", dest)
    assert cursor_moves == [0, 1, 2, 3, 4]
    assert ledger.pending() is None
    assert {k.rsplit("-", 1)[0] for k in rec.acked} == {pending.sync_id}
    assert set(rec.acked) == {f"{pending.sync_id}-{n}" for n in range(5)} > keys_before
    received = [r["customer_id"] for b in rec.acked.values() for r in b["records"]]
    assert set(received) == MEMBERS  # every member at least once
    assert all(b["records"] for b in rec.acked.values())
    assert rec.bad_signatures == 0
    assert (report.entered, report.exited) == (0, 0)
    synced = set(synced_members(project.engine, "hook", "big").to_pyarrow().column(0).to_pylist())
    assert synced == MEMBERS
    log = export_log(project.engine)
    assert sorted((r["mode"], r["status"]) for r in log[:2]) == [
        ("delta", "succeeded"), ("delta (resumed)", "succeeded"),
    ]  # fmt: skip


def test_a_refusing_receiver_stops_without_retrying(
    project: Project, receiver: tuple[Receiver, str]
) -> None:
    rec, url = receiver
    dest = DestinationConfig(name="hook", kind="webhook", url=url, channels=["email"],
                             batch_size=50, backoff_seconds=0)  # fmt: skip
    rec.script = [400]
    with pytest.raises(DeliveryError, match="refused batch 0"):
        export_segment(project, "big", dest)
    assert rec.requests == 1
    report = export_segment(project, "big", dest)  # resumes and succeeds
    assert report.status == "succeeded"
    assert {r["customer_id"] for b in rec.acked.values() for r in b["records"]} == MEMBERS


def test_missing_secret_is_a_clear_error(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    from segmint.exceptions import ConfigError

    monkeypatch.delenv("SEGMINT_WEBHOOK_SECRET")
    dest = DestinationConfig(
        name="h", kind="webhook", url="http://127.0.0.1:9/", channels=["email"]
    )
    with pytest.raises(ConfigError, match="SEGMINT_WEBHOOK_SECRET"):
        export_segment(project, "big", dest)
