"""No export of any kind contains a person without the channel's consent, with a
withdrawn profiling consent, flagged do-not-contact or on a suppression list.

Hypothesis draws consent histories, flags and opt-out lists; the expected members are
computed here in plain Python, and every destination kind's output is read back.
"""

from __future__ import annotations

import csv
import json
import os
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from segmint.activation import DestinationConfig, SuppressionList, export_segment
from segmint.activation._hashing import sha256_hex
from segmint.project import Project

from .conftest import customer, make_project, run

N = 12
IDS = [f"C{i:04d}" for i in range(N)]
CHANNELS = ["email", "sms", "phone", "ads", "profiling"]
T0 = datetime(2026, 1, 1)
received: list[dict[str, Any]] = []


@pytest.fixture(scope="module")
def hook_url() -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    old = os.environ.get("SEGMINT_WEBHOOK_SECRET")
    os.environ["SEGMINT_WEBHOOK_SECRET"] = "test"
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        if old is None:
            os.environ.pop("SEGMINT_WEBHOOK_SECRET")
        else:
            os.environ["SEGMINT_WEBHOOK_SECRET"] = old


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Project]:
    p = make_project(tmp_path_factory.mktemp("consent") / "p", [customer(i, 100) for i in range(N)])
    run(p)
    try:
        yield p
    finally:
        p.close()


event = st.tuples(st.booleans(), st.integers(0, 3))  # granted, day
history = st.dictionaries(st.sampled_from(CHANNELS), st.lists(event, max_size=2), max_size=5)


def _kinds(url: str, channel: str) -> list[DestinationConfig]:
    ch = [channel]
    return [
        DestinationConfig(name="csv", kind="csv", channels=ch),
        DestinationConfig(name="xlsx", kind="xlsx", channels=ch),
        DestinationConfig(name="parquet", kind="parquet", channels=ch),
        DestinationConfig(name="hs-c", kind="hubspot_contacts", channels=ch),
        DestinationConfig(name="hs-co", kind="hubspot_companies", channels=ch),
        DestinationConfig(name="sf", kind="salesforce_leads", channels=ch),
        DestinationConfig(
            name="map", kind="crm_mapping", channels=ch, columns={"id": "customer_id"}
        ),
        DestinationConfig(name="li-co", kind="linkedin_companies", channels=ch),
        DestinationConfig(name="li-c", kind="linkedin_contacts", channels=ch),
        DestinationConfig(name="meta", kind="meta_audience", channels=ch),
        DestinationConfig(name="google", kind="google_audience", channels=ch),
        DestinationConfig(name="hook", kind="webhook", url=url, channels=ch, batch_size=4),
    ]


