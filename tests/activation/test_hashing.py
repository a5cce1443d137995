"""Identifiers for Meta and Google, against the platforms' documented examples."""

from __future__ import annotations

import hashlib

import pytest

from segmint.activation import _hashing as h


def sha(s: str) -> str:
    return hashlib.sha256(s.encode("utf-8")).hexdigest()


# Meta Marketing API, "Customer information parameters": input -> expected SHA-256
META_EXAMPLES = [
    (h.email, "John_Smith@gmail.com",
     "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f"),
    (h.meta_name, "Mary", "6915771be1c5aa0c886870b6951b03d7eafc121fea0e80a5ea83beb7c449f4ec"),
    (h.meta_name, "정", "8fa8cd9c440be61d0151429310034083132b35975c4bea67fdd74158eb51db14"),
    (h.meta_name, "Valéry", "08e1996b5dd49e62a4b4c010d44e4345592a863bb9f8e3976219bac29417149c"),
]  # fmt: skip


@pytest.mark.parametrize(("normalise", "raw", "expected"), META_EXAMPLES)
def test_meta_documented_examples(normalise, raw: str, expected: str) -> None:  # type: ignore[no-untyped-def]
    assert h.sha256_hex(normalise(raw)) == expected


def test_meta_phone_example_us() -> None:
    # "(650)555-1212", a US number -> 16505551212 -> e323ec62...
    assert h.meta_phone("(650)555-1212", "US") == "16505551212"
    assert (
        h.sha256_hex(h.meta_phone("(650)555-1212", "US"))
        == "e323ec626319ca94ee8bff2e4c87cf613be6ea19919ed1364124e16807ab3176"
    )


def test_meta_row_hashes_every_identifier() -> None:
    row = h.meta_hashes(
        email_=" John_Smith@gmail.com ",
        phone="(650)555-1212",
        first_name="Mary",
        last_name="Smith",
        zip_="94025-1234",
        city="Menlo Park",
        country="US",
    )
    assert row == {
        "email": "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f",
        "phone": "e323ec626319ca94ee8bff2e4c87cf613be6ea19919ed1364124e16807ab3176",
        "fn": "6915771be1c5aa0c886870b6951b03d7eafc121fea0e80a5ea83beb7c449f4ec",
        "ln": sha("smith"),
        "zip": sha("94025"),  # US: the first five digits
        "ct": sha("menlopark"),  # no spaces
        # the documented country example: United States -> us -> 79adb2a2...
        "country": "79adb2a2fce5c6ba215fe5f27f532d4e7edbac4b6a5e09e1ef3a08084a904621",
    }


def test_meta_nordic_values() -> None:
    row = h.meta_hashes(
        email_="Søren@Example.DK", phone="26 12 34 56", first_name="Søren", last_name="Ø. Larsen",
        zip_="DK-8000", city="Århus C", country="DK",
    )  # fmt: skip
    assert row["email"] == sha("søren@example.dk")
    assert row["phone"] == sha("4526123456")  # read in the row's country, no '+'
    assert row["fn"] == sha("søren")
    assert row["ln"] == sha("ølarsen")
    assert row["zip"] == sha("dk8000")
    assert row["ct"] == sha("århusc")
    assert row["country"] == sha("dk")


def test_google_rules() -> None:
    # Google Ads API: email trimmed + lowercased; phone E.164 with '+' (+12125650000 and
    # +442070313000 are its examples); names lowercased and trimmed; country/zip in clear
    row = h.google_hashes(
        email_="  Dana.Smith@Gmail.com ", phone="(212) 565-0000", first_name=" Dana  Marie ",
        last_name="SMITH", zip_=" 8000 ", country="us",
    )  # fmt: skip
    assert row == {
        "Email": sha("dana.smith@gmail.com"),
        "Phone": sha("+12125650000"),
        "First Name": sha("dana marie"),
        "Last Name": sha("smith"),
        "Country": "US",
        "Zip": "8000",
    }
    assert h.e164("020 7031 3000", "GB") == "+442070313000"


def test_missing_and_impossible_values_hash_to_nothing() -> None:
    assert h.sha256_hex(h.email("  ")) is None
    assert h.meta_phone("12", "DK") is None
    assert h.meta_hashes()["email"] is None


def test_the_vectorised_files_apply_the_same_rules() -> None:
    import pyarrow as pa

    from segmint.activation._audiences import hashed_table

    people = [
        (" Søren@Example.DK ", "+4526123456", "Søren", "Ø. Larsen", "DK-8000", "Århus C", "DK"),
        ("John_Smith@gmail.com", "(650)555-1212", " Mary  Ann ", "O'Brien", "94025-1234",
         "Menlo Park", "us"),
        (None, "26 12 34 57", "정", "Valéry", None, None, None),
        ("a@b.se", None, None, None, "123 45", "Göteborg", "SE"),
        (None, None, "Only", None, None, None, "DK"),  # nothing to match on: left out
    ]  # fmt: skip
    names = ["email", "phone", "first_name", "last_name", "postal_code", "city", "country"]
    rows = pa.table({n: [p[i] for p in people] for i, n in enumerate(names)})
    for kind, one in (("meta_audience", h.meta_hashes), ("google_audience", h.google_hashes)):
        got = hashed_table(rows, kind, "DK").to_pylist()
        expected = [
            one(email_=e, phone=ph, first_name=f, last_name=la, zip_=z, city=c, country=cc)
            if kind == "meta_audience"
            else one(email_=e, phone=ph, first_name=f, last_name=la, zip_=z, country=cc)
            for e, ph, f, la, z, c, cc in people[:4]
        ]
        if kind == "google_audience":  # the file's country is the row's, or the default
            expected[2]["Country"] = "DK"
        else:
            expected[2]["country"] = sha("dk")
        assert got == expected, kind
