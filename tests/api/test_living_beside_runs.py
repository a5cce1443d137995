"""A real ``segmint serve`` keeps answering while ``segmint run`` runs on the same project
in another process, and shows the new run when it is done, without a restart."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from .conftest import Served

SRC = str(Path(__file__).resolve().parents[2] / "src")


def _segmint(*args: str, **kw: object) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.Popen(
        [sys.executable, "-m", "segmint.cli", *args],
        env=env,
        text=True,
        **kw,  # type: ignore[call-overload]
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_server_answers_during_a_run_and_then_shows_it(served_copy: Served) -> None:
    root = served_copy.root
    port = _free_port()
    server = _segmint("serve", "-p", str(root), "--port", str(port),
                      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    base = f"http://127.0.0.1:{port}/api/v1"
    headers = {"Authorization": f"Bearer {served_copy.tokens['analyst']}"}
    try:
        with httpx.Client(base_url=base, headers=headers, timeout=10) as c:
            deadline = time.monotonic() + 60
            while True:
                try:
                    before = c.get("/status").json()["latest_run"]["run_id"]
                    break
                except httpx.TransportError:
                    assert time.monotonic() < deadline, "the server did not start"
                    time.sleep(0.2)
            someone = c.get("/segments/vip/members?limit=1").json()["items"][0]["customer_id"]
            run = _segmint("run", "-p", str(root), "--json",
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
            answered: list[int] = []
            while run.poll() is None:
                for path in ("/status", f"/customers/{someone}", "/segments"):
                    answered.append(c.get(path).status_code)
            out, err = run.communicate()
            assert run.returncode == 0, err
            new_run = json.loads(out)["run_id"]
            assert new_run != before
            assert answered
            assert set(answered) == {200}
            deadline = time.monotonic() + 10
            shown = before
            while shown != new_run and time.monotonic() < deadline:
                time.sleep(0.2)
                shown = c.get("/status").json()["latest_run"]["run_id"]
            assert shown == new_run
            assert c.get(f"/runs/{new_run}").json()["status"] == "succeeded"
            assert server.poll() is None  # the same process: no restart
    finally:
        server.terminate()
        server.wait(timeout=30)
