"""segmint run on a real (small) demo project: members, deltas and as-of against pandas."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
from typer.testing import CliRunner

from segmint import runs, service
from segmint.cli import app
from segmint.exceptions import ConfigError
from segmint.project import Project
from segmint.segments import _snapshots as snapshots

AS_OFS = [datetime(2026, 4, 1), datetime(2026, 7, 1), datetime(2026, 10, 1)]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Project]:
    root = tmp_path_factory.mktemp("runs") / "demo"
    service.build_demo(root, customers=1200, seed=11)
    project = Project.open(root)
    try:
        yield project
    finally:
        project.close()


def _orders(project: Project) -> pd.DataFrame:
    """Orders by person, computed independently of segmint's traits (plain pandas)."""
    eng = project.engine
    tx = eng.table("transactions").select("customer_id", "order_date", "amount").to_pandas()
    ids = eng.table("identities").select("customer_id", "person_id").to_pandas()
    tx = tx.merge(ids, on="customer_id", how="left")
    tx["person"] = tx["person_id"].fillna(tx["customer_id"])
    return tx


def _vip(orders: pd.DataFrame, as_of: datetime) -> set[str]:
    """The demo's vip: spent 15,000 or more in the 365 days before as_of."""
    window = orders[
        (orders.order_date >= as_of - timedelta(days=365)) & (orders.order_date < as_of)
    ]
    spend = window.groupby("person")["amount"].sum()
    return set(spend[spend >= 15000].index)


def _lapsing(orders: pd.DataFrame, as_of: datetime) -> set[str]:
    """Spent over 5,000 before as_of but nothing in the last 180 days."""
    before = orders[orders.order_date < as_of]
    total = before.groupby("person")["amount"].sum()
    recent = set(before[before.order_date >= as_of - timedelta(days=180)].person)
    return set(total[total > 5000].index) - recent


def _members_of_run(project: Project, run_id: str, segment: str) -> set[str]:
    s = snapshots.run_members(project.engine, run_id)
    assert s is not None
    got = s.filter(s.segment == segment).customer_id
    return set(got.to_pyarrow().to_pylist())


def test_three_runs_match_pandas_and_their_deltas_are_exact(demo: Project) -> None:
    orders = _orders(demo)
    first = runs.last_successful_run(demo.engine)  # the demo's own run
    assert first is not None
    previous = {s: _members_of_run(demo, first, s) for s in ("vip", "lapsing_valuable")}
    results = [service.run(demo, as_of=a) for a in AS_OFS]
    for result, as_of in zip(results, AS_OFS, strict=True):
        expected = {"vip": _vip(orders, as_of), "lapsing_valuable": _lapsing(orders, as_of)}
        for segment, members in expected.items():
            assert members, (segment, as_of)  # the demo must make the test meaningful
            assert _members_of_run(demo, result.run_id, segment) == members, (segment, as_of)
            d = demo.engine.table("segment_deltas")
            mine = d.filter((d.run_id == result.run_id) & (d.segment == segment)).to_pandas()
            assert set(mine[mine.change == "entered"].customer_id) == members - previous[segment]
            assert set(mine[mine.change == "exited"].customer_id) == previous[segment] - members
            r = result.segments[segment]
            assert (r.size, r.entered, r.exited) == (
                len(members),
                len(members - previous[segment]),
                len(previous[segment] - members),
            )
        previous = expected
    # the history of one customer who moved is exactly the sequence of its memberships:
    # the demo's own run (as of the data's end) and then the three runs above
    mover = next(iter(_vip(orders, AS_OFS[0]) ^ _vip(orders, AS_OFS[1])))
    sequence = [mover in _vip(orders, datetime(2026, 10, 1))] + [
        mover in _vip(orders, a) for a in AS_OFS
    ]
    expected: list[str] = []
    was_in = False
    for now_in in sequence:
        if now_in != was_in:
            expected.append("entered" if now_in else "exited")
        was_in = now_in
    view = service.customer(demo, mover)
    assert [h["change"] for h in view.history if h["segment"] == "vip"] == expected
    assert ("vip" in view.segments) == sequence[-1]


