"""Loading files into a project: known numbers, quarantine reasons, atomicity, idempotency."""

from __future__ import annotations

import json
import sqlite3
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from stdnum.dk import cvr

from segmint import service
from segmint.config import ReadOptions, load_config
from segmint.exceptions import InputError, UnknownTableError
from segmint.project import Project


def _rows(project: Project, table: str, order: str) -> list[dict]:
    t = project.engine.table(table)
    return t.order_by(order).to_pyarrow().to_pylist()


def _quarantine(project: Project) -> list[tuple]:
    q = project.engine.table("quarantine").order_by(["file", "row"]).to_pyarrow().to_pylist()
    return [(r["file"], r["row"], r["column"], r["reason"]) for r in q]


def test_cp1252_semicolon_decimal_comma_loads_to_the_right_numbers(
    project: Project, tmp_path: Path
) -> None:
    text = (
        "Ordrenummer;Kundenummer;Dato;Kategori;Beløb;Kanal\r\n"
        "1001;K1;31-12-2024;Køkken;1.234,50;Butik\r\n"
        "1002;K1;01-02-2025;Bøger;99,95;webshop\r\n"
        "1003;K2;15-03-2025;Tøj;-12,5;webshop\r\n"
        '1004;K2;16-03-2025;"Hus; have";"2.000.000,00";webshop\r\n'
    )
    f = tmp_path / "ordrer.csv"
    f.write_bytes(text.encode("cp1252"))
    report = service.load(project, "transactions", f)
    assert (report.encoding, report.delimiter, report.decimal) == ("cp1252", ";", ",")
    assert (report.rows_in, report.rows_loaded, report.rows_quarantined) == (4, 4, 0)
    rows = _rows(project, "transactions", "order_id")
    assert [r["amount"] for r in rows] == [1234.5, 99.95, -12.5, 2_000_000.0]
    assert [r["category"] for r in rows] == ["Køkken", "Bøger", "Tøj", "Hus; have"]
    assert [r["order_date"] for r in rows] == [
        datetime(2024, 12, 31),
        datetime(2025, 2, 1),
        datetime(2025, 3, 15),
        datetime(2025, 3, 16),
    ]
    assert [r["line_no"] for r in rows] == [1, 1, 1, 1]  # the field's default
    assert [r["_row"] for r in rows] == [2, 3, 4, 5]
    assert rows[0]["channel"] == "Butik"


def _valid_cvr() -> tuple[str, str]:
    base = "1234567"
    for d in "0123456789":
        if cvr.is_valid(base + d):
            good = base + d
            bad = base + str((int(d) + 1) % 10)
            assert not cvr.is_valid(bad)
            return good, bad
    raise AssertionError("no check digit found")  # pragma: no cover


GOOD_CVR, BAD_CVR = _valid_cvr()