def _exported_ids(kind: str, location: str) -> set[str]:
    """Who is in the written output, read back by its identifiers."""
    by_email = {sha256_hex(f"person{i}@example.dk"): f"C{i:04d}" for i in range(N)}
    if kind == "webhook":
        return {r["customer_id"] for b in received for r in b["records"]}
    if kind == "xlsx":
        ws = load_workbook(location, read_only=True).active
        assert ws is not None
        return {str(r[0]) for r in list(ws.iter_rows(values_only=True))[1:]}
    if kind == "parquet":
        return set(pq.read_table(location).column("customer_id").to_pylist())
    with open(location, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    if kind in ("csv",):
        return {r["customer_id"] for r in rows}
    if kind == "crm_mapping":
        return {r["id"] for r in rows}
    if kind.startswith(("hubspot", "salesforce")):
        return {r["segmint ID"] for r in rows}
    if kind == "meta_audience":
        return {by_email[r["email"]] for r in rows}
    if kind == "google_audience":
        return {by_email[r["Email"]] for r in rows}
    if kind == "linkedin_contacts":
        return {f"C{int(r['email'].split('@')[0][6:]):04d}" for r in rows}
    return {f"C{int(r['companyname'].split()[1]):04d}" for r in rows}  # linkedin_companies


@pytest.mark.slow
@settings(
    max_examples=15,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # a shrink would re-export for minutes
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    histories=st.lists(history, min_size=N, max_size=N),
    dnc=st.sets(st.sampled_from(IDS), max_size=3),
    listed_emails=st.sets(st.sampled_from(IDS), max_size=3),
    listed_phones=st.sets(st.sampled_from(IDS), max_size=3),
    require_granted=st.booleans(),
    channel=st.sampled_from(["email", "sms", "phone", "ads"]),
)
def test_no_export_contains_a_person_it_may_not(
    project: Project,
    hook_url: str,
    histories: list[dict[str, list[tuple[bool, int]]]],
    dnc: set[str],
    listed_emails: set[str],
    listed_phones: set[str],
    require_granted: bool,
    channel: str,
) -> None:
    check_every_kind(project, hook_url, histories, dnc, listed_emails, listed_phones,
                     require_granted, channel)  # fmt: skip


def test_one_random_case_in_the_default_suite(project: Project, hook_url: str) -> None:
    """The same check on one fixed draw (the property test above runs in the slow suite)."""
    import random

    rng = random.Random(3)
    histories = [
        {ch: [(rng.random() < 0.7, rng.randint(0, 3)) for _ in range(rng.randint(0, 2))]
         for ch in CHANNELS if rng.random() < 0.8}
        for _ in IDS
    ]  # fmt: skip
    check_every_kind(project, hook_url, histories, {"C0001"}, {"C0002"}, {"C0003"}, True, "email")


def check_every_kind(
    project: Project,
    hook_url: str,
    histories: list[dict[str, list[tuple[bool, int]]]],
    dnc: set[str],
    listed_emails: set[str],
    listed_phones: set[str],
    require_granted: bool,
    channel: str,
) -> None:
    eng = project.engine
    consents = [
        {"customer_id": cid, "channel": ch, "granted": g, "consent_time": T0 + timedelta(days=d)}
        for cid, h in zip(IDS, histories, strict=True)
        for ch, events in h.items()
        for g, d in events
    ]
    schema = pa.schema([("customer_id", pa.string()), ("channel", pa.string()),
                        ("granted", pa.bool_()), ("consent_time", pa.timestamp("us"))])  # fmt: skip
    eng.write("consents", pa.Table.from_pylist(consents, schema=schema))
    customers = eng.table("customers").to_pyarrow()
    flags = ["yes" if c in dnc else None for c in customers.column("customer_id").to_pylist()]
    customers = customers.drop_columns(
        [c for c in ("do_not_contact",) if c in customers.column_names]
    ).append_column("do_not_contact", pa.array(flags, pa.string()))
    eng.write("customers", customers)
    opt_out = project.root / "robinson.csv"
    lines = ["email;phone"]
    lines += [f"PERSON{int(c[1:])}@example.dk;" for c in listed_emails]
    lines += [f";26 {int(c[1:]) // 100:02d} {int(c[1:]) % 100:02d} 00" for c in listed_phones]
    opt_out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    project.config.consent.require_granted = require_granted
    project.config.consent.suppression_lists = [
        SuppressionList(name="robinson", path="robinson.csv")
    ]

    def latest(cid: str, ch: str) -> bool | None:
        # the latest event decides; on a tie the withdrawal (sorted last here) wins
        events = sorted(histories[IDS.index(cid)].get(ch, []), key=lambda e: (e[1], not e[0]))
        return events[-1][0] if events else None

    def allowed(cid: str) -> bool:
        if cid in dnc | listed_emails | listed_phones or latest(cid, "profiling") is False:
            return False
        state = latest(cid, channel)
        return state is True or (state is None and not require_granted)

    expected = {c for c in IDS if allowed(c)}
    assert len(expected) < N or not (dnc | listed_emails | listed_phones)
    for dest in _kinds(hook_url, channel):
        received.clear()
        report = export_segment(project, "big", dest)
        got = _exported_ids(dest.kind, report.location)
        assert got == expected, dest.kind
        assert report.suppressed == N - len(expected), dest.kind
