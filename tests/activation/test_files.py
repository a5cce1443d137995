"""File, CRM and audience destinations: read the written files back and check content."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from openpyxl import load_workbook

from segmint.activation import DestinationConfig, export_segment
from segmint.activation._hashing import sha256_hex
from segmint.exceptions import ConfigError, InputError
from segmint.project import Project

from .conftest import all_granted, customer, load_consents, make_project, run

BIG = {f"C{i:04d}" for i in range(5, 12)}  # employees = 10 * i >= 50


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Project]:
    rows = [customer(i, 10 * i) for i in range(12)]
    rows[6].update(first_name="Søren", last_name="Ærø", city="Århus")
    p = make_project(tmp_path_factory.mktemp("files") / "p", rows)
    load_consents(p, all_granted([r["customer_id"] for r in rows]))
    run(p)
    try:
        yield p
    finally:
        p.close()


def _read(path: str, encoding: str = "utf-8", delimiter: str = ",") -> list[dict[str, str]]:
    with open(path, encoding=encoding, newline="") as f:
        return list(csv.DictReader(f, delimiter=delimiter))


def test_csv_semicolon_cp1252_for_excel(project: Project) -> None:
    d = DestinationConfig(
        name="excel", kind="csv", channels=["email"], delimiter=";", encoding="cp1252"
    )
    report = export_segment(project, "big", d)
    raw = Path(report.location).read_bytes()
    assert "Søren".encode("cp1252") in raw
    rows = _read(report.location, "cp1252", ";")
    assert {r["customer_id"] for r in rows} == BIG
    soren = next(r for r in rows if r["customer_id"] == "C0006")
    assert (soren["first_name"], soren["last_name"], soren["city"]) == ("Søren", "Ærø", "Århus")
    assert soren["email"] == "person6@example.dk"
    assert soren["phone"] == "+4526000600"


def test_csv_utf8_sig_has_a_bom_and_a_column_subset(project: Project) -> None:
    d = DestinationConfig(
        name="bom", kind="csv", channels=["email"], encoding="utf-8-sig",
        columns={"Kundenr": "customer_id", "E-mail": "email"},
    )  # fmt: skip
    report = export_segment(project, "big", d)
    raw = Path(report.location).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = _read(report.location, "utf-8-sig")
    assert list(rows[0]) == ["Kundenr", "E-mail"]
    assert {r["E-mail"] for r in rows} == {f"person{c[1:].lstrip('0')}@example.dk" for c in BIG}


def test_encoding_error_names_row_and_column(tmp_path: Path) -> None:
    from segmint.activation._files import write_csv

    table = pa.table({"customer_id": ["1", "2"], "city": ["Aarhus", "Kraków ✓"]})
    with pytest.raises(InputError, match=r"row 3, column 'city'.*cp1252"):
        write_csv(table, tmp_path / "x.csv", encoding="cp1252")
    assert not (tmp_path / "x.csv").exists()  # nothing half-written


def test_xlsx_and_parquet_read_back(project: Project) -> None:
    x = export_segment(project, "big", DestinationConfig(name="x", kind="xlsx", channels=["email"]))
    ws = load_workbook(x.location, read_only=True).active
    assert ws is not None
    values = list(ws.iter_rows(values_only=True))
    header, body = values[0], values[1:]
    assert {r[header.index("customer_id")] for r in body} == BIG
    assert next(r for r in body if r[0] == "C0006")[header.index("first_name")] == "Søren"
    p = export_segment(
        project, "big", DestinationConfig(name="pq", kind="parquet", channels=["email"])
    )
    t = pq.read_table(p.location)
    assert set(t.column("customer_id").to_pylist()) == BIG
    assert t.column("employees").type == pa.int64()


def test_hubspot_and_salesforce_column_maps(project: Project) -> None:
    hs = export_segment(project, "big", DestinationConfig(name="hs", kind="hubspot_contacts"))
    rows = _read(hs.location)
    assert list(rows[0])[:4] == ["Email", "First Name", "Last Name", "Phone Number"]
    assert "Contact owner" not in rows[0]  # no owners known yet
    soren = next(r for r in rows if r["segmint ID"] == "C0006")
    assert (soren["Email"], soren["First Name"], soren["Country/Region"]) == (
        "person6@example.dk", "Søren", "DK",
    )  # fmt: skip
    sf = export_segment(project, "big", DestinationConfig(name="sf", kind="salesforce_leads"))
    rows = _read(sf.location)
    first = next(r for r in rows if r["segmint ID"] == "C0005")
    assert (first["Last Name"], first["Company"], first["Lead Source"]) == (
        "Efternavn5", "Firma 5 ApS", "segmint",
    )  # fmt: skip


def test_owner_column_from_account_owners(tmp_path: Path) -> None:
    rows = [customer(i, 100) for i in range(4)]
    rows[3]["company_name"] = ""
    p = make_project(tmp_path / "p", rows)
    load_consents(p, all_granted([r["customer_id"] for r in rows]))
    run(p)
    p.engine.write(
        "account_owners", pa.table({"customer_id": ["C0000", "C0001"], "owner": ["anna", "bo"]})
    )
    for kind, column in (("hubspot_contacts", "Contact owner"),
                         ("hubspot_companies", "Company owner"),
                         ("salesforce_leads", "Lead Owner")):  # fmt: skip
        r = export_segment(
            p, "big", DestinationConfig(name=kind.replace("_", "-"), kind=kind, channels=["email"])
        )
        got = {row["segmint ID"]: row[column] for row in _read(r.location)}
        assert got == {"C0000": "anna", "C0001": "bo", "C0002": "", "C0003": ""}, kind
    sf = _read(
        export_segment(p, "big", DestinationConfig(name="sf2", kind="salesforce_leads")).location
    )
    assert next(r for r in sf if r["segmint ID"] == "C0003")["Company"] == "[not provided]"
    mapping = DestinationConfig(
        name="own", kind="crm_mapping", channels=["email"],
        columns={"Id": "customer_id", "Sælger": "owner", "Mail": "email"},
    )  # fmt: skip
    got = _read(export_segment(p, "big", mapping).location)
    assert got[0] == {"Id": "C0000", "Sælger": "anna", "Mail": "person0@example.dk"}
    p.close()


def test_audience_files(project: Project) -> None:
    meta = _read(
        export_segment(
            project, "big", DestinationConfig(name="meta", kind="meta_audience")
        ).location
    )
    assert list(meta[0]) == ["email", "phone", "fn", "ln", "zip", "ct", "country"]
    assert {r["email"] for r in meta} == {
        sha256_hex(f"person{c[1:].lstrip('0')}@example.dk") for c in BIG
    }
    soren = next(r for r in meta if r["email"] == sha256_hex("person6@example.dk"))
    assert soren["phone"] == sha256_hex("4526000600")
    assert soren["fn"] == sha256_hex("søren")
    assert soren["ct"] == sha256_hex("århus")
    assert soren["country"] == sha256_hex("dk")
    google = _read(
        export_segment(project, "big", DestinationConfig(name="g", kind="google_audience")).location
    )
    assert list(google[0]) == ["Email", "Phone", "First Name", "Last Name", "Country", "Zip"]
    soren = next(r for r in google if r["Email"] == sha256_hex("person6@example.dk"))
    assert (soren["Phone"], soren["Country"], soren["Zip"]) == (
        sha256_hex("+4526000600"),
        "DK",
        "8000",
    )
    li = _read(
        export_segment(
            project, "big", DestinationConfig(name="li", kind="linkedin_companies")
        ).location
    )
    assert list(li[0]) == ["companyname", "companywebsite", "companyemaildomain", "companycountry"]
    assert {r["companyname"] for r in li} == {f"Firma {int(c[1:])} ApS" for c in BIG}
    assert {r["companyemaildomain"] for r in li} == {"example.dk"}
    lc = _read(
        export_segment(
            project, "big", DestinationConfig(name="lc", kind="linkedin_contacts")
        ).location
    )
    assert {r["email"] for r in lc} == {f"person{int(c[1:])}@example.dk" for c in BIG}


def test_destination_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="channels"):
        DestinationConfig(name="a", kind="csv")
    with pytest.raises(ValueError, match="url"):
        DestinationConfig(name="a", kind="webhook", channels=["email"])
    with pytest.raises(ValueError, match="columns"):
        DestinationConfig(name="a", kind="crm_mapping", channels=["email"])


def test_unknown_destination_and_segment(project: Project) -> None:
    from segmint.exceptions import SegmentNotFoundError

    with pytest.raises(ConfigError, match="no destination 'nope'"):
        export_segment(project, "big", "nope")
    with pytest.raises(SegmentNotFoundError, match="no segment 'nope'"):
        export_segment(project, "nope", DestinationConfig(name="a", kind="csv", channels=["email"]))


def test_destinations_round_trip_through_segmint_yaml(tmp_path: Path) -> None:
    from segmint.config import ProjectConfig, load_config, save_config

    text = io.StringIO()
    config = ProjectConfig.model_validate(
        {
            "destinations": [
                {"name": "crm", "kind": "hubspot_contacts", "segments": ["big"], "mode": "delta"},
                {
                    "name": "hook",
                    "kind": "webhook",
                    "url": "https://example.org/in",
                    "channels": ["email"],
                },
            ],
            "consent": {"suppression_lists": [{"name": "robinson", "path": "robinson.csv"}]},
        }
    )
    save_config(config, tmp_path / "segmint.yaml")
    assert load_config(tmp_path / "segmint.yaml") == config
    text.write((tmp_path / "segmint.yaml").read_text())
    assert "destinations:" in text.getvalue()
