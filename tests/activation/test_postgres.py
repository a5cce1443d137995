"""The PostgreSQL destination against a real server, started for these tests.

The server comes from Debian's ``postgresql`` package (CI installs it); without its
binaries the tests are skipped with that reason.  As root, the server runs as ``nobody``.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from segmint.activation import DestinationConfig, export_segment

from .conftest import all_granted, customer, load_consents, load_customers, make_project, run

pytestmark = pytest.mark.postgres

PG_BIN = next(
    (p for p in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
     if (p / "initdb").exists()),
    None,
)  # fmt: skip


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_server_user(cmd: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return cmd
    return ["runuser", "-u", "nobody", "--", *cmd]


@pytest.fixture(scope="module")
def postgres_dsn() -> Iterator[str]:
    if PG_BIN is None:
        pytest.skip("PostgreSQL server binaries not found (apt-get install postgresql)")
    root = Path(tempfile.mkdtemp(prefix="segmint-pg-"))
    data = root / "data"
    os.chmod(root, 0o777)
    if os.geteuid() == 0:
        shutil.chown(root, "nobody")
    port = _free_port()
    env = {**os.environ, "LC_ALL": "C.UTF-8"}
    subprocess.run(
        _as_server_user(
            [str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8"]
        ),
        check=True,
        capture_output=True,
        env=env,
        cwd=root,
    )
    opts = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(
        _as_server_user(
            [
                str(PG_BIN / "pg_ctl"),
                "-D",
                str(data),
                "-o",
                opts,
                "-l",
                str(root / "log"),
                "-w",
                "start",
            ]
        ),
        check=True,
        capture_output=True,
        env=env,
        cwd=root,
    )
    try:
        yield f"host=127.0.0.1 port={port} user=postgres dbname=postgres"
    finally:
        subprocess.run(
            _as_server_user([str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
            capture_output=True, cwd=root,
        )  # fmt: skip
        shutil.rmtree(root, ignore_errors=True)


def _rows(dsn: str, table: str) -> dict[str, tuple[str | None, ...]]:
    import psycopg

    with psycopg.connect(dsn) as con:
        cur = con.execute(f"SELECT customer_id, email, first_name, segment FROM {table}")
        return {r[0]: tuple(r[1:]) for r in cur.fetchall()}


def test_full_then_delta_into_a_real_table(
    tmp_path: Path, postgres_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SEGMINT_POSTGRES_DSN", postgres_dsn)
    rows = [customer(i, 100 if i < 6 else 10) for i in range(8)]
    rows[2]["first_name"] = "Åse"
    p = make_project(tmp_path / "p", rows)
    load_consents(p, all_granted([r["customer_id"] for r in rows if r["customer_id"] != "C0005"]))
    run(p)
    full = DestinationConfig(
        name="dw", kind="postgres", channels=["email"], table="segment_members"
    )
    report = export_segment(p, "big", full)
    got = _rows(postgres_dsn, "segment_members")
    assert set(got) == {f"C{i:04d}" for i in range(5)}  # C0005 has no consent
    assert got["C0002"] == ("person2@example.dk", "Åse", "big")
    assert report.suppressed_by_reason == {"no_consent:email": 1}
    # C0000 leaves the segment, C0007 joins; a delta sync applies just that
    rows[0]["employees"], rows[7]["employees"] = 10, 100
    load_customers(p, rows)
    run(p)
    delta = full.model_copy(update={"mode": "delta"})
    report = export_segment(p, "big", delta)
    assert (report.entered, report.exited) == (1, 1)
    assert set(_rows(postgres_dsn, "segment_members")) == {f"C{i:04d}" for i in (1, 2, 3, 4, 7)}
    p.close()


def test_a_failing_database_leaves_the_sync_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from segmint.activation import DeliveryError
    from segmint.activation._audit import export_log, synced_members

    monkeypatch.setenv(
        "SEGMINT_POSTGRES_DSN", f"host=127.0.0.1 port={_free_port()} user=x connect_timeout=2"
    )
    p = make_project(tmp_path / "p", [customer(1, 100)])
    load_consents(p, all_granted(["C0001"]))
    run(p)
    with pytest.raises(DeliveryError, match="PostgreSQL"):
        export_segment(p, "big", DestinationConfig(name="dw", kind="postgres", channels=["email"]))
    assert synced_members(p.engine, "dw", "big").count().execute() == 0
    assert export_log(p.engine)[0]["status"] == "failed"
    p.close()
