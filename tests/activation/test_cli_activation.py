"""segmint export / exports / forget / run through the command line."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from typer.testing import CliRunner

from segmint.activation import DestinationConfig
from segmint.cli import app
from segmint.project import Project

from .conftest import all_granted, customer, load_consents, make_project, run

runner = CliRunner()


def test_export_exports_forget_and_run_syncs(tmp_path: Path) -> None:
    rows = [customer(i, 100 if i < 5 else 1) for i in range(7)]
    p = make_project(tmp_path / "p", rows)
    load_consents(p, all_granted([r["customer_id"] for r in rows if r["customer_id"] != "C0004"]))
    p.config.destinations = [
        DestinationConfig(
            name="crm", kind="hubspot_contacts", segments=["big"], mode="delta", path="out/crm.csv"
        ),
    ]
    p.save()
    run(p)  # segmint run syncs the configured destination after publishing
    p.close()
    with open(tmp_path / "p/out/crm.csv", encoding="utf-8", newline="") as f:
        synced = {r["segmint ID"] for r in csv.DictReader(f)}
    assert synced == {"C0000", "C0001", "C0002", "C0003"}

    root = str(tmp_path / "p")
    out_file = tmp_path / "adhoc.csv"
    r = runner.invoke(app, ["export", "big", "--format", "csv", "--out", str(out_file),
                            "--channel", "email", "--actor", "mette", "--project", root,
                            "--json"])  # fmt: skip
    assert r.exit_code == 0, r.output
    report = json.loads(r.output)
    assert (report["rows_sent"], report["suppressed_by_reason"]) == (4, {"no_consent:email": 1})
    with open(out_file, encoding="utf-8", newline="") as f:
        assert {row["customer_id"] for row in csv.DictReader(f)} == synced

    r = runner.invoke(app, ["export", "big", "--to", "nope", "--project", root])
    assert r.exit_code == 1
    assert "no destination 'nope'" in r.output

    r = runner.invoke(app, ["exports", "--project", root, "--json"])
    log = json.loads(r.output)
    assert [(e["destination"], e["actor"]) for e in log][:1] == [("adhoc-csv", "mette")]
    assert {e["destination"] for e in log} == {"adhoc-csv", "crm"}

    plan = tmp_path / "p/plans/p1/email.csv"  # the configured plans folder is scrubbed too
    plan.parent.mkdir(parents=True)
    plan.write_text("customer_id,action\nC0002,win-back\nC0003,win-back\n", encoding="utf-8")
    r = runner.invoke(
        app, ["forget", "C0002", "--yes", "--actor", "dpo", "--project", root, "--json"]
    )
    assert r.exit_code == 0, r.output
    erased = json.loads(r.output)
    assert erased["destinations"] == ["crm"]  # the delta destination held him
    assert erased["files_scrubbed"] == {str(plan.resolve()): 1}
    assert plan.read_text(encoding="utf-8") == "customer_id,action\nC0003,win-back\n"
    with Project.open(root) as p2:
        c = p2.engine.table("customers")
        assert "C0002" not in set(c.customer_id.to_pyarrow().to_pylist())
    r = runner.invoke(app, ["forget", "C0002", "--yes", "--project", root])
    assert r.exit_code == 1
    assert "no customer 'C0002'" in r.output
