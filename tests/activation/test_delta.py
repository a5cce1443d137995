"""Delta syncs across three runs send exactly who entered and who exited."""

from __future__ import annotations

import csv
import random
from pathlib import Path

from segmint.activation import DestinationConfig, export_segment
from segmint.activation._hashing import sha256_hex

from .conftest import all_granted, customer, load_consents, load_customers, make_project, run

N = 40


def _read(path: str) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_three_runs_send_exactly_the_entered_and_exited(tmp_path: Path) -> None:
    rng = random.Random(7)
    rounds = [[rng.choice([10, 60]) for _ in range(N)] for _ in range(3)]
    for r in rounds:
        r[3] = 60  # in the segment every round: its withdrawal must make it exit
    ids = [f"C{i:04d}" for i in range(N)]
    p = make_project(tmp_path / "p", [customer(i, rounds[0][i]) for i in range(N)])
    load_consents(p, all_granted(ids))
    csv_dest = DestinationConfig(name="crm", kind="csv", channels=["email"], mode="delta",
                                 path="out/{destination}-{segment}-run.csv")  # fmt: skip
    meta = DestinationConfig(name="meta", kind="meta_audience", mode="delta", path="out/meta.csv")
    synced: set[str] = set()
    withdrawn = {"C0003", "C0004"}
    for k, employees in enumerate(rounds):
        if k:
            load_customers(p, [customer(i, employees[i]) for i in range(N)])
        if k == 2:  # two people withdraw email and ads consent before the third run
            later = "2026-06-01 12:00:00"
            rows = [{"customer_id": c, "channel": ch, "granted": "false", "consent_time": later}
                    for c in withdrawn for ch in ("email", "ads")]  # fmt: skip
            load_consents(p, rows, name="withdrawals")
        run(p)
        # the independent answer: the rule, on the data this round, minus withdrawals
        now = {ids[i] for i in range(N) if employees[i] >= 50} - (withdrawn if k == 2 else set())
        assert now, "the test must have members"
        if k == 2:
            assert "C0003" in synced
            assert "C0003" not in now
        report = export_segment(p, "big", csv_dest)
        rows = _read(report.location)
        entered = {r["customer_id"] for r in rows if r["change"] == "entered"}
        exited = {r["customer_id"] for r in rows if r["change"] == "exited"}
        assert entered == now - synced, k
        assert exited == synced - now, k
        assert (report.entered, report.exited) == (len(entered), len(exited))
        # exited rows carry only the id
        assert all(r["email"] == "" for r in rows if r["change"] == "exited")
        a = export_segment(p, "big", meta)
        add = {r["email"] for r in _read(str(tmp_path / "p/out/meta-add.csv"))}
        remove = {r["email"] for r in _read(str(tmp_path / "p/out/meta-remove.csv"))}
        email = {c: sha256_hex(f"person{int(c[1:])}@example.dk") for c in ids}
        assert add == {email[c] for c in now - synced}, k
        assert remove == {email[c] for c in synced - now}, k
        assert a.exited == len(synced - now)
        synced = now
    p.close()
