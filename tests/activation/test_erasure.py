"""``forget`` leaves no trace of a person in any table; a failed erasure changes nothing;
a later load of the same person is flagged."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from segmint import service
from segmint.activation import DeliveryError, DestinationConfig, export_segment, forget
from segmint.activation._erasure import ERASURES
from segmint.exceptions import CustomerNotFoundError
from segmint.project import Project

from .conftest import FIELDS, all_granted, customer, load_consents, make_project, run, write_csv

PERSON = customer(1, 100, first_name="Zacharias", last_name="Quistgaard", city="Skørping")
SECOND = {**PERSON, "customer_id": "W9", "first_name": "Zach"}  # the webshop's record of him
TRACES = ["C0001", "W9", "person1@example.dk", "+4526000100", "Zacharias", "Quistgaard", "Zach"]


def _build(root: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    others = [customer(i, 100) for i in (2, 3, 4)]
    p = make_project(root, [PERSON, *others])
    service.load(p, "customers", write_csv(root / "shop.csv", [SECOND], FIELDS), source="shop")
    bad = {**PERSON, "email": "zacharias at example"}  # quarantined, raw record kept
    service.load(p, "customers", write_csv(root / "crm2.csv", [bad], FIELDS), source="crm2")
    service.identities(p)
    load_consents(p, all_granted(["C0001", "W9", "C0002", "C0003", "C0004"]))
    run(p)
    run(p)
    export_segment(
        p, "big", DestinationConfig(name="crm", kind="csv", channels=["email"], mode="delta")
    )
    monkeypatch.setenv("SEGMINT_WEBHOOK_SECRET", "k")
    hook = DestinationConfig(name="hook", kind="webhook", url="http://127.0.0.1:9/",
                             channels=["email"],
                             max_attempts=1, timeout_seconds=0.5)  # fmt: skip
    with pytest.raises(DeliveryError):
        export_segment(p, "big", hook)  # leaves a pending batch holding him
    # tables other modules add: any person-id column is covered
    p.engine.write(
        "account_owners", pa.table({"customer_id": ["C0001", "C0002"], "owner": ["a", "b"]})
    )
    p.engine.write(
        "uplift_scores", pa.table({"person_id": ["C0001", "C0003"], "score": [0.3, 0.1]})
    )
    return p


def _cells(p: Project) -> dict[str, list[str]]:
    """Every cell of every table as text."""
    out = {}
    for name in p.engine.con.list_tables():
        t = p.engine.table(name).to_pyarrow()
        out[name] = [str(v) for col in t.columns for v in col.to_pylist() if v is not None]
    return out


def _snapshot(p: Project) -> dict[str, pa.Table]:
    tables = {}
    for name in p.engine.con.list_tables():
        t = p.engine.table(name).to_pyarrow()
        tables[name] = t.sort_by([(c, "ascending") for c in t.column_names
                                  if not pa.types.is_nested(t.schema.field(c).type)])  # fmt: skip
    return tables


def test_forget_leaves_no_trace_in_any_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = _build(tmp_path / "p", monkeypatch)
    before = _cells(p)
    for trace in ("C0001", "W9", "person1@example.dk", "Zacharias"):  # the test is meaningful
        assert sum(trace in v for cells in before.values() for v in cells) > 0, trace
    for table in ("quarantine", "identities", "segment_memberships", "segment_deltas",
                  "customer_traits", "destination_members", "sync_outbox", "account_owners",
                  "uplift_scores", "consents", "transactions"):  # fmt: skip
        assert any("C0001" in v or "W9" in v for v in before[table]), table

    report = forget(p.engine, "W9", actor="dpo")  # his second record's id: the whole person goes
    assert report.customer_ids == 2
    assert report.destinations == ["crm"]
    p.close()  # scan the store as stored: a fresh connection to the file
    p = Project.open(tmp_path / "p")
    after = _cells(p)
    assert set(after) >= set(before) - {n for n in before if n.startswith("ibis_")}
    for table, cells in after.items():
        for trace in TRACES:
            assert not any(trace.lower() in v.lower() for v in cells), (table, trace)
    # everyone else is still there
    c = p.engine.table("customers")
    assert sorted(c.customer_id.to_pyarrow().to_pylist()) == ["C0002", "C0003", "C0004"]
    owners = p.engine.table("account_owners").to_pyarrow().to_pylist()
    assert owners == [{"customer_id": "C0002", "owner": "b"}]
    log = p.engine.table(ERASURES).to_pyarrow().to_pylist()
    assert len(log) == 1
    assert log[0]["actor"] == "dpo"
    # the next export does not send him, and the pending batch no longer holds him
    r = export_segment(
        p, "big", DestinationConfig(name="crm", kind="csv", channels=["email"], mode="delta")
    )
    assert (r.entered, r.exited) == (0, 0)

    # a later load of the same person is flagged (by salted hashes, not by stored data)
    again = service.load(
        p, "customers", write_csv(tmp_path / "again.csv", [PERSON], FIELDS), source="crm"
    )
    assert again.previously_erased == 1
    other = service.load(
        p, "customers", write_csv(tmp_path / "o.csv", [customer(5, 1)], FIELDS), source="x"
    )
    assert other.previously_erased == 0
    with pytest.raises(CustomerNotFoundError):
        forget(p.engine, "NOBODY", actor="dpo")
    p.close()


def test_a_failed_erasure_leaves_the_store_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = _build(tmp_path / "p", monkeypatch)
    before = _snapshot(p)

    def boom(*args: object) -> str:
        raise RuntimeError("disk full")

    monkeypatch.setattr("segmint.activation._erasure._salt", boom)  # after every delete
    with pytest.raises(RuntimeError, match="disk full"):
        forget(p.engine, "C0001", actor="dpo")
    after = _snapshot(p)
    assert after.keys() == before.keys()
    for name, table in before.items():
        assert after[name].equals(table), name
    p.close()


def test_forget_removes_the_person_from_plan_files_and_only_after_the_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = _build(tmp_path / "p", monkeypatch)
    plans = tmp_path / "p" / "plans" / "plan-1"
    plans.mkdir(parents=True)
    header = "campaign_id,customer_id,arm,contact_date,note\n"
    rows = [
        'nba,C0001,treatment,2026-09-01,"win-back, 10%"\n',
        'nba,C0002,treatment,2026-09-01,"win-back, 10%"\n',
        "nba,W9,control,2026-09-01,\n",
        "nba,C0003,control,2026-09-01,\n",
    ]
    (plans / "plan.csv").write_text(header + "".join(rows), encoding="utf-8")
    untouched = "segment,size\nbig,4\n"  # no person column: left as it is
    (plans / "sizes.csv").write_text(untouched, encoding="utf-8")

    # a failed erasure leaves the files as they were too
    def boom(*args: object) -> str:
        raise RuntimeError("disk full")

    with monkeypatch.context() as m:
        m.setattr("segmint.activation._erasure._salt", boom)
        with pytest.raises(RuntimeError, match="disk full"):
            forget(p.engine, "C0001", actor="dpo", folders=[tmp_path / "p" / "plans"])
    assert (plans / "plan.csv").read_text(encoding="utf-8") == header + "".join(rows)

    report = forget(p.engine, "C0001", actor="dpo", folders=[tmp_path / "p" / "plans"])
    assert report.files_scrubbed == {str(plans / "plan.csv"): 2}
    # the other rows are byte for byte what pandas wrote, quoting included
    assert (plans / "plan.csv").read_text(encoding="utf-8") == header + rows[1] + rows[3]
    assert (plans / "sizes.csv").read_text(encoding="utf-8") == untouched
    assert [f.name for f in plans.iterdir() if f.name.startswith(".")] == []
    p.close()


def test_erasing_a_contact_keeps_the_companys_deals_without_them(tmp_path: Path) -> None:
    root = tmp_path / "p"
    p = make_project(root, [customer(1, 100), customer(2, 20)])
    people = [
        {"contact_id": "KP1", "company_id": "C0001", "first_name": "Birte", "last_name": "Lund",
         "email": "birte@firma1.dk", "title": "Indkøbschef"},
        {"contact_id": "KP2", "company_id": "C0001", "first_name": "Ole", "last_name": "Dam",
         "email": "ole@firma1.dk", "title": "IT-chef"},
    ]  # fmt: skip
    cols = ["contact_id", "company_id", "first_name", "last_name", "email", "title"]
    service.load(p, "contacts", write_csv(root / "contacts.csv", people, cols), source="crm")
    deals = [
        {"deal_id": "D1", "customer_id": "C0001", "contact_id": "KP1",
         "created_date": "2026-02-01", "stage": "won"},
        {"deal_id": "D2", "customer_id": "C0001", "contact_id": "KP2",
         "created_date": "2026-03-01", "stage": "open"},
        {"deal_id": "D3", "customer_id": "C0002", "contact_id": "",
         "created_date": "2026-03-01", "stage": "lost"},
    ]  # fmt: skip
    cols = ["deal_id", "customer_id", "contact_id", "created_date", "stage"]
    service.load(p, "deals", write_csv(root / "deals.csv", deals, cols), source="crm")

    report = forget(p.engine, "KP1", actor="dpo")
    assert report.rows_removed["contacts"] == 1
    assert report.cells_scrubbed["deals"] == 1
    kept = p.engine.table("deals").order_by("deal_id").to_pyarrow().to_pylist()
    assert [(d["deal_id"], d["contact_id"]) for d in kept] == [
        ("D1", None),
        ("D2", "KP2"),
        ("D3", None),
    ]
    left = p.engine.table("contacts").contact_id.to_pyarrow().to_pylist()
    assert left == ["KP2"]
    p.close()
