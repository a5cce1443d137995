"""The demo project end to end: generated -> messy exports -> ingest -> identities.

Each check compares the store with what the generator planted, recomputed here (pyarrow,
pandas, networkx) from the generated tables and the saved truth; the load reports are
only checked against the store, never trusted as the expectation.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import networkx as nx
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from typer.testing import CliRunner

from segmint import service
from segmint.cli import app
from segmint.datamodel import ENTITIES
from segmint.demo import (
    DemoData,
    ExportFile,
    generate,
    load_identity_truth,
    load_truth,
    write_exports,
)
from segmint.exceptions import ConfigError

SEED = 7
#: generated columns no export carries: ingest derives them from the row's content
NOT_EXPORTED = {"events": {"event_id"}, "survey_responses": {"response_id"}}
#: identity keys, in the form the generated tables (and the store) hold them
KEYS = ("email", "phone", "org_number")


@dataclass(frozen=True)
class Demo:
    """A built demo project, and the same demo generated and written again for reference."""

    root: Path
    summary: service.DemoSummary
    data: DemoData
    files: list[ExportFile]
    store: dict[str, pa.Table]


def _build(tmp: Path, customers: int, b2b: bool) -> Demo:
    summary = service.build_demo(tmp / "demo", customers=customers, seed=SEED, b2b=b2b)
    data = generate(customers, seed=SEED, b2b=b2b)
    # the export is deterministic: writing it again tells which rows were planted bad
    files = write_exports(data, tmp / "reference", seed=SEED)
    project = service.open_project(tmp / "demo")
    try:
        eng = project.engine
        names = [*data.tables, "quarantine", "identities", "identity_links", "identity_skipped"]
        names += ["contact_identities"] if b2b else []
        store = {n: eng.table(n).to_pyarrow() for n in names if eng.has_table(n)}
    finally:
        project.close()
    return Demo(tmp / "demo", summary, data, files, store)


@pytest.fixture(scope="module")
def b2c(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    return _build(tmp_path_factory.mktemp("b2c"), 3000, b2b=False)


@pytest.fixture(scope="module")
def b2b(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    return _build(tmp_path_factory.mktemp("b2b"), 1500, b2b=True)


BOTH = pytest.mark.parametrize("demo_name", ["b2c", "b2b"])


def _demo(request: pytest.FixtureRequest, name: str) -> Demo:
    demo: Demo = request.getfixturevalue(name)
    return demo


# ------------------------------------------------------------------------ ingest


@BOTH
def test_the_demo_loads_the_files_it_wrote(demo_name: str, request: pytest.FixtureRequest) -> None:
    demo = _demo(request, demo_name)
    written = sorted(p.name for p in (demo.root / "exports").iterdir())
    assert written == sorted(f.path.name for f in demo.files)
    for f in demo.files:
        if f.path.suffix != ".xlsx":  # workbooks carry a creation time
            assert (demo.root / "exports" / f.path.name).read_bytes() == f.path.read_bytes()
    assert [(Path(r.file).name, r.table, r.source) for r in demo.summary.loads] == [
        (f.path.name, f.table, f.source) for f in demo.files
    ]


@BOTH
def test_quarantine_holds_exactly_the_planted_bad_rows(
    demo_name: str, request: pytest.FixtureRequest
) -> None:
    demo = _demo(request, demo_name)
    planted = {
        (f.table, f.path.name, row, reason)
        for f in demo.files
        for row, reason in f.bad_rows.items()
    }
    q = demo.store["quarantine"].select(["table", "file", "row", "reason"]).to_pylist()
    stored = [(r["table"], r["file"], r["row"], r["reason"]) for r in q]
    assert len(stored) == len(set(stored))
    assert set(stored) == planted
    assert len(planted) >= (10 if demo_name == "b2c" else 2)

    bad = {f.path.name: len(f.bad_rows) for f in demo.files}
    for r in demo.summary.loads:
        name = Path(r.file).name
        assert r.rows_in == r.rows_loaded + r.rows_quarantined, name
        assert r.rows_quarantined == bad[name], name
        assert sum(r.reasons.values()) == bad[name], name


def _canonical(value: Any) -> Any:
    """One spelling per value: floats to the cent, times to the second, dates as ISO."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return round(float(value), 2)
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None, microsecond=0).isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _rows(table: pa.Table, fields: list[str]) -> Counter[tuple[Any, ...]]:
    columns = [[_canonical(v) for v in table[f].to_pylist()] for f in fields]
    return Counter(zip(*columns, strict=True))


def _expected_tables(data: DemoData) -> dict[str, pa.Table]:
    """The generated tables, with the webshop's accounts as more customers."""
    tables = dict(data.tables)
    if data.accounts is not None:
        crm = tables["customers"]
        tables["customers"] = pa.concat_tables([crm, data.accounts.select(crm.column_names)])
    return tables


