"""The command line: init, load, exit codes, --json."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from segmint.cli import app

runner = CliRunner()


def test_init_load_json_and_exit_codes(tmp_path: Path) -> None:
    proj = tmp_path / "p"
    r = runner.invoke(app, ["init", str(proj)])
    assert r.exit_code == 0, r.output
    assert (proj / "segmint.yaml").exists()

    r = runner.invoke(app, ["init", str(proj)])
    assert r.exit_code == 1
    assert "already holds a segmint project" in r.output

    f = tmp_path / "kunder.csv"
    f.write_bytes(
        "Kundenr;Mobilnummer;Kunde siden\n1;20123456;01-02-2020\n2;1;x\n".encode("cp1252")
    )
    r = runner.invoke(app, ["load", "customers", str(f), "--project", str(proj), "--json"])
    assert r.exit_code == 0, r.output
    report = json.loads(r.stdout)
    assert (report["rows_in"], report["rows_loaded"], report["rows_quarantined"]) == (2, 1, 1)
    assert report["reasons"] == {"bad_phone": 1}
    assert report["mapping"] == {
        "Kundenr": "customer_id",
        "Mobilnummer": "phone",
        "Kunde siden": "signup_date",
    }

    r = runner.invoke(app, ["load", "customers", str(f), "--project", str(proj)])
    assert r.exit_code == 0, r.output
    assert "rows in 2 = loaded 1 (0 new, 1 updated) + quarantined 1" in r.output
    assert "bad_phone" in r.output


def test_user_errors_exit_1_usage_errors_exit_2(tmp_path: Path) -> None:
    proj = tmp_path / "p"
    runner.invoke(app, ["init", str(proj)])
    r = runner.invoke(app, ["load", "customers", str(tmp_path / "missing.csv"), "-p", str(proj)])
    assert r.exit_code == 1
    assert "missing.csv" in r.output
    assert "no such file" in r.output

    f = tmp_path / "k.csv"
    f.write_text("customer_id\n1\n")
    r = runner.invoke(app, ["load", "customers", str(f), "-p", str(proj), "--map", "nonsense"])
    assert r.exit_code == 2

    r = runner.invoke(
        app, ["load", "customers", str(f), "-p", str(proj), "--map", "customer_id=spnd"]
    )
    assert r.exit_code == 1
    assert "spnd" in r.output

    r = runner.invoke(app, ["load", "customers", str(f), "-p", str(tmp_path / "nowhere")])
    assert r.exit_code == 1
    assert "not a segmint project" in r.output

    r = runner.invoke(app, ["frobnicate"])
    assert r.exit_code == 2


def test_read_options_override_detection_and_are_saved(tmp_path: Path) -> None:
    proj = tmp_path / "p"
    runner.invoke(app, ["init", str(proj)])
    f = tmp_path / "ordrer.csv"
    f.write_text("order_id;customer_id;order_date;amount\n1;K1;2024-01-01;1.500\n")
    r = runner.invoke(app, ["load", "transactions", str(f), "-p", str(proj), "--json"])
    assert json.loads(r.stdout)["decimal"] == ","  # ';' files write decimal commas
    from segmint.project import Project

    with Project.open(proj) as p:
        assert p.engine.table("transactions").amount.to_pyarrow().to_pylist() == [1500.0]
    r = runner.invoke(
        app, ["load", "transactions", str(f), "-p", str(proj), "--decimal", ".", "--json"]
    )
    assert r.exit_code == 0, r.output
    with Project.open(proj) as p:
        assert p.engine.table("transactions").amount.to_pyarrow().to_pylist() == [1.5]
        saved = p.config.source("ordrer")
        assert saved is not None
        assert saved.options.decimal == "."
