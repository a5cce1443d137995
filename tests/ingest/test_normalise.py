"""Identifier checks: emails, phones, org and personal numbers, countries, postal codes, NACE."""

from __future__ import annotations

import pyarrow as pa
import pytest
from stdnum.dk import cvr

from segmint.ingest._normalise import (
    NACE_DIVISIONS,
    map_unique,
    normalise_country,
    normalise_email,
    normalise_emails,
    normalise_nace,
    normalise_org_number,
    normalise_personal_number,
    normalise_phone,
    normalise_phones,
    normalise_postal_code,
)


def _cvr(first_seven: str) -> str:
    """A valid CVR: weights 2,7,6,5,4,3,2,1 and a weighted sum divisible by 11."""
    total = sum(w * int(d) for w, d in zip((2, 7, 6, 5, 4, 3, 2), first_seven, strict=True))
    check = -total % 11
    assert check < 10, "no check digit exists for this base; pick another"
    return first_seven + str(check)


VALID_CVR = _cvr("1234567")


def test_computed_cvr_is_valid() -> None:
    assert VALID_CVR == "12345674"
    assert cvr.is_valid(VALID_CVR)


# ------------------------------------------------------------------------------- email

EMAILS = [
    ("Jens.Hansen@Example.DK", "jens.hansen@example.dk"),
    ("  anna+news@mail.co.uk ", "anna+news@mail.co.uk"),
    ("mailto:ole@firma.no", "ole@firma.no"),
    ("kim@blåbær.dk", "kim@blåbær.dk"),
    ("o'neil@example.com", "o'neil@example.com"),
    ("jens@@example.dk", None),
    ("jens@example", None),
    ("jens hansen@example.dk", None),
    ("jens..hansen@example.dk", None),
    (".jens@example.dk", None),
    ("jens.@example.dk", None),
    ("jens@example..dk", None),
    ("jens@example.d", None),
    ("jens@-example.dk", None),
    ("jens@example.12", None),
    ("@example.dk", None),
    ("jens", None),
]


@pytest.mark.parametrize(("raw", "expected"), EMAILS)
def test_normalise_email(raw: str, expected: str | None) -> None:
    assert normalise_email(raw) == expected


def test_normalise_emails_agrees_with_scalar() -> None:
    raws = [raw for raw, _ in EMAILS]
    out, bad = normalise_emails(pa.array([*raws, "", None]))
    expected = [e for _, e in EMAILS]
    assert out.to_pylist() == [*expected, None, None]
    assert bad.to_pylist() == [e is None for e in expected] + [False, False]


# ------------------------------------------------------------------------------- phone


@pytest.mark.parametrize(
    ("raw", "country", "expected"),
    [
        ("20 12 34 56", "DK", "+4520123456"),
        ("+45 20 12 34 56", "DK", "+4520123456"),
        ("004520123456", "SE", "+4520123456"),
        ("4520123456", "DK", "+4520123456"),  # lost its + in a spreadsheet
        ("0046 70 123 45 67", "DK", "+46701234567"),
        ("+46701234567", "DK", "+46701234567"),
        ("070-123 45 67", "SE", "+46701234567"),
        ("412 34 567", "NO", "+4741234567"),
        ("+47 412 34 567", "DK", "+4741234567"),
        ("040 123 4567", "FI", "+358401234567"),
        ("+358 40 123 4567", "DK", "+358401234567"),
        ("20 12 34 56", "Danmark", "+4520123456"),
        ("20 12 34 56", None, "+4520123456"),
        ("12345", "DK", None),
        ("070-123 45 67", "DK", None),
        ("abc", "DK", None),
        ("", "DK", None),
    ],
)
def test_normalise_phone(raw: str, country: str | None, expected: str | None) -> None:
    assert normalise_phone(raw, country) == expected


def test_normalise_phones_once_per_distinct_value() -> None:
    values = ["20 12 34 56", "12345", None, ""] * 250_000
    out, bad = normalise_phones(pa.array(values))
    assert len(out) == 1_000_000
    assert out.to_pylist()[:4] == ["+4520123456", None, None, None]
    assert bad.to_pylist()[:4] == [False, True, False, False]
    assert sum(bad.to_pylist()) == 250_000


def test_map_unique_calls_once_per_distinct_value() -> None:
    calls: list[str] = []

    def shout(value: str) -> str | None:
        calls.append(value)
        if value == "boom":
            raise ValueError(value)
        return value.upper() if value != "bad" else None

    values = pa.chunked_array([["a", "b", " a "], ["bad", None, "b", "boom", ""]])
    out, bad = map_unique(values, shout)
    assert out.to_pylist() == ["A", "B", "A", None, None, "B", None, None]
    assert bad.to_pylist() == [False, False, False, True, False, False, True, False]
    assert sorted(calls) == ["a", "b", "bad", "boom"]


# ------------------------------------------------------------------------- org numbers