@BOTH
def test_each_loaded_table_equals_the_generated_one(
    demo_name: str, request: pytest.FixtureRequest
) -> None:
    demo = _demo(request, demo_name)
    mapped: dict[str, set[str]] = {}
    for r in demo.summary.loads:
        mapped.setdefault(r.table, set()).update(r.mapping.values(), r.extra_columns)
    for name, generated in _expected_tables(demo.data).items():
        # the fields that hold anything, less those the files have no column for
        fields = [
            c
            for c in generated.column_names
            if generated[c].null_count < generated.num_rows
            and c not in NOT_EXPORTED.get(name, set())
        ]
        # a field no file carries must be one ingest fills with the datamodel's default
        # (customer_type 'person', line_no 1), and the comparison below checks it holds
        missing = set(fields) - mapped[name]
        entity = ENTITIES.get(name)
        defaults = {f.name for f in entity.fields if f.default is not None} if entity else set()
        assert missing <= defaults, (name, missing)
        stored = demo.store[name].select(fields)
        if entity is None:
            # an external table types only its key: other columns are kept as text
            stored = stored.cast(generated.select(fields).schema)
        assert stored.num_rows == generated.num_rows, name
        assert _rows(stored, fields) == _rows(generated, fields), name


def test_customers_are_kept_per_source(b2c: Demo) -> None:
    customers = b2c.store["customers"]
    by_source = Counter(customers["_source"].to_pylist())
    assert b2c.data.accounts is not None
    assert by_source == {
        "crm": b2c.data.tables["customers"].num_rows,
        "webshop": b2c.data.accounts.num_rows,
    }
    webshop = customers.filter(pc.equal(customers["_source"], "webshop"))
    assert all(i.startswith("W") for i in webshop["customer_id"].to_pylist())


# ------------------------------------------------------------------------ identity


def _truth_graph(truth: pa.Table, pairs: Iterable[dict[str, Any]]) -> nx.Graph:
    """Every record linked to its true person, plus the merges the rules are expected to make."""
    graph = nx.Graph()
    graph.add_nodes_from(truth["customer_id"].to_pylist())
    graph.add_edges_from(
        zip(truth["customer_id"].to_pylist(), truth["true_person"].to_pylist(), strict=True)
    )
    graph.add_edges_from((p["customer_id"], p["linked_customer_id"]) for p in pairs)
    return graph


def _partition(identities: pa.Table) -> set[frozenset[str]]:
    groups: dict[str, set[str]] = {}
    for r in identities.select(["customer_id", "person_id"]).to_pylist():
        groups.setdefault(r["person_id"], set()).add(r["customer_id"])
    return {frozenset(g) for g in groups.values()}


def _key_values(demo: Demo) -> pd.DataFrame:
    """customer_id, key, value of every record the generator made (both sources)."""
    customers = _expected_tables(demo.data)["customers"].to_pandas()
    parts = [
        customers[["customer_id", k]].dropna().rename(columns={k: "value"}).assign(key=k)
        for k in KEYS
    ]
    return pd.concat(parts, ignore_index=True).drop_duplicates()


@BOTH
def test_identities_are_the_planted_persons_plus_the_documented_merges(
    demo_name: str, request: pytest.FixtureRequest
) -> None:
    demo = _demo(request, demo_name)
    truth = load_identity_truth(demo.root / "truth")
    identity = demo.data.truth["identity"]
    pairs = identity["expected_rule_merges"]["pairs"]
    components = list(nx.connected_components(_truth_graph(truth, pairs)))
    identities = demo.store["identities"]
    assert _partition(identities) == {frozenset(c) for c in components}
    assert len(components) == identity["counts"]["persons_by_the_rules"]
    assert demo.summary.identity.persons == len(components)
    # the person id is the smallest customer id of its component
    smallest = {i: min(c) for c in components for i in c}
    got = dict(
        zip(identities["customer_id"].to_pylist(), identities["person_id"].to_pylist(), strict=True)
    )
    assert got == smallest