# table, header, a valid row, a row with exactly one defect, expected reason, its column
BAD_ROW_KINDS = [
    (
        "customers",
        "Kundenummer;Fornavn;Land",
        "1;Anna;DK",
        ";Bo;DK",
        "missing_required",
        "Kundenummer",
    ),
    ("customers", "Kundenummer;E-mail", "1;a@x.dk", "2;carl@@example", "bad_email", "E-mail"),
    ("customers", "Kundenummer;Telefon", "1;20 12 34 56", "2;12", "bad_phone", "Telefon"),
    (
        "customers",
        "Kundenummer;Fødselsdato",
        "1;31-12-1980",
        "2;31-02-1985",
        "bad_date",
        "Fødselsdato",
    ),
    (
        "customers",
        "Kundenummer;Fødselsdato",
        "1;31-12-1980",
        "2;01-01-1850",
        "implausible_date",
        "Fødselsdato",
    ),
    ("customers", "Kundenummer;Land", "1;DK", "2;Atlantis", "bad_country", "Land"),
    (
        "customers",
        "Kundenummer;Land;Postnummer",
        "1;DK;2100",
        "2;DK;21000",
        "bad_postal_code",
        "Postnummer",
    ),
    ("customers", "Kundenummer;CVR", f"1;{GOOD_CVR}", f"2;{BAD_CVR}", "bad_org_number", "CVR"),
    ("customers", "Kundenummer;Branchekode", "1;62.01", "2;00.00", "bad_nace", "Branchekode"),
    ("customers", "Kundenummer;Antal ansatte", "1;12", "2;12,5", "bad_integer", "Antal ansatte"),
    ("customers", "Kundenummer;Antal ansatte", "1;12", "2;-3", "out_of_range", "Antal ansatte"),
    ("customers", "Kundenummer;Kundetype", "1;privat", "2;alien", "not_allowed", "Kundetype"),
    ("customers", "Kundenummer;Fornavn", "1;Anna", "1;Anne", "duplicate_key", "Kundenummer"),
    (
        "transactions",
        "Ordrenummer;Kundenummer;Dato;Beløb",
        "1;K1;01-02-2024;10,00",
        "2;K1;01-02-2024;abc",
        "bad_number",
        "Beløb",
    ),
    (
        "transactions",
        "Ordrenummer;Kundenummer;Dato;Beløb",
        "1;K1;01-02-2024;10,00",
        "2;K1;01-02-2099;5,00",
        "implausible_date",
        "Dato",
    ),
    (
        "transactions",
        "Ordrenummer;Kundenummer;Dato;Beløb",
        "1;K1;01-02-2024;10,00",
        "2;K1;;5,00",
        "missing_required",
        "Dato",
    ),
    (
        "consents",
        "Kundenummer;Kanal;Samtykke;Tidspunkt",
        "1;email;ja;01-02-2024",
        "2;email;måske;01-02-2024",
        "bad_boolean",
        "Samtykke",
    ),
    (
        "consents",
        "Kundenummer;Kanal;Samtykke;Tidspunkt",
        "1;email;ja;01-02-2024",
        "2;telepati;ja;01-02-2024",
        "not_allowed",
        "Kanal",
    ),
    (
        "survey_responses",
        "Kundenummer;Dato;NPS",
        "1;01-02-2024;9",
        "2;01-02-2024;11",
        "out_of_range",
        "NPS",
    ),
    ("customers", "Kundenummer;Fornavn", "1;Anna", "2;Bo;extra", "bad_row", None),
]


@pytest.mark.parametrize(
    ("table", "header", "good", "bad", "reason", "column"),
    BAD_ROW_KINDS,
    ids=[f"{k[0]}-{k[4]}" for k in BAD_ROW_KINDS],
)
def test_each_bad_row_kind_is_quarantined_with_its_reason(
    project: Project,
    tmp_path: Path,
    table: str,
    header: str,
    good: str,
    bad: str,
    reason: str,
    column: str | None,
) -> None:
    f = tmp_path / f"{table}.csv"
    f.write_bytes(f"{header}\n{good}\n{bad}\n".encode("cp1252"))
    report = service.load(project, table, f)
    assert (report.rows_in, report.rows_loaded, report.rows_quarantined) == (2, 1, 1)
    assert report.reasons == {reason: 1}
    assert _quarantine(project) == [(f.name, 3, column, reason)]
    stored = project.engine.table("quarantine").to_pyarrow().to_pylist()[0]
    assert stored["table"] == table
    # nothing lost: the whole raw record is kept
    if reason == "bad_row":
        assert stored["record"] == bad
    elif reason == "duplicate_key":
        raw = json.loads(stored["record"])
        assert (raw["customer_id"], raw["first_name"]) == ("1", "Anne")
    else:
        raw = json.loads(stored["record"])
        assert list(raw.values()) == bad.split(";")


def test_normalised_values_are_stored(project: Project, tmp_path: Path) -> None:
    f = tmp_path / "kunder.csv"
    f.write_bytes(
        (
            "Kundenummer;E-mail;Telefon;Land;Postnummer;CVR;Branchekode\n"
            f"1; Anna.Jensen@Example.DK ;20 12 34 56;Danmark;DK-2100;DK {GOOD_CVR};620100\n"
            "2;;0046 70 123 45 67;Sverige;123 45;;\n"
        ).encode("cp1252")
    )
    report = service.load(project, "customers", f)
    assert report.rows_quarantined == 0
    rows = _rows(project, "customers", "customer_id")
    assert [r["email"] for r in rows] == ["anna.jensen@example.dk", None]
    assert [r["phone"] for r in rows] == ["+4520123456", "+46701234567"]
    assert [r["country"] for r in rows] == ["DK", "SE"]
    assert [r["postal_code"] for r in rows] == ["2100", "12345"]
    assert rows[0]["org_number"] == f"DK{GOOD_CVR}"
    assert rows[0]["nace_code"] == "62.01"
    assert [r["customer_type"] for r in rows] == ["person", "person"]


