"""Identity resolution on small hand-built graphs, checked against an independent answer."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import ibis
import pyarrow as pa
import pytest

from segmint.config import IdentityConfig, IdentityKey
from segmint.identity import (
    CONTACT_IDENTITIES,
    IDENTITIES,
    IDENTITY_LINKS,
    IDENTITY_SKIPPED,
    IdentitiesNotResolvedError,
    IdentityConvergenceError,
    IdentityReport,
    person_of,
    resolve_identities,
)

CUSTOMER_COLUMNS = ("_source", "customer_id", "email", "phone", "org_number")
CONTACT_COLUMNS = ("_source", "contact_id", "company_id", "email", "phone")

# A chain A-B (email), B-C (phone), C-D (customer_id across sources), D-E (org_number);
# a second component c9-c10 by phone ("c10" < "c9" as strings); two isolated customers.
CHAIN = [
    ("crm", "c1", "anna@example.dk", None, None),
    ("crm", "c2", "anna@example.dk", "+4520000001", None),
    ("shop", "c3", None, "+4520000001", None),
    ("erp", "c3", None, None, "DK11111111"),
    ("erp", "c4", "bo@example.dk", None, "DK11111111"),
    ("crm", "c5", "carl@example.dk", None, None),
    ("shop", "c6", None, "+4520000006", None),
    ("crm", "c9", None, "+4520000009", None),
    ("shop", "c10", None, "+4520000009", None),
]


@pytest.fixture
def con() -> Iterator[ibis.BaseBackend]:
    backend = ibis.duckdb.connect()
    yield backend
    backend.disconnect()


def _load(con: ibis.BaseBackend, name: str, columns: tuple[str, ...], rows: list[Any]) -> None:
    data = {c: [r[i] for r in rows] for i, c in enumerate(columns)}
    schema = pa.schema([(c, pa.string()) for c in columns])
    con.create_table(name, pa.table(data, schema=schema), overwrite=True)


def _rows(con: ibis.BaseBackend, name: str) -> set[tuple[Any, ...]]:
    return {tuple(row.values()) for row in con.table(name).to_pyarrow().to_pylist()}


def _persons(con: ibis.BaseBackend) -> dict[str, str]:
    return {
        r["customer_id"]: r["person_id"] for r in con.table(IDENTITIES).to_pyarrow().to_pylist()
    }


def _identities(con: ibis.BaseBackend) -> dict[str, tuple[str, int, str]]:
    return {
        r["customer_id"]: (r["person_id"], r["n_customer_ids"], r["linked_by"])
        for r in con.table(IDENTITIES).to_pyarrow().to_pylist()
    }


# -- hand-built graphs -------------------------------------------------------------------


def test_chain_isolated_and_separate_components(con: ibis.BaseBackend) -> None:
    _load(con, "customers", CUSTOMER_COLUMNS, CHAIN)

    report = resolve_identities(con, IdentityConfig())

    everything = "customer_id,email,org_number,phone"
    assert _identities(con) == {
        "c1": ("c1", 4, everything),
        "c2": ("c1", 4, everything),
        "c3": ("c1", 4, everything),
        "c4": ("c1", 4, everything),
        "c5": ("c5", 1, ""),
        "c6": ("c6", 1, ""),
        "c9": ("c10", 2, "phone"),
        "c10": ("c10", 2, "phone"),
    }
    assert _rows(con, IDENTITY_LINKS) == {
        ("c2", "crm", "c1", "crm", "email", "anna@example.dk"),
        ("c3", "shop", "c2", "crm", "phone", "+4520000001"),
        ("c3", "shop", "c3", "erp", "customer_id", "c3"),
        ("c4", "erp", "c3", "erp", "org_number", "DK11111111"),
        ("c9", "crm", "c10", "shop", "phone", "+4520000009"),
    }
    assert con.table(IDENTITY_SKIPPED).count().execute() == 0
    assert report.records == 9
    assert report.customer_ids == 8
    assert report.persons == 4
    assert report.merged_customer_ids == 6
    assert report.links_by_key == {"customer_id": 1, "email": 1, "org_number": 1, "phone": 2}
    assert report.skipped_values == 0
    assert report.iterations >= 2
    assert (report.contacts, report.contact_persons) == (0, 0)


def test_identity_tables_have_documented_columns(con: ibis.BaseBackend) -> None:
    _load(con, "customers", CUSTOMER_COLUMNS, CHAIN)
    resolve_identities(con, IdentityConfig())

    assert con.table(IDENTITIES).columns == (
        "customer_id",
        "person_id",
        "n_customer_ids",
        "linked_by",
    )
    assert con.table(IDENTITY_LINKS).columns == (
        "customer_id",
        "source",
        "linked_customer_id",
        "linked_source",
        "key",
        "value",
    )
    assert con.table(IDENTITY_SKIPPED).columns == ("key", "value", "n_customer_ids", "reason")
    assert con.table(CONTACT_IDENTITIES).columns == (
        "contact_id",
        "contact_person_id",
        "n_contact_ids",
        "linked_by",
        "company_id",
        "company_person_id",
    )
    assert not [t for t in con.list_tables() if t.startswith("_identity_work_")]


def test_shared_address_over_the_limit_links_nothing(con: ibis.BaseBackend) -> None:
    rows: list[tuple[Any, ...]] = [("crm", f"p{i}", "info@firma.dk", None, None) for i in range(4)]
    # exactly at the limit still links
    rows += [("shop", f"q{i}", None, "+4570000000", None) for i in range(3)]
    _load(con, "customers", CUSTOMER_COLUMNS, rows)

    report = resolve_identities(con, IdentityConfig(max_records_per_value=3))

    persons = _persons(con)
    assert {persons[f"p{i}"] for i in range(4)} == {"p0", "p1", "p2", "p3"}
    assert {persons[f"q{i}"] for i in range(3)} == {"q0"}
    assert _rows(con, IDENTITY_SKIPPED) == {("email", "info@firma.dk", 4, "limit")}
    assert report.skipped_values == 1
    assert report.links_by_key["email"] == 0
    assert report.links_by_key["phone"] == 2  # a star, not a clique (which would be 3)


def test_limit_counts_distinct_customer_ids_not_records(con: ibis.BaseBackend) -> None:
    rows = [
        ("crm", "a", "same@x.dk", None, None),
        ("shop", "a", "same@x.dk", None, None),
        ("erp", "a", "same@x.dk", None, None),
        ("crm", "b", "same@x.dk", None, None),
    ]
    _load(con, "customers", CUSTOMER_COLUMNS, rows)

    resolve_identities(con, IdentityConfig(max_records_per_value=2))

    assert _persons(con) == {"a": "a", "b": "a"}
    assert con.table(IDENTITY_SKIPPED).count().execute() == 0


def test_ignore_values(con: ibis.BaseBackend) -> None:
    rows = [
        ("crm", "a", "info@firma.dk", "+4500000000", None),
        ("crm", "b", "info@firma.dk", "+4500000000", None),
        ("crm", "c", "c@firma.dk", "+4511111111", None),
        ("shop", "d", None, "+4511111111", None),
        ("shop", "e", "solo@firma.dk", None, None),
    ]
    _load(con, "customers", CUSTOMER_COLUMNS, rows)
    config = IdentityConfig(
        ignore_values=[" Info@Firma.dk", "+4500000000", "solo@firma.dk", "not-in-data"]
    )

    report = resolve_identities(con, config)

    assert _persons(con) == {"a": "a", "b": "b", "c": "c", "d": "c", "e": "e"}
    assert _rows(con, IDENTITY_SKIPPED) == {
        ("email", "info@firma.dk", 2, "ignored"),
        ("phone", "+4500000000", 2, "ignored"),
        ("email", "solo@firma.dk", 1, "ignored"),
    }
    assert report.skipped_values == 3


def test_disabling_a_key_splits_components_exactly(con: ibis.BaseBackend) -> None:
    _load(con, "customers", CUSTOMER_COLUMNS, CHAIN)

    report = resolve_identities(con, IdentityConfig(keys=["customer_id", "email", "org_number"]))

    assert _identities(con) == {
        "c1": ("c1", 2, "email"),
        "c2": ("c1", 2, "email"),
        "c3": ("c3", 2, "customer_id,org_number"),
        "c4": ("c3", 2, "customer_id,org_number"),
        "c5": ("c5", 1, ""),
        "c6": ("c6", 1, ""),
        "c9": ("c9", 1, ""),
        "c10": ("c10", 1, ""),
    }
    assert "phone" not in report.links_by_key
    assert not any(row[4] == "phone" for row in _rows(con, IDENTITY_LINKS))


def test_records_of_one_customer_id_always_link(con: ibis.BaseBackend) -> None:
    # identities has one row per customer_id, so its records cannot be split
    _load(con, "customers", CUSTOMER_COLUMNS, CHAIN)

    resolve_identities(con, IdentityConfig(keys=["email"]))

    assert _identities(con)["c3"] == ("c3", 1, "customer_id")
    assert _persons(con)["c2"] == "c1"


def test_blank_and_missing_key_columns(con: ibis.BaseBackend) -> None:
    rows = [("crm", "a", "", " "), ("crm", "b", "", " "), ("crm", "c", "X@Y.DK", None)]
    _load(con, "customers", ("_source", "customer_id", "email", "phone"), rows)

    resolve_identities(con, IdentityConfig())  # no org_number column: that key is skipped

    assert _persons(con) == {"a": "a", "b": "b", "c": "c"}


# -- contacts ----------------------------------------------------------------------------


def test_contacts_resolve_to_their_company(con: ibis.BaseBackend) -> None:
    _load(con, "customers", CUSTOMER_COLUMNS, CHAIN)
    contacts = [
        ("crm", "k2", "c2", "lene@example.dk", None),
        ("mail", "k2", "c2", None, "+4530000002"),
        ("crm", "k1", "c4", "lene@example.dk", None),  # same person, listed under c4 too
        ("crm", "k3", "c9", None, "+4530000002"),  # phone links k3 to k2 (mail)
        ("crm", "k4", "c99", "ole@example.dk", None),  # company not among customers
        ("crm", "k5", "c5", None, None),
        ("mail", "k5", "c10", None, None),  # sources disagree: smallest company person
    ]
    _load(con, "contacts", CONTACT_COLUMNS, contacts)

    report = resolve_identities(con, IdentityConfig())

    rows = {
        r["contact_id"]: (r["contact_person_id"], r["company_id"], r["company_person_id"])
        for r in con.table(CONTACT_IDENTITIES).to_pyarrow().to_pylist()
    }
    assert rows == {
        "k1": ("k1", "c4", "c1"),
        "k2": ("k1", "c2", "c1"),
        "k3": ("k1", "c9", "c10"),
        "k4": ("k4", "c99", "c99"),
        "k5": ("k5", "c10", "c10"),
    }
    linked_by = {
        r["contact_id"]: r["linked_by"]
        for r in con.table(CONTACT_IDENTITIES).to_pyarrow().to_pylist()
    }
    assert linked_by["k2"] == "contact_id,email,phone"
    assert linked_by["k5"] == "contact_id"
    assert linked_by["k4"] == ""
    assert (report.contacts, report.contact_persons) == (5, 3)


def test_contacts_follow_the_key_and_limit_settings(con: ibis.BaseBackend) -> None:
    contacts = [
        ("crm", "k1", "c1", "info@firma.dk", "+4530000000"),
        ("crm", "k2", "c1", "info@firma.dk", "+4530000000"),
        ("crm", "k3", "c1", "info@firma.dk", None),
    ]
    _load(con, "contacts", CONTACT_COLUMNS, contacts)

    report = resolve_identities(con, IdentityConfig(keys=["email"], max_records_per_value=2))

    persons = {
        r["contact_id"]: r["contact_person_id"]
        for r in con.table(CONTACT_IDENTITIES).to_pyarrow().to_pylist()
    }
    assert persons == {"k1": "k1", "k2": "k2", "k3": "k3"}  # phone off, email too common
    assert _rows(con, "contact_identity_skipped") == {("email", "info@firma.dk", 3, "limit")}
    assert report.contact_skipped_values == 1
    # no customers table: companies keep their own id
    assert {
        r["company_person_id"] for r in con.table(CONTACT_IDENTITIES).to_pyarrow().to_pylist()
    } == {"c1"}


def test_missing_tables_give_empty_results(con: ibis.BaseBackend) -> None:
    report = resolve_identities(con, IdentityConfig())

    assert report == IdentityReport(
        records=0,
        customer_ids=0,
        persons=0,
        merged_customer_ids=0,
        links_by_key={"customer_id": 0, "email": 0, "org_number": 0, "phone": 0},
        skipped_values=0,
        iterations=1,
    )
    for name in (IDENTITIES, IDENTITY_LINKS, IDENTITY_SKIPPED, CONTACT_IDENTITIES):
        assert con.table(name).count().execute() == 0
    assert person_of(con).count().execute() == 0


# -- the engine loop ---------------------------------------------------------------------


def _path(n: int) -> list[tuple[Any, ...]]:
    """n customers in one chain, linked alternately by email and phone, smallest id last."""
    rows = []
    for i in range(n):
        email = f"e{i - i % 2}@x.dk"  # shared by i and i + 1 when i is even
        phone = f"+45{i - 1 + i % 2:08d}" if i > 0 else None  # by i and i + 1 when i is odd
        rows.append(("crm", f"n{n - i:04d}", email, phone, None))
    return rows


def test_long_chain_converges_in_few_rounds(con: ibis.BaseBackend) -> None:
    _load(con, "customers", CUSTOMER_COLUMNS, _path(200))

    report = resolve_identities(con, IdentityConfig())

    assert set(_persons(con).values()) == {"n0001"}
    assert report.persons == 1
    assert report.iterations < 30  # pointer jumping; plain propagation needs ~200


def test_iteration_guard_raises_a_clear_error(con: ibis.BaseBackend) -> None:
    _load(con, "customers", CUSTOMER_COLUMNS, _path(50))

    with pytest.raises(IdentityConvergenceError, match="did not converge within 2 iterations"):
        resolve_identities(con, IdentityConfig(), max_iterations=2)
    assert not [t for t in con.list_tables() if t.startswith("_identity_work_")]
    with pytest.raises(ValueError, match="max_iterations"):
        resolve_identities(con, IdentityConfig(), max_iterations=0)


def test_rerun_gives_identical_tables(con: ibis.BaseBackend) -> None:
    _load(con, "customers", CUSTOMER_COLUMNS, CHAIN)
    _load(con, "contacts", CONTACT_COLUMNS, [("crm", "k1", "c3", "x@y.dk", None)])
    names = (IDENTITIES, IDENTITY_LINKS, IDENTITY_SKIPPED, CONTACT_IDENTITIES)

    first_report = resolve_identities(con, IdentityConfig(max_records_per_value=2))
    first = {n: con.table(n).order_by(*con.table(n).columns).to_pyarrow() for n in names}
    second_report = resolve_identities(con, IdentityConfig(max_records_per_value=2))
    second = {n: con.table(n).order_by(*con.table(n).columns).to_pyarrow() for n in names}

    assert first_report == second_report
    for name in names:
        assert first[name].equals(second[name]), name


# -- an independent check ----------------------------------------------------------------


def _random_customers(seed: int, n: int) -> list[tuple[Any, ...]]:
    rng = random.Random(seed)
    sources = ("crm", "shop", "erp")
    rows = []
    for i in range(n):
        cid = f"{rng.randrange(10 ** rng.randint(1, 4))}-{i % 97}"
        for source in rng.sample(sources, rng.choice((1, 1, 1, 2))):
            rows.append(
                (
                    source,
                    cid,
                    f"u{rng.randrange(n // 3)}@x.dk" if rng.random() < 0.5 else None,
                    f"+45{rng.randrange(n // 2):08d}" if rng.random() < 0.5 else None,
                    f"DK{rng.randrange(n // 20):08d}" if rng.random() < 0.1 else None,
                )
            )
    return rows


def _expected_with_networkx(
    rows: list[tuple[Any, ...]], keys: list[IdentityKey], limit: int
) -> tuple[dict[str, str], set[tuple[str, str]]]:
    nx = pytest.importorskip("networkx")
    holders: dict[tuple[str, str], set[str]] = {}
    for row in rows:
        record = dict(zip(CUSTOMER_COLUMNS, row, strict=True))
        for key in keys:
            if key != "customer_id" and record[key]:
                holders.setdefault((key, record[key]), set()).add(record["customer_id"])
    graph = nx.Graph()
    graph.add_nodes_from(row[1] for row in rows)
    skipped: set[tuple[str, str]] = set()
    for (name, value), ids in holders.items():
        if len(ids) > limit:
            skipped.add((name, value))
            continue
        ordered = sorted(ids)
        graph.add_edges_from((ordered[0], other) for other in ordered[1:])
    persons: dict[str, str] = {}
    for component in nx.connected_components(graph):
        smallest = min(component)
        persons.update(dict.fromkeys(component, smallest))
    return persons, skipped


@pytest.mark.parametrize(
    ("seed", "keys", "limit"),
    [
        (1, ["customer_id", "email", "phone", "org_number"], 10),
        (2, ["customer_id", "email", "phone", "org_number"], 3),
        (3, ["email", "org_number"], 4),
        (4, ["customer_id", "phone"], 5),
    ],
)
def test_components_match_networkx(
    con: ibis.BaseBackend, seed: int, keys: list[IdentityKey], limit: int
) -> None:
    rows = _random_customers(seed, 300)
    _load(con, "customers", CUSTOMER_COLUMNS, rows)

    report = resolve_identities(con, IdentityConfig(keys=keys, max_records_per_value=limit))

    expected, skipped = _expected_with_networkx(rows, keys, limit)
    assert _persons(con) == expected
    assert {(r[0], r[1]) for r in _rows(con, IDENTITY_SKIPPED)} == skipped
    assert report.persons == len(set(expected.values()))
    assert report.customer_ids == len(expected)
    assert report.records == len({(r[0], r[1]) for r in rows})
    sizes = {p: list(expected.values()).count(p) for p in set(expected.values())}
    assert {c: n for c, (_, n, _) in _identities(con).items()} == {
        c: sizes[p] for c, p in expected.items()
    }


# -- portability -------------------------------------------------------------------------


class _SparkSQLCheck:
    """A DuckDB backend that also compiles every table it is asked to create for Spark."""

    def __init__(self, backend: ibis.BaseBackend) -> None:
        self._backend = backend
        self.compiled: list[str] = []

    def create_table(self, name: str, obj: Any = None, **kwargs: Any) -> Any:
        if isinstance(obj, ibis.Table):
            self.compiled.append(str(ibis.to_sql(obj, dialect="pyspark")))
        return self._backend.create_table(name, obj, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._backend, name)


def test_every_step_compiles_for_spark(con: ibis.BaseBackend) -> None:
    _load(con, "customers", CUSTOMER_COLUMNS, CHAIN)
    _load(con, "contacts", CONTACT_COLUMNS, [("crm", "k1", "c3", "x@y.dk", None)])
    checked = _SparkSQLCheck(con)

    resolve_identities(checked, IdentityConfig(ignore_values=["x"]))

    assert len(checked.compiled) > 10
    assert _persons(con)["c4"] == "c1"


# -- API ---------------------------------------------------------------------------------


def test_person_of_and_report_to_dict(con: ibis.BaseBackend) -> None:
    with pytest.raises(IdentitiesNotResolvedError, match="run identity resolution"):
        person_of(con)
    with pytest.raises(LookupError):
        person_of(con)

    _load(con, "customers", CUSTOMER_COLUMNS, CHAIN)
    report = resolve_identities(con, IdentityConfig())

    table = person_of(con)
    assert table.columns == ("customer_id", "person_id")
    assert dict(zip(*table.to_pyarrow().to_pydict().values(), strict=True)) == _persons(con)
    data = report.to_dict()
    assert data["persons"] == 4
    assert list(data["links_by_key"]) == ["customer_id", "email", "org_number", "phone"]
    assert set(data) == {
        "records",
        "customer_ids",
        "persons",
        "merged_customer_ids",
        "links_by_key",
        "skipped_values",
        "iterations",
        "contacts",
        "contact_persons",
        "contact_skipped_values",
    }