@BOTH
def test_documented_merges_are_exactly_the_shared_values_within_the_limit(
    demo_name: str, request: pytest.FixtureRequest
) -> None:
    """Recompute from the generated records which different persons share a key value."""
    demo = _demo(request, demo_name)
    identity = demo.data.truth["identity"]
    limit = identity["max_records_per_value"]
    truth = load_identity_truth(demo.root / "truth").to_pandas()
    values = _key_values(demo).merge(truth[["customer_id", "true_person", "household_id"]])
    per_value = values.groupby(["key", "value"]).agg(
        ids=("customer_id", "nunique"), persons=("true_person", lambda s: frozenset(s))
    )
    shared = per_value[(per_value.ids >= 2) & (per_value.ids <= limit)]
    expected = {
        (key, value, persons)
        for (key, value), persons in shared["persons"].items()
        if len(persons) > 1
    }
    documented: dict[tuple[str, str], set[str]] = {}
    for p in identity["expected_rule_merges"]["pairs"]:
        documented.setdefault((p["key"], p["value"]), set()).update(
            (p["customer_id"], p["linked_customer_id"])
        )
    assert {(k, v, frozenset(s)) for (k, v), s in documented.items()} == expected
    household = dict(zip(truth["customer_id"], truth["household_id"], strict=True))
    for p in identity["expected_rule_merges"]["pairs"]:
        same = household[p["customer_id"]] == household[p["linked_customer_id"]]
        assert p["reason"] == ("household" if same else "chance"), p
    too_common = per_value[per_value.ids > limit]
    assert [
        {"key": k, "value": v, "n_customer_ids": int(n)} for (k, v), n in too_common.ids.items()
    ] == identity["skipped_values"]


def test_webshop_accounts_resolve_to_their_crm_person(b2c: Demo) -> None:
    truth = load_identity_truth(b2c.root / "truth").to_pandas()
    person = dict(
        zip(
            b2c.store["identities"]["customer_id"].to_pylist(),
            b2c.store["identities"]["person_id"].to_pylist(),
            strict=True,
        )
    )
    accounts = truth[truth.kind == "account"]
    assert len(accounts) > 0.06 * 3000
    assert set(accounts.variant) == {
        "email_and_phone",
        "email_only",
        "phone_only",
        "role_address_and_phone",
    }
    for account, crm in zip(accounts.customer_id, accounts.true_person, strict=True):
        assert person[account] == person[crm], account
    # the people the CRM has never seen stay on their own
    own = truth[truth.kind == "webshop_only"].customer_id
    assert len(own) >= 30
    n_ids = dict(
        zip(
            b2c.store["identities"]["customer_id"].to_pylist(),
            b2c.store["identities"]["n_customer_ids"].to_pylist(),
            strict=True,
        )
    )
    assert all(person[c] == c and n_ids[c] == 1 for c in own)


def test_the_role_address_links_nothing(b2c: Demo) -> None:
    role = b2c.data.truth["identity"]["webshop"]["role_address"]
    skipped = b2c.store["identity_skipped"].to_pylist()
    assert skipped == [
        {
            "key": "email",
            "value": role["value"],
            "n_customer_ids": len(role["customer_ids"]),
            "reason": "limit",
        }
    ]
    assert len(role["customer_ids"]) > 10  # the default max_records_per_value
    links = b2c.store["identity_links"]
    assert role["value"] not in set(links["value"].to_pylist())
    person = dict(
        zip(
            b2c.store["identities"]["customer_id"].to_pylist(),
            b2c.store["identities"]["person_id"].to_pylist(),
            strict=True,
        )
    )
    assert len({person[c] for c in role["customer_ids"]}) == len(role["customer_ids"])


def test_no_merge_across_households_without_a_link(b2c: Demo) -> None:
    """Different households merge only through a documented chance-shared value."""
    truth = load_identity_truth(b2c.root / "truth").to_pandas()
    chance = {
        frozenset((p["customer_id"], p["linked_customer_id"]))
        for p in b2c.data.truth["identity"]["expected_rule_merges"]["pairs"]
        if p["reason"] == "chance"
    }
    ids = b2c.store["identities"].to_pandas().merge(truth, on="customer_id")
    merged = 0
    for _, group in ids.groupby("person_id"):
        persons = group.drop_duplicates("true_person")
        homes = set(persons.household_id.dropna())
        if len(homes) > 1:
            graph = nx.Graph()
            graph.add_nodes_from(homes)
            home = dict(zip(persons.true_person, persons.household_id, strict=True))
            graph.add_edges_from(
                tuple(home[x] for x in pair) for pair in chance if set(pair) <= set(home)
            )
            assert nx.is_connected(graph), group
        merged += len(persons) > 1
    assert merged > 0  # households sharing an address do merge, as documented


def test_b2b_companies_resolve_to_themselves(b2b: Demo) -> None:
    identities = b2b.store["identities"]
    assert identities.num_rows == b2b.data.tables["customers"].num_rows
    ids = b2b.data.tables["customers"]["customer_id"].to_pylist()
    assert sorted(identities["customer_id"].to_pylist()) == sorted(ids)
    assert identities["person_id"].to_pylist() == identities["customer_id"].to_pylist()
    assert set(identities["n_customer_ids"].to_pylist()) == {1}
    assert b2b.data.accounts is None
    assert "webshop_konti.csv" not in {f.path.name for f in b2b.files}
    contacts = b2b.store["contact_identities"]
    assert contacts["company_person_id"].to_pylist() == contacts["company_id"].to_pylist()


