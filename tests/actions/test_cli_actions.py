"""The activation commands, in-process, on the small B2B demo."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from segmint.cli import app
from segmint.project import Project

runner = CliRunner()


def test_owners_actions_and_campaign_commands(b2b_demo: Project) -> None:
    root = str(b2b_demo.root)
    b2b_demo.close()
    res = runner.invoke(app, ["owners", "assign", "-p", root, "--json"])
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)
    assert report["changed"] == 0  # the run already assigned them: sticky
    assert report["accounts"] == sum(report["by_owner"].values()) + report["unassigned"]
    res = runner.invoke(app, ["owners", "list", "-p", root, "--json"])
    rows = json.loads(res.stdout)
    assert len(rows) == report["accounts"]
    one = rows[0]["owner"]
    res = runner.invoke(app, ["owners", "list", "-p", root, "--owner", one, "--json"])
    assert len(json.loads(res.stdout)) == report["by_owner"][one]

    res = runner.invoke(app, ["actions", "plan", "-p", root, "--json"])
    assert res.exit_code == 0, res.output
    plan = json.loads(res.stdout)
    assert [a["action"] for a in plan["actions"]] == ["it-invite", "hot-discount", "referral"]
    email = pd.read_csv(Path(root) / "plans" / plan["plan_id"] / "email.csv", dtype=str)
    assert len(email) == plan["by_channel"]["email"]
    assert len(email) == sum(a["treated"] for a in plan["actions"])

    res = runner.invoke(
        app, ["campaign", "measure", "KAMP-2026-09", "-p", root, "--no-model", "--json"]
    )
    assert res.exit_code == 0, res.output
    m = json.loads(res.stdout)
    assert m["by_segment"][0]["segment"] == "(all)"
    assert m["by_segment"][0]["treated"] + m["by_segment"][0]["control"] == m["contacts"]
    res = runner.invoke(app, ["campaign", "measure", "NOPE", "-p", root, "--no-model"])
    assert res.exit_code == 1
    assert "KAMP-2026-09" in res.output  # the error names the campaigns there are