def test_as_of_ignores_later_data(demo: Project) -> None:
    as_of = AS_OFS[0]
    before = service.run(demo, as_of=as_of)
    traits_before = demo.engine.table("customer_traits").drop("run_id").to_pyarrow()
    # a big order of an existing customer after as_of must change nothing as of then
    t = demo.engine.table("transactions")
    row = t.filter(t.order_date >= as_of).limit(1).to_pyarrow().to_pylist()[0]
    row.update(order_id="LATE-1", _key="LATE-1|1", amount=1_000_000.0)
    demo.engine.append("transactions", pa.Table.from_pylist([row], schema=t.schema().to_pyarrow()))
    try:
        again = service.run(demo, as_of=as_of)
        traits_after = demo.engine.table("customer_traits").drop("run_id").to_pyarrow()
        assert traits_after.sort_by("customer_id").equals(traits_before.sort_by("customer_id"))
        for name in ("vip", "lapsing_valuable", "active_danes"):
            assert _members_of_run(demo, again.run_id, name) == _members_of_run(
                demo, before.run_id, name
            )
        assert {k: v.entered + v.exited for k, v in again.segments.items()} == dict.fromkeys(
            again.segments, 0
        )
    finally:
        t = demo.engine.table("transactions")
        demo.engine.write("transactions", t.filter(t.order_id != "LATE-1"))


def test_cli_run_segments_members_preview(demo: Project, tmp_path: Path) -> None:
    runner = CliRunner()
    root = str(demo.root)
    r = runner.invoke(app, ["run", "-p", root, "--as-of", "2026-10-01", "--json"])
    assert r.exit_code == 0, r.output
    vip = _vip(_orders(demo), AS_OFS[2])
    r = runner.invoke(app, ["members", "vip", "-p", root, "--limit", "100000", "--json"])
    assert set(json.loads(r.stdout)["customer_ids"]) == vip
    f = tmp_path / "big.yaml"
    f.write_text(
        "name: big\nrule: {performed: transactions, within: 365d, sum: {of: amount, '>=': 15000}}\n"
    )
    r = runner.invoke(app, ["segments", "preview", str(f), "-p", root, "--as-of", "2026-10-01"])
    assert r.exit_code == 0, r.output
    assert f"{len(vip):,} customers as of 2026-10-01" in r.output
    r = runner.invoke(app, ["segments", "show", "vipp", "-p", root])
    assert r.exit_code == 1
    assert "did you mean 'vip'" in r.output
    r = runner.invoke(app, ["segments", "list", "-p", root, "--json"])
    listed = {s["name"]: s for s in json.loads(r.stdout)}
    assert listed["vip"]["size"] == len(vip)
    assert listed["rfm-champions"]["kind"] == "family"


PREVIEW_RULES = {
    "trait": {"field": "orders_90d", "op": ">=", "value": 2},
    "derived_trait": {"field": "spend_share_top_category", "op": ">", "value": 0.5},
    "family_field": {"field": "rfm_cell", "op": "in", "value": ["champions", "at_risk"]},
    "family_cell": {"in_segment": "lifecycle-active"},
    "segment_of_segment": {
        "all": [
            {"in_segment": "active_danes"},
            {"field": "top_device", "op": "=", "value": "mobile"},
        ]
    },
    "engagement": {"field": "email_opens_90d", "op": ">", "value": 1},
}


@pytest.mark.parametrize("name", list(PREVIEW_RULES))
def test_preview_evaluates_only_what_the_rule_needs(demo: Project, name: str) -> None:
    from segmint.segments import parse_rule
    from segmint.segments._compile import compile_segment
    from segmint.segments._evaluate import evaluate, needs, rule_context

    rule = parse_rule(PREVIEW_RULES[name])
    as_of = AS_OFS[-1]
    full = evaluate(demo.engine, demo.config, as_of)
    try:
        ctx = rule_context(demo.engine, full.base, demo.config, as_of, full.members)
        want = set(compile_segment(rule, ctx).customer_id.to_pyarrow().to_pylist())
    finally:
        for t in full.scratch:
            demo.engine.drop(t)
    got = service.preview(demo, PREVIEW_RULES[name], as_of=as_of)
    assert got.count == len(want) > 0
    assert got.sample == sorted(want)[:20]
    n = needs(demo.config, rule)
    assert n.segments <= {s.name for s in demo.config.segments}
    if name == "segment_of_segment":
        assert n.segments == {"active_danes", "vip"}
    if name in ("trait", "engagement", "derived_trait"):
        assert not n.families
        assert not n.segments
        assert n.fields == {PREVIEW_RULES[name]["field"]}
    if name.startswith("family"):
        assert n.families