# ------------------------------------------------------------------------ rebuild, truth, CLI


def test_a_demo_folder_is_rebuilt_and_a_project_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    service.build_demo(folder, customers=300, seed=1)
    (folder / "exports" / "left_over.csv").write_text("x\n")
    second = service.build_demo(folder, customers=400, seed=2)
    assert not (folder / "exports" / "left_over.csv").exists()
    assert (folder / service.DEMO_MARKER).read_text() == "customers=400 seed=2 b2b=False\n"
    data = generate(400, seed=2)
    assert data.accounts is not None
    project = service.open_project(folder)
    try:
        counts = {s.table: s.rows for s in service.status(project)}
    finally:
        project.close()
    assert counts["customers"] == 400 + data.accounts.num_rows
    assert second.identity.customer_ids == 400 + data.accounts.num_rows
    truth, _ = load_truth(folder / "truth")
    assert (truth["seed"], truth["n_customers"]) == (2, 400)

    other = service.init_project(tmp_path / "mine")
    other.close()
    before = sorted(p.name for p in (tmp_path / "mine").iterdir())
    with pytest.raises(ConfigError, match="not a demo"):
        service.build_demo(tmp_path / "mine", customers=300)
    assert sorted(p.name for p in (tmp_path / "mine").iterdir()) == before


def test_saved_truth_round_trips_and_holds_the_planted_parameters(b2c: Demo) -> None:
    truth, customers = load_truth(b2c.root / "truth")
    fresh = generate(3000, seed=SEED)
    assert truth == json.loads(json.dumps(fresh.truth))
    assert customers.equals(fresh.customer_truth)
    assert fresh.identity_truth is not None
    assert load_identity_truth(b2c.root / "truth").equals(fresh.identity_truth)
    assert (truth["seed"], truth["n_customers"], truth["scenario"]) == (SEED, 3000, "b2c")
    assert truth["bgnbd"] == fresh.truth["bgnbd"]
    assert truth["window"]["observation_end"] == "2026-09-30"
    assert truth["counts"]["customers"] == 3000
    ident = truth["identity"]
    assert ident["max_records_per_value"] == 10
    assert ident["webshop"]["account_share"] == 0.08
    assert fresh.accounts is not None
    assert ident["sources"] == {"crm": 3000, "webshop": fresh.accounts.num_rows}
    assert ident["counts"]["true_persons"] == (3000 + ident["counts"]["webshop_only_persons"])
    assert ident["webshop"]["role_address"]["value"].startswith("info@")


def test_cli_demo_json_matches_the_store(tmp_path: Path) -> None:
    folder = tmp_path / "cli-demo"
    r = CliRunner().invoke(app, ["demo", str(folder), "--customers", "2000", "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    project = service.open_project(folder)
    try:
        eng = project.engine
        counts = {s.table: s.rows for s in service.status(project)}
        quarantine = eng.table("quarantine").to_pyarrow()
        persons = len(set(eng.table("identities").to_pyarrow()["person_id"].to_pylist()))
    finally:
        project.close()
    assert out["customers"] == 2000
    assert out["rows_loaded"] == {t: counts[t] for t in out["rows_loaded"]}
    assert sum(x["rows_quarantined"] for x in out["loads"]) == counts["quarantine"]
    assert out["quarantine_reasons"] == dict(Counter(quarantine["reason"].to_pylist()))
    assert out["identity"]["persons"] == persons
    assert out["identity"]["customer_ids"] == counts["identities"]


@pytest.mark.slow
def test_default_size_demo_counts(tmp_path: Path) -> None:
    summary = service.build_demo(tmp_path / "demo")
    data = generate()
    assert data.accounts is not None
    project = service.open_project(tmp_path / "demo")
    try:
        counts = {s.table: s.rows for s in service.status(project)}
    finally:
        project.close()
    rows = summary.to_dict()["rows_loaded"]
    generated = {name: t.num_rows for name, t in data.tables.items()}
    generated["customers"] += data.accounts.num_rows
    assert rows == {t: counts[t] for t in rows} == generated
    assert {t: n for t, n in data.truth["counts"].items() if t != "customers"} == {
        t: n for t, n in generated.items() if t != "customers"
    }
    assert summary.customers == 50_000
    quarantined = sum(r.rows_quarantined for r in summary.loads)
    assert counts["quarantine"] == quarantined == sum(summary.quarantine_reasons.values()) > 0
    assert summary.identity.persons == data.truth["identity"]["counts"]["persons_by_the_rules"]
