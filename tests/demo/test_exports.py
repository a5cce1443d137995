"""The messy exports: encodings, delimiters, headers, every row, and the planted bad rows."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from pathlib import Path

import openpyxl
import phonenumbers
import pytest
from stdnum.dk import cvr
from stdnum.no import orgnr as no_orgnr
from stdnum.se import orgnr as se_orgnr

from segmint.demo import DemoData, ExportFile, _writers, generate, write_exports
from segmint.demo._wallet import SURVEY_COLUMN

N = 2000

HEADERS = {
    "kunder.csv": "Kundenummer;Fornavn;Efternavn;E-mail;Telefon;Fødselsdato;Køn;Adresse;"
    "Postnummer;By;Region;Land;Husstand;Oprettet",
    "ordrer.csv": "Ordrenummer;Kundenummer;Dato;Varenummer;Varenavn;Kategori;Antal;Beløb;Valuta;"
    "Kanal;Butik",
    "email_handelser.csv": "Kundnummer,Händelse,Tidpunkt,Kampanj,Enhet",
    "kundeservice.csv": "customer_id,event_time,event_type,channel",
    "abonnementer.csv": "subscription_id,customer_id,product,start_date,end_date,status,"
    "monthly_amount",
    "kampagner.csv": "campaign_id,name,channel,start_date,end_date",
    "kampagne_kontakter.csv": "campaign_id,customer_id,arm,contact_date,responded,response_value",
    "marked_husstande.csv": "region,age_band,households",
    "marked_forbrug.csv": "region,age_band,category,wallet",
    "virksomheder.csv": "Kundenummer;Virksomhed;CVR;Branchekode;Antal ansatte;Omsætning;Region;"
    "Postnummer;By;Land;Sælger;Kundetype",
    "kontakter.csv": "Kontakt-id;Kundenummer;Fornavn;Efternavn;E-mail;Telefon;Titel",
    "deals.csv": (
        "deal_id,customer_id,contact_id,created_date,closed_date,stage,amount,product,owner"
    ),
    "marked_virksomheder.csv": "nace_code,size_band,companies",
    "webshop_konti.csv": "Kunde-id;E-mail;Mobil;Fornavn;Efternavn;Oprettet",
}
ENCODING = {
    "kunder.csv": "cp1252",
    "ordrer.csv": "cp1252",
    "virksomheder.csv": "cp1252",
    "kontakter.csv": "cp1252",
    "email_handelser.csv": "utf-8-sig",
}
DELIMITER = {"webshop_konti.csv": ";"}


@pytest.fixture(scope="module")
def b2c_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[DemoData, dict[str, ExportFile]]:
    data = generate(N, seed=0)
    files = write_exports(data, tmp_path_factory.mktemp("b2c"), seed=0)
    return data, {f.path.name: f for f in files}


@pytest.fixture(scope="module")
def b2b_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[DemoData, dict[str, ExportFile]]:
    data = generate(1000, seed=0, b2b=True)
    files = write_exports(data, tmp_path_factory.mktemp("b2b"), seed=0)
    return data, {f.path.name: f for f in files}


def _read_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    name = path.name
    encoding = ENCODING.get(name, "utf-8")
    raw = path.read_bytes()
    text = raw.decode(encoding)
    delimiter = DELIMITER.get(name, ";" if encoding == "cp1252" else ",")
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    return rows[0], rows[1:]


def _by_row(rows: list[list[str]]) -> dict[int, list[str]]:
    """Spreadsheet row number (header = 1) -> values."""
    return {i + 2: r for i, r in enumerate(rows)}


# --------------------------------------------------------------------------- files


def test_files_tables_and_sources(b2c_files: tuple[DemoData, dict[str, ExportFile]]) -> None:
    _, files = b2c_files
    assert set(files) == {
        "kunder.csv",
        "ordrer.csv",
        "email_handelser.csv",
        "web.jsonl",
        "kundeservice.csv",
        "samtykker.xlsx",
        "undersoegelse.xlsx",
        "abonnementer.csv",
        "kampagner.csv",
        "kampagne_kontakter.csv",
        "marked_husstande.csv",
        "marked_forbrug.csv",
        "webshop_konti.csv",
    }
    assert files["kunder.csv"].table == "customers"
    assert (files["webshop_konti.csv"].table, files["webshop_konti.csv"].source) == (
        "customers",
        "webshop",
    )
    assert list(files).index("kunder.csv") < list(files).index("webshop_konti.csv")
    assert files["ordrer.csv"].table == "transactions"
    assert {files[f].table for f in ("email_handelser.csv", "web.jsonl", "kundeservice.csv")} == {
        "events"
    }
    assert files["samtykker.xlsx"].table == "consents"
    assert files["undersoegelse.xlsx"].table == "survey_responses"
    assert all(f.path.exists() and f.source for f in files.values())


@pytest.mark.parametrize("fixture", ["b2c_files", "b2b_files"])
def test_csv_encoding_delimiter_and_headers(fixture: str, request: pytest.FixtureRequest) -> None:
    _, files = request.getfixturevalue(fixture)
    for name, f in files.items():
        if not name.endswith(".csv"):
            continue
        raw = f.path.read_bytes()
        encoding = ENCODING.get(name, "utf-8")
        if encoding == "cp1252":
            with pytest.raises(UnicodeDecodeError):
                raw.decode("utf-8")  # æøå in cp1252 are not UTF-8
            assert b"\r\n" in raw
        assert raw.startswith(b"\xef\xbb\xbf") == (encoding == "utf-8-sig")
        first_line = raw.decode(encoding).splitlines()[0]
        assert first_line == HEADERS[name], name


def test_kunder_values_are_written_the_danish_way(
    b2c_files: tuple[DemoData, dict[str, ExportFile]],
) -> None:
    data, files = b2c_files
    header, rows = _read_csv(files["kunder.csv"].path)
    bad = files["kunder.csv"].bad_rows
    good = [r for n, r in _by_row(rows).items() if n not in bad]
    assert len(good) == data.tables["customers"].num_rows
    customers = {c["customer_id"]: c for c in data.tables["customers"].to_pylist()}
    col = {h: i for i, h in enumerate(header)}
    for r in good:
        c = customers[r[col["Kundenummer"]]]
        assert dt.datetime.strptime(r[col["Fødselsdato"]], "%d-%m-%Y").date() == c["birth_date"]
        assert dt.datetime.strptime(r[col["Oprettet"]], "%d-%m-%Y").date() == c["signup_date"]
        phone = r[col["Telefon"]]
        if c["phone"] is None:
            assert phone == ""
        else:
            parsed = phonenumbers.parse(phone, r[col["Land"]])
            assert (
                phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
                == c["phone"]
            )
        assert r[col["E-mail"]] == (c["email"] or "")
        assert r[col["Postnummer"]] == c["postal_code"]
    phones = [r[col["Telefon"]] for r in good if r[col["Land"]] == "DK"]
    assert any(re.fullmatch(r"\d\d \d\d \d\d \d\d", p) for p in phones)
    assert any(p.startswith("+45 ") for p in phones)


def test_kunder_bad_rows(b2c_files: tuple[DemoData, dict[str, ExportFile]]) -> None:
    data, files = b2c_files
    f = files["kunder.csv"]
    header, rows = _read_csv(f.path)
    assert len(rows) == data.tables["customers"].num_rows + len(f.bad_rows)
    assert sorted(f.bad_rows.values()) == sorted(
        ["missing_required", "bad_email", "bad_date", "bad_phone", "duplicate_key"]
    )
    col = {h: i for i, h in enumerate(header)}
    by_row = _by_row(rows)
    ids = {c for c in data.tables["customers"]["customer_id"].to_pylist()}
    for number, reason in f.bad_rows.items():
        r = by_row[number]
        kid = r[col["Kundenummer"]]
        if reason == "missing_required":
            assert kid == ""
        elif reason == "duplicate_key":
            earlier = [by_row[n][col["Kundenummer"]] for n in range(2, number)]
            assert kid in earlier
            assert kid in ids
            first = by_row[2 + earlier.index(kid)]
            assert first != r
        else:
            assert kid
            assert kid not in ids
        if reason == "bad_email":
            assert "@@" in r[col["E-mail"]]
        if reason == "bad_date":
            assert r[col["Fødselsdato"]] == "31-02-1985"
        if reason == "bad_phone":
            assert r[col["Telefon"]] == "12"
        if reason != "bad_date":  # exactly one problem: the rest is fine
            dt.datetime.strptime(r[col["Fødselsdato"]], "%d-%m-%Y")
        if reason != "bad_email" and r[col["E-mail"]]:
            assert r[col["E-mail"]].count("@") == 1
    good_ids = [r[col["Kundenummer"]] for n, r in by_row.items() if n not in f.bad_rows]
    assert len(set(good_ids)) == len(good_ids) == len(ids)


def test_webshop_konti_writes_the_crm_details_another_way(
    b2c_files: tuple[DemoData, dict[str, ExportFile]],
) -> None:
    data, files = b2c_files
    f = files["webshop_konti.csv"]
    assert f.bad_rows == {}
    assert data.accounts is not None
    header, rows = _read_csv(f.path)
    col = {h: i for i, h in enumerate(header)}
    accounts = data.accounts.to_pylist()
    assert len(rows) == len(accounts) > 0.07 * N
    crm_ids = set(data.tables["customers"]["customer_id"].to_pylist())
    _, kunder = _read_csv(files["kunder.csv"].path)
    crm_phone_written = {r[0]: r[4] for r in kunder}
    assert data.identity_truth is not None
    person = dict(
        zip(
            data.identity_truth["customer_id"].to_pylist(),
            data.identity_truth["true_person"].to_pylist(),
            strict=True,
        )
    )
    restyled = 0
    for r, a in zip(rows, accounts, strict=True):
        assert r[col["Kunde-id"]] == a["customer_id"]
        assert re.fullmatch(r"W\d{6}", a["customer_id"])
        assert a["customer_id"] not in crm_ids
        email = r[col["E-mail"]]
        assert (email.strip().lower() or None) == a["email"]
        assert email == "" or email != a["email"]  # upper, title case or padded
        phone = r[col["Mobil"]]
        if a["phone"] is None:
            assert phone == ""
        else:
            parsed = phonenumbers.parse(phone, "DK")
            assert (
                phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
                == a["phone"]
            )
            crm = person[a["customer_id"]]
            if crm in crm_phone_written:
                assert phone != crm_phone_written[crm]
                restyled += 1
        assert r[col["Fornavn"]] == a["first_name"]
        assert dt.date.fromisoformat(r[col["Oprettet"]]) == a["signup_date"]
    assert restyled > 0.05 * N
    assert any(re.fullmatch(r"\+45 \d\d \d\d \d\d \d\d", r[col["Mobil"]]) for r in rows)
    assert any(r[col["E-mail"]].startswith(" ") for r in rows)
    assert any(r[col["E-mail"]].isupper() for r in rows)


def test_ordrer_amounts_dates_and_bad_rows(
    b2c_files: tuple[DemoData, dict[str, ExportFile]],
) -> None:
    data, files = b2c_files
    f = files["ordrer.csv"]
    header, rows = _read_csv(f.path)
    tx = data.tables["transactions"]
    assert len(rows) == tx.num_rows + len(f.bad_rows)
    assert sorted(f.bad_rows.values()) == sorted(
        ["bad_number", "bad_number", "bad_date", "missing_required", "implausible_date"]
    )
    col = {h: i for i, h in enumerate(header)}
    by_row = _by_row(rows)
    amount = re.compile(r"\d{1,3}(\.\d{3})*,\d{2}")
    good = [r for n, r in by_row.items() if n not in f.bad_rows]
    assert all(amount.fullmatch(r[col["Beløb"]]) for r in good)
    assert any("." in r[col["Beløb"]] for r in good)  # thousands separators occur
    parsed = [float(r[col["Beløb"]].replace(".", "").replace(",", ".")) for r in good]
    assert parsed == pytest.approx(tx["amount"].to_pylist())
    days = [dt.datetime.strptime(r[col["Dato"]], "%d.%m.%Y") for r in good]
    assert days == [t.replace(tzinfo=None) for t in tx["order_date"].to_pylist()]
    assert [r[col["Ordrenummer"]] for r in good] == tx["order_id"].to_pylist()
    order_ids = set(tx["order_id"].to_pylist())
    for number, reason in f.bad_rows.items():
        r = by_row[number]
        assert r[col["Ordrenummer"]] not in order_ids
        if reason == "bad_number":
            assert not amount.fullmatch(r[col["Beløb"]])
        else:
            assert amount.fullmatch(r[col["Beløb"]])
        if reason == "bad_date":
            assert r[col["Dato"]] == "32.13.2024"
        elif reason == "implausible_date":
            assert dt.datetime.strptime(r[col["Dato"]], "%d.%m.%Y").year == 1899
        else:
            dt.datetime.strptime(r[col["Dato"]], "%d.%m.%Y")
        assert (r[col["Kundenummer"]] == "") == (reason == "missing_required")


def test_event_files_hold_every_event(b2c_files: tuple[DemoData, dict[str, ExportFile]]) -> None:
    data, files = b2c_files
    ev = data.tables["events"].to_pandas()
    _, email = _read_csv(files["email_handelser.csv"].path)
    _, service = _read_csv(files["kundeservice.csv"].path)
    lines = files["web.jsonl"].path.read_text(encoding="utf-8").splitlines()
    web = [json.loads(x) for x in lines]
    assert len(email) + len(service) + len(web) == len(ev)
    assert {r[1] for r in email} == {"email_send", "email_open", "email_click"}
    assert all(
        list(w) == ["customer_id", "event_time", "event_type", "source", "device", "url"]
        for w in web
    )
    assert {w["event_type"] for w in web} == {"web_visit", "page_view"}
    assert {w["source"] for w in web} <= {
        "google",
        "facebook",
        "newsletter",
        "direct",
        "instagram",
        "linkedin",
    }
    times = sorted(dt.datetime.fromisoformat(w["event_time"]) for w in web)
    expected = sorted(ev.loc[ev["event_type"].isin(["web_visit", "page_view"]), "event_time"])
    assert times == [t.to_pydatetime() for t in expected]
    for r in email[:50]:
        dt.datetime.strptime(r[2], "%Y-%m-%d %H:%M:%S")
    assert all(
        f.bad_rows == {}
        for n, f in files.items()
        if n in ("email_handelser.csv", "web.jsonl", "kundeservice.csv")
    )


def test_samtykker_xlsx(b2c_files: tuple[DemoData, dict[str, ExportFile]]) -> None:
    data, files = b2c_files
    f = files["samtykker.xlsx"]
    ws = openpyxl.load_workbook(f.path, read_only=True).active
    rows = list(ws.iter_rows(values_only=True))
    assert list(rows[0]) == ["Kundenummer", "Kanal", "Samtykke", "Tidspunkt"]
    assert len(rows) - 1 == data.tables["consents"].num_rows + len(f.bad_rows)
    assert sorted(f.bad_rows.values()) == ["bad_boolean", "bad_boolean"]
    for number, row in enumerate(rows[1:], start=2):
        assert isinstance(row[3], dt.datetime)
        if number in f.bad_rows:
            assert row[2] == "måske"
        else:
            assert row[2] in ("ja", "nei")
    good = [r for n, r in enumerate(rows[1:], start=2) if n not in f.bad_rows]
    cons = data.tables["consents"]
    assert [r[3] for r in good] == cons["consent_time"].to_pylist()
    assert [r[2] == "ja" for r in good] == cons["granted"].to_pylist()


def test_undersoegelse_xlsx(b2c_files: tuple[DemoData, dict[str, ExportFile]]) -> None:
    data, files = b2c_files
    ws = openpyxl.load_workbook(files["undersoegelse.xlsx"].path, read_only=True).active
    rows = list(ws.iter_rows(values_only=True))
    items = data.truth["needs"]["items"]
    assert list(rows[0]) == ["Kundenummer", "Dato", "NPS", *items, SURVEY_COLUMN]
    sr = data.tables["survey_responses"]
    assert len(rows) - 1 == sr.num_rows
    assert all(isinstance(r[1], dt.datetime) for r in rows[1:])
    assert [r[2] for r in rows[1:]] == sr["nps"].to_pylist()
    assert [r[3] for r in rows[1:]] == sr[items[0]].to_pylist()
    assert [r[-1] for r in rows[1:]] == sr[SURVEY_COLUMN].to_pylist()


def test_small_csv_files_round_trip(b2c_files: tuple[DemoData, dict[str, ExportFile]]) -> None:
    data, files = b2c_files
    for name, table in (
        ("abonnementer.csv", "subscriptions"),
        ("kampagner.csv", "campaigns"),
        ("kampagne_kontakter.csv", "campaign_contacts"),
        ("marked_husstande.csv", "market_households"),
        ("marked_forbrug.csv", "market_wallet"),
    ):
        header, rows = _read_csv(files[name].path)
        t = data.tables[table]
        assert len(rows) == t.num_rows, name
        assert header == [h for h in t.column_names if h in header]
        first = t.column_names[1]
        assert [r[1] for r in rows] == [str(v) for v in t[first].to_pylist()], name
    _, rows = _read_csv(files["kampagne_kontakter.csv"].path)
    cc = data.tables["campaign_contacts"]
    assert [r[4] for r in rows] == ["true" if v else "false" for v in cc["responded"].to_pylist()]
    assert [float(r[5]) for r in rows] == pytest.approx(cc["response_value"].to_pylist())


def test_excel_row_limit_splits_files(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    data = generate(300, seed=2)
    monkeypatch.setattr(_writers, "EXCEL_MAX_ROWS", 400)
    files = [f for f in write_exports(data, tmp_path) if f.table == "consents"]
    assert [f.path.name for f in files][:2] == ["samtykker.xlsx", "samtykker_2.xlsx"]
    total = 0
    for f in files:
        rows = list(
            openpyxl.load_workbook(f.path, read_only=True).active.iter_rows(values_only=True)
        )
        assert len(rows) <= 400
        assert rows[0] == ("Kundenummer", "Kanal", "Samtykke", "Tidspunkt")
        total += len(rows) - 1
    assert total == data.tables["consents"].num_rows + 2
    assert sum(len(f.bad_rows) for f in files) == 2


# --------------------------------------------------------------------------- B2B


def test_b2b_files(b2b_files: tuple[DemoData, dict[str, ExportFile]]) -> None:
    data, files = b2b_files
    assert {
        "virksomheder.csv",
        "kontakter.csv",
        "deals.csv",
        "marked_virksomheder.csv",
        "ordrer.csv",
    } <= set(files)
    assert "kunder.csv" not in files
    assert files["virksomheder.csv"].table == "customers"
    assert files["kontakter.csv"].table == "contacts"
    _, contacts = _read_csv(files["kontakter.csv"].path)
    assert len(contacts) == data.tables["contacts"].num_rows
    assert [r[1] for r in contacts] == data.tables["contacts"]["company_id"].to_pylist()
    _, deals = _read_csv(files["deals.csv"].path)
    assert len(deals) == data.tables["deals"].num_rows


def test_virksomheder_org_numbers_and_bad_rows(
    b2b_files: tuple[DemoData, dict[str, ExportFile]],
) -> None:
    data, files = b2b_files
    f = files["virksomheder.csv"]
    header, rows = _read_csv(f.path)
    assert len(rows) == data.tables["customers"].num_rows + len(f.bad_rows)
    assert set(f.bad_rows.values()) == {"bad_org_number"}
    assert len(f.bad_rows) >= 1
    col = {h: i for i, h in enumerate(header)}
    check = {"DK": cvr, "NO": no_orgnr, "SE": se_orgnr}
    by_row = _by_row(rows)
    for number, r in by_row.items():
        valid = check[r[col["Land"]]].is_valid(r[col["CVR"]])
        assert valid == (number not in f.bad_rows), (number, r)
        assert r[col["Kundetype"]] == "company"
        assert re.fullmatch(r"\d+,\d{2}", r[col["Omsætning"]])
    cvr_column = [r[col["CVR"]] for n, r in by_row.items() if n not in f.bad_rows]
    assert cvr_column == [x[2:] for x in data.tables["customers"]["org_number"].to_pylist()]
    revenue = [
        float(r[col["Omsætning"]].replace(",", "."))
        for n, r in by_row.items()
        if n not in f.bad_rows
    ]
    assert revenue == pytest.approx(data.tables["customers"]["revenue"].to_pylist())


def test_export_is_deterministic(tmp_path: Path) -> None:
    data = generate(200, seed=3)
    a = write_exports(data, tmp_path / "a", seed=1)
    b = write_exports(data, tmp_path / "b", seed=1)
    for x, y in zip(a, b, strict=True):
        assert x.bad_rows == y.bad_rows
        if x.path.suffix != ".xlsx":  # workbooks carry a creation time
            assert x.path.read_bytes() == y.path.read_bytes()
