"""Detection of encodings, separators, number and date formats; vectorised parsing."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import pyarrow as pa
import pytest

from segmint.exceptions import InputError
from segmint.ingest import _sniff as sniff
from segmint.ingest._sniff import (
    DATE_FORMATS,
    detect_date_format,
    detect_delimiter,
    detect_encoding,
    detect_number_format,
    parse_booleans,
    parse_dates,
    parse_numbers,
)

# ---------------------------------------------------------------------------- encoding


def test_cp1252_with_nordic_letters() -> None:
    text = "Kundenr;Navn;By\n1;Søren Ærø;Århus\n2;Åsa Öberg;Malmö\n"
    assert detect_encoding(text.encode("cp1252")) == "cp1252"


def test_short_cp1252_sample() -> None:
    assert detect_encoding("blåbærgrød".encode("cp1252")) == "cp1252"


def test_utf8_bom() -> None:
    assert detect_encoding("\ufeffKundenr;Navn\n1;Søren\n".encode()) == "utf-8-sig"


def test_utf8() -> None:
    assert detect_encoding("Kundenr;Navn\n1;Søren\n".encode()) == "utf-8"


def test_utf8_cut_in_the_middle_of_a_character() -> None:
    sample = "1;Søren Ærø;Århus\n2;Jørgen".encode()
    cut = sample + "ø".encode()[:1]  # the first byte of a two-byte character
    assert detect_encoding(cut) == "utf-8"


def test_ascii_is_utf8() -> None:
    assert detect_encoding(b"a,b\n1,2\n") == "utf-8"


def test_bytes_undefined_in_cp1252_are_latin1() -> None:
    assert detect_encoding(b"abc\x81def") == "latin-1"


# --------------------------------------------------------------------------- delimiter


def test_semicolon_with_quoted_commas() -> None:
    text = 'Kundenr;Beløb;Note\n"1";"1,5";"a,b"\n"2";"2,5";"c,d"\n'
    assert detect_delimiter(text) == ";"


def test_semicolon_with_decimal_commas_unquoted() -> None:
    text = "Kundenr;Beløb\n1;1,5\n2;22,75\n3;100\n"
    assert detect_delimiter(text) == ";"


def test_comma_with_quoted_semicolons() -> None:
    text = 'id,name,note\n1,"Hansen; Jens","x;y"\n2,"Berg; Åsa","z"\n'
    assert detect_delimiter(text) == ","


def test_tab_and_pipe() -> None:
    assert detect_delimiter("a\tb\tc\n1\t2\t3\n") == "\t"
    assert detect_delimiter("a|b\n1|2\n") == "|"


def test_last_line_cut_by_the_sample_is_ignored() -> None:
    text = "a;b;c\n1;2;3\n4;5;6\n7;8"
    assert detect_delimiter(text) == ";"


def test_a_ragged_line_does_not_hide_the_separator() -> None:
    assert detect_delimiter("Kundenummer;Fornavn\n1;Anna\n2;Bo;extra\n") == ";"


def test_the_header_must_split() -> None:
    # every data line has one comma (a decimal comma), the header has none
    assert detect_delimiter("Kundenr;Beløb\n1;1,5\n2;2,5\n") == ";"


def test_one_column_file() -> None:
    assert detect_delimiter("customer_id\n1\n2\n") == ","
    assert detect_delimiter("just one column\nanother line\n") == ","


def test_no_delimiter_fits() -> None:
    with pytest.raises(InputError, match="delimiter"):
        detect_delimiter("a;b\n1,2,3\n4,5,6\n7,8,9\n")


# ----------------------------------------------------------------------------- numbers


@pytest.mark.parametrize(
    ("values", "delimiter", "expected"),
    [
        (["1.234,50", "12,5"], None, (",", ".")),
        (["12,5", "3"], ";", (",", ".")),
        (["1,234.50", "12.5"], None, (".", ",")),
        (["12.5", "3"], ",", (".", "")),
        (["1 234,50", "7,25"], None, (",", " ")),
        (["1.234.567"], None, (",", ".")),
        (["1,234,567"], None, (".", ",")),
        # ambiguous alone: decided by the separator of the file
        (["1.234"], ";", (",", ".")),
        (["1.234"], ",", (".", "")),
        (["1,234"], ";", (",", ".")),
        (["1,234"], "\t", (".", ",")),
        # ambiguous, decided by the other values
        (["1.234", "12,5"], ",", (",", ".")),
        (["1,234", "12.5"], ";", (".", ",")),
        # integers only
        (["12", "3"], ";", (",", ".")),
        (["12", "3"], ",", (".", "")),
        (["-12,50 kr", "DKK 1.000,00", ""], None, (",", ".")),
    ],
)
def test_detect_number_format(
    values: list[str], delimiter: str | None, expected: tuple[str, str]
) -> None:
    assert detect_number_format(values, delimiter) == expected


def _numbers(values: Sequence[str | None], decimal: str, thousands: str) -> list[tuple]:
    parsed, bad = parse_numbers(pa.array(values, pa.string()), decimal, thousands)
    assert parsed.type == pa.float64()
    assert bad.type == pa.bool_()
    return list(zip(parsed.to_pylist(), bad.to_pylist(), strict=True))


def test_parse_decimal_comma() -> None:
    values = ["1.234,50", "-12,5", "1 234,50", "12,3,4", "abc", "", None, "7", "+3", ",5"]
    assert _numbers(values, ",", ".") == [
        (1234.5, False),
        (-12.5, False),
        (1234.5, False),
        (None, True),
        (None, True),
        (None, False),
        (None, False),
        (7.0, False),
        (3.0, False),
        (0.5, False),
    ]


def test_parse_decimal_point() -> None:
    values = ["1,234.50", "-12.5", "12.5.1", "1e3", "1,23"]
    assert _numbers(values, ".", ",") == [
        (1234.5, False),
        (-12.5, False),
        (None, True),
        (1000.0, False),
        (None, True),  # a comma between digits is a thousands separator only before 3
    ]


def test_thousands_only_in_valid_positions() -> None:
    values = ["1.234.567,89", "12.34,5", "1234.567", "1234567,89"]
    assert _numbers(values, ",", ".") == [
        (1234567.89, False),
        (None, True),
        (None, True),
        (1234567.89, False),
    ]


def test_point_is_not_a_decimal_mark_in_a_decimal_comma_file() -> None:
    assert _numbers(["12.5"], ",", ".") == [(None, True)]
    assert _numbers(["12.5"], ",", "") == [(None, True)]


def test_spaces_currencies_and_nbsp() -> None:
    values = [
        " 1\u00a0234,50 kr",
        "kr. 99,95",
        "DKK 1.000",
        "125,-",
        "12 SEK",
        "€ 3,5",
        "1\u202f000 000,5",
        "kr",
        "12 apples",
    ]
    assert _numbers(values, ",", ".") == [
        (1234.5, False),
        (99.95, False),
        (1000.0, False),
        (125.0, False),
        (12.0, False),
        (3.5, False),
        (1000000.5, False),
        (None, True),
        (None, True),
    ]


def test_nan_and_inf_are_not_numbers() -> None:
    assert _numbers(["nan", "inf", "-Infinity"], ".", "") == [(None, True)] * 3


def test_rejects_unknown_decimal_mark() -> None:
    with pytest.raises(ValueError, match="decimal"):
        parse_numbers(pa.array(["1"]), ";", "")


def test_parse_numbers_in_slices_and_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sniff, "_CHUNK_ROWS", 3)  # force several threaded slices
    values = ["1,5", "x", None, "2.000", "kr 3", "", "4", "5,25", "bad", "6"]
    expected = [1.5, None, None, 2000.0, 3.0, None, 4.0, 5.25, None, 6.0]
    expected_bad = [False, True, False, False, False, False, False, False, True, False]
    parsed, bad = parse_numbers(pa.array(values), ",", ".")
    assert isinstance(parsed, pa.Array)
    assert parsed.to_pylist() == expected
    assert bad.to_pylist() == expected_bad
    chunked = pa.chunked_array([values[:4], values[4:]])
    parsed_c, bad_c = parse_numbers(chunked, ",", ".")
    assert isinstance(parsed_c, pa.ChunkedArray)
    assert parsed_c.to_pylist() == expected
    assert bad_c.to_pylist() == expected_bad


def test_parse_numbers_empty_and_dictionary_input() -> None:
    parsed, bad = parse_numbers(pa.array([], pa.string()), ",", ".")
    assert len(parsed) == 0
    assert len(bad) == 0
    parsed, bad = parse_numbers(pa.array(["1,5", "1,5", "x"]).dictionary_encode(), ",", "")
    assert parsed.to_pylist() == [1.5, 1.5, None]
    assert bad.to_pylist() == [False, False, True]


def test_parse_numbers_many_values() -> None:
    n = 300_000
    danish = str.maketrans(",.", ".,")
    numbers = [i * 1001 + (i % 100) / 100 for i in range(n)]
    values = pa.array([f"{x:,.2f}".translate(danish) for x in numbers])
    assert values[12345].as_py() == "12.357.345,45"
    parsed, bad = parse_numbers(values, ",", ".")
    assert not any(bad.to_pylist())
    assert parsed.to_pylist() == pytest.approx(numbers)


# ------------------------------------------------------------------------------- dates


@pytest.mark.parametrize(
    ("value", "fmt"),
    [
        ("31-12-2024", "%d-%m-%Y"),
        ("31.12.2024", "%d.%m.%Y"),
        ("31/12/2024", "%d/%m/%Y"),
        ("2024-12-31", "%Y-%m-%d"),
        ("20241231", "%Y%m%d"),
        ("2024-12-31 14:05:00", "%Y-%m-%d %H:%M:%S"),
        ("2024-12-31T14:05:00", "%Y-%m-%dT%H:%M:%S"),
        ("2024-12-31T14:05:00Z", "%Y-%m-%dT%H:%M:%S"),
        ("2024-12-31T14:05:00.123+01:00", "%Y-%m-%dT%H:%M:%S"),
        ("31-12-2024 14:05", "%d-%m-%Y %H:%M"),
        ("31.12.2024 14:05", "%d.%m.%Y %H:%M"),
        ("31.12.2024 14:05:59", "%d.%m.%Y %H:%M:%S"),
        ("31-12-2024 14:05:59", "%d-%m-%Y %H:%M:%S"),
    ],
)
def test_detect_date_format(value: str, fmt: str) -> None:
    assert detect_date_format([value, "", value]) == fmt


def test_day_first_never_month_first() -> None:
    assert detect_date_format(["01-02-2024", "13-02-2024"]) == "%d-%m-%Y"
    assert detect_date_format(["12-31-2024"]) is None


def test_detect_date_format_most_parsed_wins() -> None:
    assert detect_date_format(["31.12.2024", "01.01.2025", "garbage"]) == "%d.%m.%Y"
    assert detect_date_format(["31-12-1980", "31-02-1985"]) == "%d-%m-%Y"
    assert detect_date_format(["2024-12-31", "31.12.2024", "01.01.2025"]) == "%d.%m.%Y"
    assert detect_date_format(["31.12.2024", "2024-12-31"]) == "%Y-%m-%d"  # tie: first


def test_detect_date_format_nothing() -> None:
    assert detect_date_format([]) is None
    assert detect_date_format(["", None]) is None  # type: ignore[list-item]
    assert detect_date_format(["31-02-2023"]) is None


def test_every_format_is_parsed_by_parse_dates() -> None:
    when = datetime(2024, 12, 31, 14, 5, 59)
    for fmt in DATE_FORMATS:
        text = when.strftime(fmt)
        ts, bad = parse_dates(pa.array([text]), fmt)
        assert not bad[0].as_py(), fmt
        expected = when
        if "%S" not in fmt:
            expected = when.replace(second=0)
        if "%H" not in fmt:
            expected = when.replace(hour=0, minute=0, second=0)
        assert ts[0].as_py() == expected, fmt


def _dates(values: Sequence[str | None], fmt: str) -> list[tuple]:
    ts, bad = parse_dates(pa.array(values, pa.string()), fmt)
    assert ts.type == pa.timestamp("us")
    return list(zip(ts.to_pylist(), bad.to_pylist(), strict=True))


def test_parse_day_first_dates() -> None:
    values = ["31-12-2024", "1-3-2024", "29-02-2024", "31-02-2023", "29-02-2023", "31-04-2024"]
    assert _dates([*values, "", None, "x", "31-12-2024 10:00"], "%d-%m-%Y") == [
        (datetime(2024, 12, 31), False),
        (datetime(2024, 3, 1), False),
        (datetime(2024, 2, 29), False),
        (None, True),
        (None, True),
        (None, True),
        (None, False),
        (None, False),
        (None, True),
        (None, True),
    ]


def test_parse_dotted_dates() -> None:
    assert _dates(["31.12.2024", "30.02.2024", "01.01.1950"], "%d.%m.%Y") == [
        (datetime(2024, 12, 31), False),
        (None, True),
        (datetime(1950, 1, 1), False),
    ]


def test_parse_iso_dates() -> None:
    values = ["2024-12-31", "2023-02-31", "2024-12-31 10:00", " 2024-01-05 "]
    assert _dates(values, "%Y-%m-%d") == [
        (datetime(2024, 12, 31), False),
        (None, True),
        (None, True),  # a time where a date is expected
        (datetime(2024, 1, 5), False),
    ]


def test_parse_iso_datetimes_with_zone_and_fraction() -> None:
    values = [
        "2024-12-31T14:05:00Z",
        "2024-12-31T14:05:00.5+01:00",
        "2024-12-31 14:05",
        "2024-03-04T00:30:00+01:00",
        "2024-12-31T14:05:00.123456789-02:30",
        "2024-12-31T14:05:00+0100",
        "2024-12-31",
        "2023-02-31T10:00:00",
        "2024-12-31T25:00:00",
        "2024-2-30T10:00:00",
        "2024-2-29T10:00:00",
        "2024-02-30T10:00:00.5Z",
    ]
    assert _dates(values, "%Y-%m-%dT%H:%M:%S") == [
        (datetime(2024, 12, 31, 14, 5), False),
        (datetime(2024, 12, 31, 13, 5, 0, 500000), False),
        (datetime(2024, 12, 31, 14, 5), False),
        (datetime(2024, 3, 3, 23, 30), False),  # the day check runs before the UTC shift
        (datetime(2024, 12, 31, 16, 35, 0, 123456), False),
        (datetime(2024, 12, 31, 13, 5), False),
        (datetime(2024, 12, 31), False),
        (None, True),
        (None, True),
        (None, True),
        (datetime(2024, 2, 29, 10), False),
        (None, True),
    ]


def test_parse_iso_datetimes_with_space() -> None:
    values = ["2024-12-31 14:05:00", "2024-12-31T14:05:00", "2023-02-29 00:00:00", "x"]
    assert _dates(values, "%Y-%m-%d %H:%M:%S") == [
        (datetime(2024, 12, 31, 14, 5), False),
        (datetime(2024, 12, 31, 14, 5), False),
        (None, True),
        (None, True),
    ]


def test_parse_compact_dates() -> None:
    assert _dates(["20241231", "2024121", "20230231"], "%Y%m%d") == [
        (datetime(2024, 12, 31), False),
        (None, True),
        (None, True),
    ]


def test_parse_dates_other_unit() -> None:
    ts, bad = parse_dates(pa.array(["2024-12-31T14:05:00.123456Z"]), "%Y-%m-%dT%H:%M:%S", "ms")
    assert bad.to_pylist() == [False]
    assert ts.type == pa.timestamp("ms")
    assert ts[0].as_py() == datetime(2024, 12, 31, 14, 5, 0, 123000)
    with pytest.raises(ValueError, match="unit"):
        parse_dates(pa.array(["2024-12-31"]), "%Y-%m-%d", "days")


# ---------------------------------------------------------------------------- booleans


def test_parse_booleans() -> None:
    values = ["Ja", "NEJ", " x ", "sant", "falsk", "1", "0", "yes", "No", "nei", "j", "n",
              "y", "sand", "TRUE", "false", "maybe", "", None]  # fmt: skip
    parsed, bad = parse_booleans(pa.array(values))
    assert parsed.to_pylist() == [
        True, False, True, True, False, True, False, True, False, False, True, False,
        True, True, True, False, None, None, None,
    ]  # fmt: skip
    assert bad.to_pylist() == [False] * 16 + [True, False, False]