def test_double_load_is_idempotent(project: Project, tmp_path: Path) -> None:
    f = tmp_path / "ordrer.csv"
    f.write_text(
        "order_id,customer_id,order_date,amount\n1,K1,2024-01-02,10.5\n2,K2,2024-01-03,20\n"
        "3,K2,2024-01-03,oops\n"
    )
    first = service.load(project, "transactions", f)
    second = service.load(project, "transactions", f)
    assert (first.rows_new, first.rows_updated) == (2, 0)
    assert (second.rows_new, second.rows_updated) == (0, 2)
    assert project.engine.count("transactions") == 2
    assert project.engine.count("quarantine") == 1  # replaced, not doubled
    assert project.engine.count("loads") == 2
    # a corrected file replaces its quarantine entry and updates the row
    f.write_text(
        "order_id,customer_id,order_date,amount\n1,K1,2024-01-02,10.5\n2,K2,2024-01-03,25\n"
        "3,K2,2024-01-03,30\n"
    )
    third = service.load(project, "transactions", f)
    assert (third.rows_new, third.rows_updated, third.rows_quarantined) == (1, 2, 0)
    assert project.engine.count("quarantine") == 0
    assert [r["amount"] for r in _rows(project, "transactions", "order_id")] == [10.5, 25.0, 30.0]


def test_events_without_id_are_keyed_by_content(project: Project, tmp_path: Path) -> None:
    f = tmp_path / "events.csv"
    f.write_text(
        "customer_id,event_time,event_type\n"
        "1,2024-01-02 10:00:00,email_open\n"
        "1,2024-01-02 10:00:00,email_click\n"
        "1,2024-01-02 10:00:00,email_open\n"
    )
    report = service.load(project, "events", f)
    assert (report.rows_loaded, report.reasons) == (2, {"duplicate_key": 1})
    service.load(project, "events", f)
    assert project.engine.count("events") == 2


