"""One project, two engines: ingest and identity resolution store the same tables on DuckDB
and on Spark, and a failed unit of work changes nothing on either.

Every test runs through the ``engines`` fixture; the tables each engine stores are compared
with the same data, built independently of the engine, value for value.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from segmint.config import IdentityConfig
from segmint.datamodel import entity
from segmint.engine import Engine
from segmint.identity import (
    CONTACT_IDENTITIES,
    IDENTITIES,
    IDENTITY_LINKS,
    IDENTITY_SKIPPED,
    resolve_identities,
)
from segmint.ingest import LoadReport, load_source
from segmint.ingest import _load as ingest_load

NOW = datetime(2026, 11, 1, 12, 0, 0)

# cp1252, ';', decimal commas, Danish headers; row 4 has a bad email, row 5 repeats customer
# 1002, row 6 has too many fields; 'Favorit butik' is an extra column
CUSTOMERS_CSV = (
    "Kundenummer;Fornavn;Email;Mobil;Fødselsdato;Ansatte;Omsætning;Favorit butik\r\n"
    "1001;Søren;soren@example.dk;20123456;31-12-1980;;;Nørrebro\r\n"
    "1002;Åse;ASE@Example.dk ;+4540123456;01-02-1975;12;1.234,50;\r\n"
    "1003;Bo;bo(at)example.dk;31234567;02-03-1999;3;10,5;Århus\r\n"
    "1002;Åse igen;ase@example.dk;;;;;\r\n"
    "1004;Ida;ida@example.dk;;05-06-2001;;;Odense;ekstra\r\n"
    "1005;Carl;carl@example.dk;40123456;07-08-1990;0;0;\r\n"
)
# a second file from the same source: updates 1001, adds 1006 and a new extra column
CUSTOMERS_UPDATE_CSV = (
    "Kundenummer;Fornavn;Email;Loyalitet\r\n1001;Søren;ny@example.dk;guld\r\n1006;Eva;;\r\n"
)
TRANSACTIONS_CSV = (
    "order_id,customer_id,order_date,amount,category,channel\n"
    "o1,1001,2025-01-02,100.5,Køkken,web\n"
    "o2,1001,2025-02-03 14:15:16,-20,Køkken,butik\n"
    "o3,1002,2025-03-04,x,Tøj,web\n"
    "o4,1005,2025-04-05,1e3,,web\n"
)


def stored(engine: Engine, table: str, *, ignore: tuple[str, ...] = ()) -> dict[str, Any]:
    """A stored table as plain data: its Ibis schema and its rows in a fixed order."""
    t = engine.table(table)
    t = t.drop(*ignore) if ignore else t
    data = [tuple(r.values()) for r in t.to_pyarrow().to_pylist()]
    return {
        "schema": {name: str(dtype) for name, dtype in t.schema().items()},
        "rows": sorted(data, key=lambda r: [(v is None, str(v)) for v in r]),
    }


def _load(engine: Engine, table: str, path: Path, source: str) -> LoadReport:
    return load_source(engine, table, entity(table), path, source_name=source, now=NOW)


def _write_files(folder: Path) -> Path:
    files = {
        "kunder.csv": CUSTOMERS_CSV.encode("cp1252"),
        "kunder2.csv": CUSTOMERS_UPDATE_CSV.encode("cp1252"),
        "ordrer.csv": TRANSACTIONS_CSV.encode("utf-8"),
    }
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return folder


def _load_all(engine: Engine, folder: Path) -> list[LoadReport]:
    return [
        _load(engine, "customers", folder / "kunder.csv", "crm"),
        _load(engine, "customers", folder / "kunder2.csv", "crm"),
        _load(engine, "transactions", folder / "ordrer.csv", "shop"),
    ]


# columns that differ by design between two loads: a random id and the report with timings
VOLATILE = {"loads": ("load_id", "report"), "quarantine": ("load_id",)}

# derived by hand from the CSVs above: each engine must match it, not just the other engine
EXPECTED_CUSTOMERS = {
    # customer_id: (first_name, email, phone, birth_date, employees, revenue, favorit_butik,
    #               loyalitet)
    "1001": ("Søren", "ny@example.dk", None, None, None, None, None, "guld"),
    "1002": ("Åse", "ase@example.dk", "+4540123456", date(1975, 2, 1), 12, 1234.5, None, None),
    "1005": ("Carl", "carl@example.dk", "+4540123456", date(1990, 8, 7), 0, 0.0, None, None),
    "1006": ("Eva", None, None, None, None, None, None, None),
}


def test_ingest_stores_the_expected_rows(engines: Engine, tmp_path: Path) -> None:
    reports = _load_all(engines, _write_files(tmp_path))
    assert [(r.rows_in, r.rows_loaded, r.rows_quarantined) for r in reports] == [
        (6, 3, 3),
        (2, 2, 0),
        (4, 3, 1),
    ]
    customers = {r["customer_id"]: r for r in engines.table("customers").to_pyarrow().to_pylist()}
    cols = (
        "first_name", "email", "phone", "birth_date", "employees", "revenue", "favorit_butik",
        "loyalitet",
    )  # fmt: skip
    assert {k: tuple(r[c] for c in cols) for k, r in customers.items()} == EXPECTED_CUSTOMERS
    amounts = engines.table("transactions").order_by("order_id").amount.to_pyarrow()
    assert amounts.to_pylist() == [100.5, -20.0, 1000.0]
    assert sorted(
        (r["file"], r["row"], r["reason"])
        for r in engines.table("quarantine").to_pyarrow().to_pylist()
    ) == [
        ("kunder.csv", 4, "bad_email"),
        ("kunder.csv", 5, "duplicate_key"),
        ("kunder.csv", 6, "bad_row"),
        ("ordrer.csv", 4, "bad_number"),
    ]


@pytest.mark.spark
def test_ingest_is_identical_on_duckdb_and_spark(spark: Engine, tmp_path: Path) -> None:
    from segmint.engine import connect

    duck = connect("duckdb:///:memory:")
    folder = _write_files(tmp_path)
    for engine in (duck, spark):
        _load_all(engine, folder)
    for table in ("customers", "transactions", "quarantine", "loads"):
        ignore = VOLATILE.get(table, ())
        assert stored(spark, table, ignore=ignore) == stored(duck, table, ignore=ignore), table
    duck.close()


# A chain 1-2 (email), 2-3 (phone), 3-4 (customer_id across sources), 4-5 (org_number);
# a pair 9-10 by phone; an isolated customer; an info@ address too common to link
CUSTOMER_RECORDS = [
    ("crm", "c1", "anna@example.dk", None, None),
    ("crm", "c2", "Anna@Example.dk", "+4520000001", None),
    ("shop", "c3", None, "+4520000001", None),
    ("erp", "c3", None, None, "DK11111111"),
    ("erp", "c4", "bo@example.dk", None, "DK11111111"),
    ("crm", "c6", None, "+4520000006", None),
    ("crm", "c9", "info@example.dk", "+4520000009", None),
    ("shop", "c10", "info@example.dk", "+4520000009", None),
    ("shop", "c11", "info@example.dk", None, None),
    ("shop", "c12", "info@example.dk", None, None),
]
CONTACT_RECORDS = [
    ("crm", "p1", "c4", "ole@example.dk", None),
    ("crm", "p2", "c3", "OLE@example.dk", "+4520000077"),
    ("crm", "p3", "c9", None, "+4520000077"),
    ("crm", "p4", "c10", "kim@example.dk", None),
]
CUSTOMER_COLUMNS = ("_source", "customer_id", "email", "phone", "org_number")
CONTACT_COLUMNS = ("_source", "contact_id", "company_id", "email", "phone")


def _write(engine: Engine, name: str, columns: tuple[str, ...], records: list[Any]) -> None:
    data = {c: [r[i] for r in records] for i, c in enumerate(columns)}
    engine.write(name, pa.table(data, schema=pa.schema([(c, pa.string()) for c in columns])))


def _resolve(engine: Engine) -> dict[str, Any]:
    _write(engine, "customers", CUSTOMER_COLUMNS, CUSTOMER_RECORDS)
    _write(engine, "contacts", CONTACT_COLUMNS, CONTACT_RECORDS)
    report = resolve_identities(engine.con, IdentityConfig(max_records_per_value=3))
    return report.to_dict()


@pytest.mark.spark
def test_identities_are_identical_on_duckdb_and_spark(spark: Engine) -> None:
    from segmint.engine import connect

    duck = connect("duckdb:///:memory:")
    expected = _resolve(duck)
    persons = {
        r["customer_id"]: r["person_id"] for r in duck.table(IDENTITIES).to_pyarrow().to_pylist()
    }
    assert persons == {
        **dict.fromkeys(("c1", "c2", "c3", "c4"), "c1"),
        "c6": "c6",
        "c9": "c10",
        "c10": "c10",
        "c11": "c11",
        "c12": "c12",
    }
    assert _resolve(spark) == expected
    for table in (IDENTITIES, IDENTITY_LINKS, IDENTITY_SKIPPED, CONTACT_IDENTITIES):
        assert stored(spark, table) == stored(duck, table), table
    assert not [t for t in spark.con.list_tables() if t.startswith("_identity_work_")]
    duck.close()


def test_failed_load_leaves_every_table_unchanged(
    engines: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    f = tmp_path / "ordrer.csv"
    f.write_text("order_id,customer_id,order_date,amount\n1,K1,2024-01-02,10\n2,K1,2024-01-02,x\n")
    _load(engines, "transactions", f, "shop")
    before = {t: stored(engines, t) for t in ("transactions", "quarantine", "loads")}
    g = tmp_path / "more.csv"
    g.write_text(
        "order_id,customer_id,order_date,amount,note\n1,K1,2024-01-02,99,changed\n"
        "5,K9,2024-02-02,50,new\n6,K9,2024-02-02,y,bad\n"
    )

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    # fails after the merge and the quarantine rewrite, inside the unit of work
    monkeypatch.setattr(ingest_load, "_record_load", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        _load(engines, "transactions", g, "shop")
    assert {t: stored(engines, t) for t in before} == before
    assert "note" not in engines.table("transactions").columns
    tables = [t for t in engines.con.list_tables() if not t.startswith("ibis_")]
    assert sorted(tables) == ["loads", "quarantine", "transactions"]
    if engines.name == "spark":  # no staging table, backup or publish log is left behind
        assert sorted(engines.con._stored_tables()) == ["loads", "quarantine", "transactions"]


def test_runs_publish_the_same_spans_deltas_and_pruning_on_both_engines(
    engines: Engine,
) -> None:
    import ibis

    from segmint import runs
    from segmint.segments import _snapshots as snapshots

    each = [
        {"vip": ["1", "2"], "lapsed": ["4"]},
        {"vip": ["2", "3"], "lapsed": ["4", "5"]},
        {"vip": ["3"], "lapsed": [], "new": ["1"]},
        {"vip": ["1", "2"], "lapsed": ["4"]},
    ]

    def evaluation(members: dict[str, list[str]]) -> runs.Evaluation:
        def evaluate(engine: Engine, as_of: datetime) -> runs.Evaluated:
            base = ibis.memtable(pa.table({"customer_id": ["1", "2", "3", "4", "5"]}))
            tables = {
                name: ibis.memtable(pa.table({"customer_id": pa.array(ids, pa.string())}))
                for name, ids in members.items()
            }
            return runs.Evaluated(base, tables)

        return evaluate

    ids = [
        runs.run(engines, evaluation(m), keep_snapshots=2, now=datetime(2026, 1, i + 1)).run_id
        for i, m in enumerate(each)
    ]
    # pruned after the fourth run to the two newest, whose members are read back exactly
    assert snapshots.snapshot_runs(engines) == ids[2:]
    for run_id, members in zip(ids[2:], each[2:], strict=True):
        got = snapshots.run_members(engines, run_id)
        assert got is not None
        pairs = sorted((r["segment"], r["customer_id"]) for r in got.to_pyarrow().to_pylist())
        assert pairs == sorted((s, c) for s, cs in members.items() for c in cs), run_id
    d = engines.table("segment_deltas").to_pyarrow().to_pylist()
    fourth = sorted(
        (r["segment"], r["customer_id"], r["change"]) for r in d if r["run_id"] == ids[3]
    )
    assert fourth == [
        ("lapsed", "4", "entered"),
        ("new", "1", "exited"),
        ("vip", "1", "entered"),
        ("vip", "2", "entered"),
        ("vip", "3", "exited"),
    ]
    # the spans that cover the third run or later: vip 3 (runs 2-3), new 1 (run 3), and
    # the fourth run's vip 1, vip 2 and lapsed 4
    spans = stored(engines, "segment_memberships")["rows"]
    assert sorted((s, c, f == ids[2], t) for s, c, f, t in spans) == [
        ("lapsed", "4", False, None),
        ("new", "1", True, ids[3]),
        ("vip", "1", False, None),
        ("vip", "2", False, None),
        ("vip", "3", False, ids[3]),
    ]
