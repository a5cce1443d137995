"""Column mapping: Nordic and system headers to fields, overrides, conflicts, docs in sync."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from segmint.datamodel import ENTITIES, entity, external_entity
from segmint.exceptions import InputError
from segmint.ingest import _mapping
from segmint.ingest._mapping import (
    ColumnMapping,
    map_columns,
    normalise_header,
    safe_column_name,
    synonym_markdown,
    synonym_table,
)

DOC = Path(__file__).resolve().parents[2] / "docs" / "loading.md"


def _expand(entity_name: str, spec: dict[str, str]) -> list[tuple[str, str, str]]:
    return [
        (entity_name, header.strip(), field)
        for field, headers in spec.items()
        for header in headers.split("/")
    ]


_CUSTOMER_NO = "Kundenummer/Kundnummer/Kundenr/Kunde-id/Kund-ID/customer_id/Customer ID/CustomerNo"
_NAMES = {"first_name": "Fornavn/Förnamn/first_name", "last_name": "Efternavn/Efternamn/Etternavn"}
_CONTACT = {"email": "E-mail/Email/E-post/Epost/Mail", "phone": "Telefon/Mobil/Tlf/phone"}

KNOWN = [
    *_expand(
        "customers",
        {
            "customer_id": _CUSTOMER_NO,
            "first_name": "Fornavn/Förnamn/first_name",
            "last_name": "Efternavn/Efternamn/Etternavn/last_name",
            "email": "E-mail/Email/E-post/Epost/Mail",
            "phone": "Telefon/Mobil/Tlf/Mobilnummer/phone",
            "birth_date": "Fødselsdato/Födelsedatum/birth_date",
            "gender": "Køn/Kön/Kjønn/gender",
            "address": "Adresse/Adress/address",
            "postal_code": "Postnummer/Postnr/zip/postal_code",
            "city": "By/Ort/Poststed/city",
            "region": "Region/Län/Fylke",
            "country": "Land/Country",
            "household_id": "Husstand/Hushåll/Husholdning",
            "signup_date": (
                "Oprettet/Oprettelsesdato/Kunde siden/Skapad/Registrert/signup_date/created_at"
            ),
            "company_name": "Virksomhed/Firma/Företag/Bedrift/company/company_name",
            "org_number": (
                "CVR/CVR-nummer/Orgnr/Organisationsnummer/Organisasjonsnummer/Org.nr/org_number/VAT"
            ),
            "personal_number": "CPR/Personnummer/Fødselsnummer",
            "nace_code": "Branchekode/Bransch/SNI/NACE/Næringskode/industry",
            "employees": (
                "Antal ansatte/Ansatte/Antal anställda/Anställda/Antall ansatte/employees"
            ),
            "revenue": "Omsætning/Omsättning/Omsetning/revenue",
            "owner": "Sælger/Säljare/Selger/Ansvarlig/Kundeansvarlig/owner",
            "customer_type": "Kundetype/Kundtyp/customer_type",
        },
    ),
    *_expand(
        "contacts",
        {
            "contact_id": "Kontakt-id/Kontaktnummer/contact_id",
            "company_id": "Kundenummer/Firma-id/company_id/Kundnummer/customer_id",
            "title": "Titel/Stilling/Befattning/title",
            "department": "Afdeling/Avdelning/Avdeling/department",
            **_NAMES,
            **_CONTACT,
        },
    ),
    *_expand(
        "transactions",
        {
            "order_id": "Ordrenummer/Ordrenr/Ordernummer/order_id/Fakturanummer",
            "line_no": "Linje/Linjenr/Rad/line_no",
            "customer_id": _CUSTOMER_NO,
            "order_date": "Dato/Datum/Ordredato/Orderdatum/order_date/date",
            "product_id": "Varenummer/Artikelnummer/Varenr/SKU/product_id",
            "product_name": "Varenavn/Produkt/Artikel/product_name",
            "category": "Kategori/Varegruppe/Varugrupp/category",
            "quantity": "Antal/Antall/Mængde/Kvantitet/quantity/qty",
            "amount": ("Beløb/Belopp/Beløp/Belopp inkl moms/Beløb inkl. moms/Pris/Total/amount"),
            "currency": "Valuta/currency",
            "channel": "Kanal/channel",
            "store_id": "Butik/Butikk/store/store_id",
        },
    ),
    *_expand(
        "events",
        {
            "customer_id": _CUSTOMER_NO,
            "event_type": "Händelse/Hændelse/Hendelse/Type/event_type",
            "event_time": "Tidpunkt/Tidspunkt/Tid/event_time/timestamp",
            "campaign_id": "Kampanj/Kampagne/Kampanje/campaign_id",
            "device": "Enhet/Enhed/device",
            "source": "Källa/Kilde/source/utm_source",
            "url": "URL/Side/Sida/page",
            "channel": "Kanal",
            "event_id": "event_id",
        },
    ),
    *_expand(
        "consents",
        {
            "customer_id": "Kundenummer",
            "channel": "Kanal",
            "granted": "Samtykke/Samtykke givet/Samtycke/Godkänt/consent/granted",
            "consent_time": "Tidspunkt/Tidpunkt/Dato",
            "source": "Kilde/Källa",
        },
    ),
    *_expand(
        "survey_responses",
        {
            "customer_id": "Kundenummer",
            "response_date": "Dato/Datum/Svardato",
            "nps": "NPS/Anbefaling",
            "survey_id": "Undersøgelse/Survey",
            "response_id": "response_id",
        },
    ),
    *_expand(
        "subscriptions",
        {
            "subscription_id": "subscription_id/Abonnement-id",
            "customer_id": "Kundenummer",
            "product": "Abonnement/Abonnemang",
            "start_date": "Startdato/Startdatum",
            "end_date": "Slutdato/Slutdatum",
            "status": "Status",
            "monthly_amount": "Månedsbeløb/Månadsbelopp",
        },
    ),
    *_expand(
        "campaigns",
        {
            "campaign_id": "Kampagne-id/campaign_id",
            "name": "Navn/Namn",
            "start_date": "Startdato",
            "end_date": "Slutdato",
        },
    ),
    *_expand(
        "campaign_contacts",
        {
            "campaign_id": "Kampagne-id",
            "customer_id": "Kundenummer",
            "arm": "Gruppe/Grupp/arm",
            "responded": "Svarede/Svarade/Responded",
        },
    ),
    *_expand(
        "deals",
        {
            "deal_id": "Salgsmulighed/Affär/deal_id",
            "customer_id": "Kundnummer",
            "stage": "Fase/Stadie/stage",
            "created_date": "Oprettet/created_date",
        },
    ),
]


@pytest.mark.parametrize(("entity_name", "header", "field"), KNOWN)
def test_known_header(entity_name: str, header: str, field: str) -> None:
    mapping = map_columns([header], ENTITIES[entity_name])
    assert mapping.fields == {header: field}
    assert mapping.extra == []


def test_headers_match_whatever_their_case_and_punctuation() -> None:
    for header in ("KUNDE NR.", "kunde_nr", " Kunde-Nr ", "kunde/nr"):
        assert map_columns([header], entity("customers")).fields == {header: "customer_id"}
    assert normalise_header("Beløb inkl. moms") == "beloebinklmoms"
    assert normalise_header("Förnamn") == "foernamn"
    assert normalise_header("Hushåll") == "hushaall"
    assert normalise_header("Café_Kode") == "cafekode"


def test_context_decides_what_kundenummer_means() -> None:
    assert map_columns(["Kundenummer"], entity("contacts")).fields == {"Kundenummer": "company_id"}
    assert map_columns(["Kundenummer"], entity("customers")).fields == {
        "Kundenummer": "customer_id"
    }
    assert map_columns(["Dato"], entity("transactions")).fields == {"Dato": "order_date"}
    assert map_columns(["Dato"], entity("consents")).fields == {"Dato": "consent_time"}


def test_a_whole_danish_customer_file() -> None:
    headers = ["Kundenr.", "Fornavn", "Efternavn", "E-mail", "Tlf.", "Postnr.", "By",
               "Oprettet", "Sidste køb (dato)", "Nyhedsbrev"]  # fmt: skip
    mapping = map_columns(headers, entity("customers"))
    assert mapping == ColumnMapping(
        fields={
            "Kundenr.": "customer_id",
            "Fornavn": "first_name",
            "Efternavn": "last_name",
            "E-mail": "email",
            "Tlf.": "phone",
            "Postnr.": "postal_code",
            "By": "city",
            "Oprettet": "signup_date",
        },
        extra=["Sidste køb (dato)", "Nyhedsbrev"],
        extra_names={"Sidste køb (dato)": "sidste_koeb_dato", "Nyhedsbrev": "nyhedsbrev"},
        missing_required=[],
        conflicts={},
    )
    assert mapping.columns["customer_id"] == "Kundenr."


def test_missing_required() -> None:
    mapping = map_columns(["Dato", "Beløb"], entity("transactions"))
    assert mapping.missing_required == ["order_id", "customer_id"]


def test_first_of_two_headers_wins_and_the_other_is_extra() -> None:
    mapping = map_columns(["E-mail", "Id", "E-post", "email"], entity("customers"))
    assert mapping.fields == {"E-mail": "email"}
    assert mapping.extra == ["Id", "E-post", "email"]
    assert mapping.conflicts == {"E-post": "email", "email": "email"}
    # stored names never collide with a field or with each other
    assert mapping.extra_names == {"Id": "id", "E-post": "e_post", "email": "email_2"}


def test_exact_synonyms_beat_fuzzy_matches() -> None:
    mapping = map_columns(["Kundenumer", "Kundenummer"], entity("customers"))
    assert mapping.fields == {"Kundenummer": "customer_id"}
    assert mapping.conflicts == {"Kundenumer": "customer_id"}


def test_fuzzy_match() -> None:
    mapping = map_columns(["Kundenumer", "Efternavnn", "Postnumer"], entity("customers"))
    assert mapping.fields == {
        "Kundenumer": "customer_id",
        "Efternavnn": "last_name",
        "Postnumer": "postal_code",
    }


def test_short_or_distant_headers_do_not_fuzzy_match() -> None:
    mapping = map_columns(["Byy", "Kundegruppe", "Fornavn2x"], entity("customers"))
    assert mapping.fields == {}


def test_override_wins() -> None:
    mapping = map_columns(
        ["Kunde ref", "Kundenummer", "Segment"],
        entity("customers"),
        {"Kunde ref": "customer_id", "Segment": "customer_type"},
    )
    assert mapping.fields == {
        "Kunde ref": "customer_id",
        "Segment": "customer_type",
    }
    assert mapping.extra == ["Kundenummer"]
    assert mapping.conflicts == {"Kundenummer": "customer_id"}


def test_override_finds_the_column_by_its_normalised_header() -> None:
    mapping = map_columns(["Kunde Ref"], entity("customers"), {"kunde_ref": "customer_id"})
    assert mapping.fields == {"Kunde Ref": "customer_id"}


def test_override_of_an_unknown_field_suggests_one() -> None:
    with pytest.raises(InputError, match=r"did you mean 'customer_id'\?"):
        map_columns(["Nr"], entity("customers"), {"Nr": "customerid"})
    with pytest.raises(InputError, match=r"did you mean 'customer_id'\?"):
        map_columns(["Nr"], entity("customers"), {"Nr": "Kundenummer"})
    with pytest.raises(InputError, match="does not have") as err:
        map_columns(["Nr"], entity("customers"), {"Nr": "zzz"})
    assert "did you mean" not in str(err.value)
    assert "customer_id, customer_type" in str(err.value)


def test_override_of_a_missing_column_lists_the_columns() -> None:
    with pytest.raises(InputError, match="'Nr', 'Navn'") as err:
        map_columns(["Nr", "Navn"], entity("customers"), {"Kunde": "customer_id"})
    assert err.value.column == "Kunde"


def test_two_overrides_for_one_field() -> None:
    with pytest.raises(InputError, match="two columns"):
        map_columns(["A", "B"], entity("customers"), {"A": "email", "B": "email"})


def test_external_table_maps_its_key_and_keeps_the_rest() -> None:
    postal = external_entity("postal_areas", ("postal_code",))
    mapping = map_columns(["postal_code", "Antal Husstande", "Indkomst"], postal)
    assert mapping.fields == {"postal_code": "postal_code"}
    assert mapping.extra_names == {"Antal Husstande": "antal_husstande", "Indkomst": "indkomst"}
    assert map_columns(["Postnr"], postal).missing_required == ["postal_code"]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Sidste køb (dato)", "sidste_koeb_dato"),
        ("CamelCaseHeader", "camel_case_header"),
        ("2024 salg", "col_2024_salg"),
        ("  Antal / år ", "antal_aar"),
        ("Größe", "grosse"),
        ("___", "column"),
        ("_row", "row"),
    ],
)
def test_safe_column_name(header: str, expected: str) -> None:
    assert safe_column_name(header) == expected


# -------------------------------------------------------------------------- the table


def test_every_field_of_every_entity_is_in_the_table_under_its_own_name() -> None:
    table = synonym_table()
    assert set(table) == set(ENTITIES)
    for name, ent in ENTITIES.items():
        assert list(table[name]) == list(ent.field_names)
        for f in ent.fields:
            assert table[name][f.name][0] == f.name
            assert map_columns([f.name], ent).fields == {f.name: f.name}


def test_the_hand_written_table_names_only_real_fields() -> None:
    for name, fields in _mapping.SYNONYMS.items():
        assert name in ENTITIES
        unknown = set(fields) - set(ENTITIES[name].field_names)
        assert not unknown, f"{name}: {unknown}"


def test_no_header_means_two_fields_in_one_table() -> None:
    for name, fields in synonym_table().items():
        owner: dict[str, str] = {}
        for field, headers in fields.items():
            for header in headers:
                key = normalise_header(header)
                assert owner.setdefault(key, field) == field, (name, header)


def test_synonym_table_is_a_copy() -> None:
    synonym_table()["customers"]["email"].append("Brevdue")
    assert "Brevdue" not in synonym_table()["customers"]["email"]


def test_docs_list_every_synonym() -> None:
    doc = DOC.read_text(encoding="utf-8")
    m = re.search(r"<!-- synonyms:start -->\n(.*?)<!-- synonyms:end -->", doc, re.S)
    assert m, "docs/loading.md lost its synonyms markers"
    assert m.group(1) == synonym_markdown(), (
        "docs/loading.md is out of date: paste segmint.ingest._mapping.synonym_markdown() "
        "between the synonyms markers"
    )
    for fields in synonym_table().values():
        for headers in fields.values():
            for header in headers:
                assert header in m.group(1)