@pytest.mark.parametrize(
    ("raw", "country", "expected"),
    [
        (VALID_CVR, "DK", f"DK{VALID_CVR}"),
        ("12 34 56 74", "DK", "DK12345674"),
        ("DK12345674", None, "DK12345674"),
        ("DK-12345674", None, "DK12345674"),
        ("dk 12345674", "SE", "DK12345674"),  # the prefix in the value wins
        ("CVR: 12345674", None, "DK12345674"),
        ("13585628", None, "DK13585628"),  # stdnum's example
        ("12345674", None, "DK12345674"),  # 8 digits: DK first
        ("12345675", "DK", None),
        ("12345675", None, None),
        ("988 077 917", "NO", "NO988077917"),
        ("988077917", None, "NO988077917"),
        ("NO 988 077 917 MVA", None, "NO988077917"),
        ("988077918", "NO", None),
        ("556036-0793", "SE", "SE5560360793"),
        ("5560360793", None, "SE5560360793"),
        ("SE556036079301", None, "SE5560360793"),  # the VAT form
        ("556036-0794", "SE", None),
        ("2077474-0", "FI", "FI20774740"),
        ("FI20774740", None, "FI20774740"),
        ("2077474-1", "FI", None),
        ("2077474-0", None, "FI20774740"),  # not a CVR, so the FI check decides
        ("12345674", "Danmark", "DK12345674"),
        ("DE 136 695 976", None, "DE136695976"),  # other countries: kept, unchecked
        ("XX123", None, None),
        ("12-AB", "DK", None),
        ("", "DK", None),
        (None, "DK", None),
    ],
)
def test_normalise_org_number(raw: str | None, country: str | None, expected: str | None) -> None:
    assert normalise_org_number(raw, country) == expected


# -------------------------------------------------------------------- personal numbers


@pytest.mark.parametrize(
    ("raw", "country", "expected"),
    [
        ("211062-5629", "DK", "2110625629"),
        ("2110625629", "DK", "2110625629"),
        ("511062-5629", "DK", None),  # day 51
        ("880320-0016", "SE", "198803200016"),
        ("19880320-0016", "SE", "198803200016"),
        ("880320-0017", "SE", None),
        ("151086 95088", "NO", "15108695088"),
        ("15108695089", "NO", None),
        ("131052-308T", "FI", "131052-308T"),
        ("131052-308U", "FI", None),
        ("211062-5629", None, "2110625629"),
        ("131052-308t", None, "131052-308T"),
        ("211062-5629", "DE", None),
        ("", "DK", None),
    ],
)
def test_normalise_personal_number(raw: str, country: str | None, expected: str | None) -> None:
    assert normalise_personal_number(raw, country) == expected


# ----------------------------------------------------------------------------- country


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Danmark", "DK"), ("Denmark", "DK"), ("DK", "DK"), ("DNK", "DK"), ("dk", "DK"),
        ("Sverige", "SE"), ("Sweden", "SE"), ("SE", "SE"), ("SWE", "SE"),
        ("Norge", "NO"), ("Norway", "NO"), ("NO", "NO"), ("NOR", "NO"),
        ("Suomi", "FI"), ("Finland", "FI"), ("FI", "FI"), ("FIN", "FI"),
        ("Tyskland", "DE"), ("Deutschland", "DE"), ("Germany", "DE"), ("DE", "DE"),
        ("Island", "IS"), ("Iceland", "IS"),
        ("UK", "GB"), ("GB", "GB"), ("Storbritannien", "GB"), ("United Kingdom", "GB"),
        ("Færøerne", "FO"), ("Grønland", "GL"), ("Holland", "NL"), ("Österreich", "AT"),
        ("  sverige ", "SE"), ("U.S.A.", "US"), ("PL", "PL"), ("JP", "JP"),
        ("ZZ", None), ("Atlantis", None), ("", None), (None, None),
    ],
)  # fmt: skip
def test_normalise_country(raw: str | None, expected: str | None) -> None:
    assert normalise_country(raw) == expected


# ------------------------------------------------------------------------- postal code


@pytest.mark.parametrize(
    ("raw", "country", "expected"),
    [
        ("2100", "DK", "2100"),
        ("DK-2100", "DK", "2100"),
        ("DK-2100", None, "2100"),
        ("DK 2100", "SE", "2100"),  # the prefix decides
        ("21000", "DK", None),
        ("210", "DK", None),
        ("123 45", "SE", "12345"),
        ("12345", "SE", "12345"),
        ("S-123 45", None, "12345"),
        ("1234", "SE", None),
        ("0150", "NO", "0150"),
        ("150", "NO", "0150"),  # a spreadsheet dropped the leading zero
        ("N-0150", None, "0150"),
        ("00100", "FI", "00100"),
        ("100", "FI", "00100"),
        ("FI-00100", None, "00100"),
        ("2100", "Danmark", "2100"),
        ("abcd", "DK", None),
        (" SW1A 1AA ", "GB", "SW1A 1AA"),  # other countries: trimmed, unchecked
        ("12345", None, "12345"),
        ("", "DK", None),
    ],
)
def test_normalise_postal_code(raw: str, country: str | None, expected: str | None) -> None:
    assert normalise_postal_code(raw, country) == expected


# -------------------------------------------------------------------------------- NACE


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("62.01", "62.01"),
        ("6201", "62.01"),
        ("62", "62"),
        ("62.0", "62.0"),
        ("620", "62.0"),
        ("620100", "62.01"),  # DB07
        ("62010", "62.01"),  # SNI 2007
        ("62.010", "62.01"),  # SN2007
        ("62.01.00", "62.01"),
        ("J62.01", "62.01"),
        (" 47.11 ", "47.11"),
        ("01.11", "01.11"),
        ("04", None),
        ("34.10", None),
        ("89", None),
        ("1", None),
        ("6a", None),
        ("", None),
    ],
)
def test_normalise_nace(raw: str, expected: str | None) -> None:
    assert normalise_nace(raw) == expected


def test_nace_division_list() -> None:
    assert len(NACE_DIVISIONS) == 88
    gaps = {f"{d:02d}" for d in range(1, 100)} - NACE_DIVISIONS
    assert gaps == {"04", "34", "40", "44", "48", "54", "57", "67", "76", "83", "89"}