def test_failed_load_leaves_store_unchanged(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    f = tmp_path / "ordrer.csv"
    f.write_text("order_id,customer_id,order_date,amount\n1,K1,2024-01-02,10\n2,K1,2024-01-02,x\n")
    service.load(project, "transactions", f)
    before = {
        t: project.engine.table(t).to_pyarrow() for t in ("transactions", "quarantine", "loads")
    }
    g = tmp_path / "more.csv"
    g.write_text(
        "order_id,customer_id,order_date,amount,note\n1,K1,2024-01-02,99,changed\n"
        "5,K9,2024-02-02,50,new\n6,K9,2024-02-02,y,bad\n"
    )
    from segmint.ingest import _load

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(_load, "_record_load", boom)  # fails after the merge, inside the unit
    with pytest.raises(RuntimeError, match="disk full"):
        service.load(project, "transactions", g)
    for t, table in before.items():
        assert project.engine.table(t).to_pyarrow().equals(table), t
    assert "note" not in project.engine.table("transactions").columns


def test_extra_columns_are_kept_and_new_ones_added(project: Project, tmp_path: Path) -> None:
    f = tmp_path / "kunder.csv"
    f.write_text("customer_id,first_name,Favorit butik\n1,Anna,Nørrebro\n", encoding="utf-8")
    service.load(project, "customers", f)
    g = tmp_path / "kunder2.csv"
    g.write_text("customer_id,Loyalitet\n2,guld\n", encoding="utf-8")
    report = service.load(project, "customers", g)
    assert report.extra_columns == ["loyalitet"]
    rows = _rows(project, "customers", "customer_id")
    assert [(r["favorit_butik"], r["loyalitet"]) for r in rows] == [
        ("Nørrebro", None),
        (None, "guld"),
    ]


def test_customer_records_are_kept_per_source(project: Project, tmp_path: Path) -> None:
    crm = tmp_path / "crm.csv"
    crm.write_text("customer_id,phone\n1,20123456\n")
    shop = tmp_path / "shop.csv"
    shop.write_text("customer_id,email\n1,a@b.dk\n")
    service.load(project, "customers", crm)
    service.load(project, "customers", shop)
    rows = _rows(project, "customers", "_source")
    assert [(r["_source"], r["phone"], r["email"]) for r in rows] == [
        ("crm", "+4520123456", None),
        ("shop", None, "a@b.dk"),
    ]


def test_mapping_and_detected_options_are_saved(project: Project, tmp_path: Path) -> None:
    f = tmp_path / "kunder.csv"
    f.write_bytes("Kundenr;Mobil;Kundeklub;Fornavn\n1;20123456;ja;Søren\n".encode("cp1252"))
    service.load(project, "customers", f, mapping={"Kundeklub": "household_id"})
    cfg = load_config(project.config_path)
    src = cfg.source("kunder")
    assert src is not None
    assert src.table == "customers"
    assert src.path == str(Path(f).resolve())  # outside the project: absolute
    assert src.mapping == {
        "Kundenr": "customer_id",
        "Mobil": "phone",
        "Kundeklub": "household_id",
        "Fornavn": "first_name",
    }
    assert (src.options.encoding, src.options.delimiter) == ("cp1252", ";")
    # the next load of the same source uses the saved mapping without --map
    f.write_bytes("Kundenr;Mobil;Kundeklub;Fornavn\n2;20123457;nej;Bjørn\n".encode("cp1252"))
    service.load(project, "customers", f)
    assert [r["household_id"] for r in _rows(project, "customers", "customer_id")] == ["ja", "nej"]


def test_missing_required_column_is_a_clear_error(project: Project, tmp_path: Path) -> None:
    f = tmp_path / "ordrer.csv"
    f.write_text("order_id,customer_id,amount\n1,K1,10\n")
    with pytest.raises(
        InputError, match=r"ordrer.csv: no column for required field\(s\) order_date"
    ):
        service.load(project, "transactions", f)
    assert not project.engine.has_table("transactions")


def test_unknown_table_suggests_external(project: Project, tmp_path: Path) -> None:
    f = tmp_path / "x.csv"
    f.write_text("a\n1\n")
    with pytest.raises(UnknownTableError, match="--key"):
        service.load(project, "postnumre", f)


def test_external_table_with_key(project: Project, tmp_path: Path) -> None:
    f = tmp_path / "marked.csv"
    f.write_text("region,age_band,households\nHovedstaden,18-29,1000\nSjælland,18-29,500\n")
    report = service.load(project, "market_households", f, key=["region", "age_band"])
    assert report.rows_loaded == 2
    service.load(project, "market_households", f)  # key now declared in segmint.yaml
    assert project.engine.count("market_households") == 2
    assert load_config(project.config_path).external["market_households"].key == [
        "region",
        "age_band",
    ]


def test_excel_parquet_jsonl_and_database(project: Project, tmp_path: Path) -> None:
    x = tmp_path / "samtykker.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["Kundenummer", "Kanal", "Samtykke", "Tidspunkt"])
    ws.append([1, "email", "ja", datetime(2024, 3, 1, 12, 0)])
    ws.append([2, "sms", "nei", datetime(2024, 3, 2, 8, 30)])
    ws.append([3, "sms", "måske", datetime(2024, 3, 2, 8, 30)])
    wb.save(x)
    r = service.load(project, "consents", x)
    assert (r.rows_loaded, r.reasons) == (2, {"bad_boolean": 1})
    rows = _rows(project, "consents", "customer_id")
    assert [(c["customer_id"], c["granted"], c["consent_time"]) for c in rows] == [
        ("1", True, datetime(2024, 3, 1, 12, 0)),
        ("2", False, datetime(2024, 3, 2, 8, 30)),
    ]

    p = tmp_path / "subs.parquet"
    pq.write_table(
        pa.table(
            {
                "subscription_id": ["s1", "s2"],
                "customer_id": ["1", "2"],
                "start_date": pa.array([date(2024, 1, 1), date(2024, 2, 1)]),
                "monthly_amount": [99.0, -1.0],
            }
        ),
        p,
    )
    r = service.load(project, "subscriptions", p)
    assert (r.rows_loaded, r.reasons) == (1, {"out_of_range": 1})
    assert _quarantine(project)[-1] == ("subs.parquet", 2, "monthly_amount", "out_of_range")

    j = tmp_path / "web.jsonl"
    j.write_text(
        '{"customer_id": "1", "event_time": "2024-05-01T10:00:00Z", "event_type": "web_visit", '
        '"device": "mobile"}\n'
        "not json\n"
        '{"customer_id": 2, "event_time": "2024-05-02T11:00:00", "event_type": "web_visit"}\n'
    )
    r = service.load(project, "events", j)
    assert (r.rows_in, r.rows_loaded, r.reasons) == (3, 2, {"bad_row": 1})
    assert ("web.jsonl", 2, None, "bad_row") in _quarantine(project)
    ev = _rows(project, "events", "customer_id")
    assert [(e["customer_id"], e["event_time"], e["device"]) for e in ev] == [
        ("1", datetime(2024, 5, 1, 10, 0), "mobile"),
        ("2", datetime(2024, 5, 2, 11, 0), None),
    ]

    db = tmp_path / "crm.sqlite"
    with sqlite3.connect(db) as con:
        con.execute("create table kunder (kundenummer text, email text)")
        con.executemany("insert into kunder values (?, ?)", [("9", "x@y.dk"), ("10", "bad")])
    r = service.load(
        project,
        "customers",
        f"sqlite://{db}",
        options=ReadOptions(query_table="kunder"),
        source="crm",
    )
    assert (r.rows_loaded, r.reasons) == (1, {"bad_email": 1})


def test_saved_mapping_survives_a_renamed_column_and_yields_to_map(
    project: Project, tmp_path: Path
) -> None:
    f = tmp_path / "kunder.csv"
    f.write_text("Nr,Klub\n1,ja\n")
    service.load(project, "customers", f, mapping={"Nr": "customer_id", "Klub": "household_id"})
    # next month's export renamed a column: the saved entry for it is dropped, not an error
    f.write_text("Nr,Klubben\n2,nej\n")
    report = service.load(project, "customers", f)
    assert report.mapping == {"Nr": "customer_id"}
    assert report.extra_columns == ["klubben"]
    # --map gives a field another column: it replaces the saved entry
    f.write_text("Nr,Kundenummer\nx,3\n")
    report = service.load(project, "customers", f, mapping={"Kundenummer": "customer_id"})
    assert report.mapping == {"Kundenummer": "customer_id"}
    assert report.extra_columns == ["nr"]


def test_text_extra_columns_that_hold_only_numbers_become_numbers(
    project: Project, tmp_path: Path
) -> None:
    f = tmp_path / "svar.csv"
    f.write_bytes(
        (
            "Kundenummer;Dato;Point;Score;Kommentar;Tom\n"
            "1;01-02-2024;12;1,5;god;\n"
            "2;01-02-2024;7;2;12;\n"
            "3;01-02-2024;;1.234,5;n/a;\n"
        ).encode("cp1252")
    )
    service.load(project, "survey_responses", f)
    t = project.engine.table("survey_responses")
    schema = t.schema()
    assert (str(schema["point"]), str(schema["score"]), str(schema["kommentar"])) == (
        "int64",
        "float64",
        "string",
    )
    assert str(schema["tom"]) == "string"  # never held a value: stays text
    rows = t.order_by("customer_id").to_pyarrow().to_pylist()
    assert [(r["point"], r["score"], r["kommentar"]) for r in rows] == [
        (12, 1.5, "god"),
        (7, 2.0, "12"),
        (None, 1234.5, "n/a"),
    ]
    # rows without an id get their content key as id
    assert all(r["response_id"] == r["_key"] and len(r["_key"]) == 32 for r in rows)


def test_a_later_file_that_disagrees_on_a_type_widens_the_column(
    project: Project, tmp_path: Path
) -> None:
    def load(name: str, text: str) -> None:
        f = tmp_path / f"{name}.csv"
        f.write_text(text)
        service.load(project, "customers", f)

    load("a", "customer_id,point,score\n1,12,3\n")
    load("b", "customer_id,point,score\n2,n/a,2.5\n")
    t = project.engine.table("customers")
    assert (str(t.schema()["point"]), str(t.schema()["score"])) == ("string", "float64")
    rows = t.order_by("customer_id").select("point", "score").to_pyarrow().to_pylist()
    assert rows == [{"point": "12", "score": 3.0}, {"point": "n/a", "score": 2.5}]