def test_movement_between_two_runs_matches_a_crosstab(
    demo: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    from segmint.segments import rfm
    from segmint.segments._rfm import NO_CELL
    from segmint.traits import customer_base

    a, b = service.run(demo, as_of=AS_OFS[0]), service.run(demo, as_of=AS_OFS[1])
    moved = service.movement(demo, "rfm")
    assert (moved.from_run, moved.to_run) == (a.run_id, b.run_id)

    def cells(as_of: datetime) -> pd.Series:
        base = customer_base(demo.engine, demo.config.traits, as_of)
        scored = rfm(base, demo.config.families.rfm).to_pandas()
        return scored.set_index("customer_id")["rfm_cell"]

    before, after = cells(AS_OFS[0]), cells(AS_OFS[1])
    both = pd.concat([before.rename("from"), after.rename("to")], axis=1).fillna(NO_CELL)
    want = both.groupby(["from", "to"]).size()
    got = {(f, t): n for f, row in moved.counts.items() for t, n in row.items() if n}
    assert got == {k: int(v) for k, v in want.items()}
    assert got[("champions", "champions")] > 0  # the demo makes the test meaningful
    assert moved.cells[:2] == ["champions", "loyal_customers"]  # the map's order

    r = CliRunner().invoke(app, ["segments", "movement", "rfm", "-p", str(demo.root), "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["counts"] == moved.counts
    r = CliRunner().invoke(app, ["segments", "movement", "rmf", "-p", str(demo.root)])
    assert r.exit_code == 1
    assert "did you mean 'rfm'" in r.output

    # a run whose snapshot was pruned (the registry no longer lists it) is refused
    stored = snapshots.snapshot_runs(demo.engine)
    monkeypatch.setattr(snapshots, "snapshot_runs", lambda _e: [r for r in stored if r != a.run_id])
    with pytest.raises(ConfigError, match=f"no snapshot of run {a.run_id} is stored"):
        service.movement(demo, "rfm", from_run=a.run_id, to_run=b.run_id)


def test_a_run_merges_only_the_attributes_its_rules_read(demo: Project) -> None:
    from segmint.config import ProjectConfig
    from segmint.segments import parse_segments
    from segmint.segments._evaluate import evaluate, run_attributes
    from segmint.traits._attributes import attribute_fields

    config = ProjectConfig.model_validate({"name": "attributes"})
    config.segments = parse_segments(
        [
            {"name": "danes", "rule": {"field": "country", "op": "=", "value": "DK"}},
            {"name": "big", "rule": {"field": "monetary", "op": ">=", "value": 5000}},
        ]
    )
    assert run_attributes(config) == {"country"}
    config.discovery.clusters.enabled = True
    config.discovery.clusters.features = ["monetary", "gender"]
    config.discovery.clusters.describe_by = ["region"]
    assert run_attributes(config) == {"country", "gender", "region"}
    config.discovery.clusters.enabled = False
    as_of = AS_OFS[-1]
    for incremental in (False, True):
        found = evaluate(demo.engine, config, as_of, incremental=incremental)
        try:
            attrs = set(found.base.columns) & set(attribute_fields())
            assert attrs == {"country"}
            # the merged country: the canonical record's, else another record's (pandas)
            customers = demo.engine.table("customers").to_pandas()
            ids = demo.engine.table("identities").select("customer_id", "person_id").to_pandas()
            merged = customers.merge(ids, on="customer_id", how="left")
            merged["person"] = merged.person_id.fillna(merged.customer_id)
            merged["other"] = merged.person != merged.customer_id
            country = merged.sort_values(["other", "customer_id"]).groupby("person").country.first()
            danes = set(country[country == "DK"].index)
            got = set(found.members["danes"].customer_id.to_pyarrow().to_pylist())
            assert got == danes & set(found.base.customer_id.to_pyarrow().to_pylist())
            assert got, "the demo must have Danish customers"
            assert found.traits is not None
            assert not set(found.traits.columns) & attrs
        finally:
            for name in found.scratch:
                demo.engine.drop(name)
            if found.kept is not None:
                found.kept.discard(demo.engine)
