"""Detect how a text export is written, and parse its values the way it was written.

Nordic exports come in one of three encodings (UTF-8, with or without a byte-order mark,
and Windows-1252), use ``;`` or ``,`` or tab as separator, write numbers with a decimal
comma and ``.`` or space as thousands separator, and write dates day-first.  The checks
here are hand-written because the general tools get exactly these cases wrong: a
statistical charset detector misjudges a short cp1252 sample with a few ``æøå`` (it has
too little text to go on), and :class:`csv.Sniffer` picks ``,`` for ``"1,5";"a,b"``.
Knowing that the answer is one of a handful of options, we try each option and keep the
one that fits the whole sample.

Parsing is vectorised with :mod:`pyarrow.compute` (RE2 regular expressions,
``strptime``), so a column of millions of values never meets a Python loop.  Every
``parse_*`` function returns the parsed values and a ``bad`` mask of the same length:
empty input gives null and is not bad; input that cannot be parsed gives null and is bad,
so validation can quarantine exactly those rows.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import pyarrow as pa
import pyarrow.compute as pc

from segmint.exceptions import InputError

__all__ = [
    "DATE_FORMATS",
    "DELIMITERS",
    "detect_date_format",
    "detect_delimiter",
    "detect_encoding",
    "detect_number_format",
    "parse_booleans",
    "parse_dates",
    "parse_numbers",
]

#: Field separators tried, in order of preference when several fit equally well: tab,
#: ``;`` and ``|`` rarely occur inside values, a comma often does (decimal commas).
DELIMITERS: tuple[str, ...] = ("\t", ";", "|", ",")

#: Candidate date formats, first match wins.  Day-first only: Nordic data never writes
#: the month first.  The two ISO datetime formats also accept fractional seconds, a
#: missing seconds part, and a ``Z`` or ``+01:00`` offset (converted to UTC).
DATE_FORMATS: tuple[str, ...] = (
    "%Y-%m-%d",
    "%d-%m-%Y",
    "%d.%m.%Y",
    "%d/%m/%Y",
    "%Y%m%d",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%d-%m-%Y %H:%M",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y %H:%M:%S",
    "%d-%m-%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
)
_ISO_DATETIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S")

_UNITS_PER_SECOND = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}
_SPACES = " \t\u00a0\u202f"  # space, tab, non-breaking space, narrow no-break space
_SAMPLE_LINES = 50


# --------------------------------------------------------------------------- encoding


def detect_encoding(sample: bytes) -> str:
    """The encoding of the first bytes of a file: utf-8-sig, utf-8, cp1252 or latin-1.

    A sample cut in the middle of a multi-byte UTF-8 character still counts as UTF-8.
    """
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        # final=False: an incomplete character at the very end is waited for, not an error
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        sample.decode("cp1252")
        return "cp1252"
    except UnicodeDecodeError:  # 0x81, 0x8D, 0x8F, 0x90, 0x9D are undefined in cp1252
        return "latin-1"


# -------------------------------------------------------------------------- delimiter


def detect_delimiter(text: str) -> str:
    """The field separator of CSV text.

    The first ~50 records are parsed with :mod:`csv` once per candidate, so quoted
    fields holding another candidate (``"1,5";"a,b"``) do not mislead it.  A candidate
    must split the header into more than one column; the one whose column count is the
    header's on the most lines wins (a ragged line is a bad row, quarantined later), and
    on a tie the order of :data:`DELIMITERS` decides.  A last line cut off by the sample
    is ignored.  A header no candidate splits is a one-column file: ``","`` is returned.

    Raises
    ------
    InputError
        The header splits, but into columns that most lines do not agree with.
    """
    lines = text.splitlines(keepends=True)[: _SAMPLE_LINES + 1]
    if len(lines) > 1 and not lines[-1].endswith(("\n", "\r")):
        lines = lines[:-1]  # most likely cut off by the sample size
    sample = "".join(lines[:_SAMPLE_LINES])
    best: tuple[float, int, str] | None = None
    header_splits = False
    for rank, delimiter in enumerate(DELIMITERS):
        try:
            rows = [r for r in csv.reader(io.StringIO(sample), delimiter=delimiter) if r]
        except csv.Error:
            continue
        if not rows or len(rows[0]) < 2:
            continue
        header_splits = True
        share = sum(len(r) == len(rows[0]) for r in rows) / len(rows)
        if share < 0.5:
            continue
        score = (share, -rank, delimiter)
        if best is None or score > best:
            best = score
    if best is None and not header_splits:
        return ","  # one column: there is nothing to separate
    if best is None:
        raise InputError(
            "cannot tell the field separator: none of ';', ',', tab or '|' splits the "
            "header into columns that the next lines agree with; set 'delimiter' in the "
            "source's options in segmint.yaml (or --delimiter)"
        )
    return best[2]


# ---------------------------------------------------------------------------- numbers

_CURRENCIES = r"kr\.?|dkk|sek|nok|eur|usd|gbp|isk|€|\$|£"
#: a currency before or after a (lower-cased) number: "kr 12", "12 kr.", "dkk 12", "125,-"
_CURRENCY_PREFIX = rf"^(?:{_CURRENCIES})[{_SPACES}]*"
_CURRENCY_SUFFIX = rf"[{_SPACES}]*(?:{_CURRENCIES}|,-|\.-)$"
_NUMBER_SHAPE = re.compile(r"^[-+]?[\d.,\s]*\d[\d.,\s]*$")


def _strip_number_py(value: str) -> str:
    value = value.strip(_SPACES).lower()
    return re.sub(_CURRENCY_SUFFIX, "", re.sub(_CURRENCY_PREFIX, "", value))


def detect_number_format(values: Sequence[str], delimiter: str | None = None) -> tuple[str, str]:
    """The (decimal mark, thousands separator) that a sample of numbers is written with.

    ``1.234,50`` and ``12,5`` give ``(",", ".")``, ``1,234.50`` gives ``(".", ",")``,
    ``12.5`` gives ``(".", "")``, ``1 234,50`` gives ``(",", " ")``.  A value that reads
    both ways (``1.234``) is decided by the other values; when none decides, a
    ``;``-separated file is taken to use decimal commas (and ``.`` between thousands, the
    Danish and Norwegian habit), any other file decimal points.
    """
    decimal_votes: Counter[str] = Counter()
    thousands_seen: Counter[str] = Counter()
    for raw in values:
        if raw is None:
            continue
        value = _strip_number_py(str(raw))
        if not _NUMBER_SHAPE.match(value):
            continue
        if re.search(rf"\d[{_SPACES}]\d{{3}}(?!\d)", value):
            thousands_seen[" "] += 1
        value = re.sub(f"[{_SPACES}]", "", value)
        commas, dots = value.count(","), value.count(".")
        if commas and dots:  # 1.234,50 / 1,234.50: the last mark is the decimal mark
            decimal = "," if value.rfind(",") > value.rfind(".") else "."
            decimal_votes[decimal] += 1
            thousands_seen[_other(decimal)] += 1
        elif commas + dots > 1:  # 1.234.567: only a thousands separator repeats
            mark = "," if commas else "."
            thousands_seen[mark] += 1
            decimal_votes[_other(mark)] += 1
        elif commas or dots:
            mark = "," if commas else "."
            if re.fullmatch(rf"[-+]?\d{{1,3}}\{mark}\d{{3}}", value):
                thousands_seen[mark] += 1  # ambiguous: counts only if the other mark wins
            else:
                decimal_votes[mark] += 1
    if decimal_votes:
        decimal = "," if decimal_votes[","] >= decimal_votes["."] else "."
    else:
        decimal = "," if delimiter == ";" else "."
    if thousands_seen[_other(decimal)]:
        thousands = _other(decimal)
    elif thousands_seen[" "]:
        thousands = " "
    else:
        thousands = "." if decimal == "," else ""
    return decimal, thousands


def _other(mark: str) -> str:
    return "." if mark == "," else ","


def _number_pattern(decimal: str, thousands: str, *, spaces: bool) -> str:
    groups = re.escape(thousands) if thousands and thousands not in (decimal, " ") else ""
    if spaces:
        groups += _SPACES
    integer = rf"(?:\d{{1,3}}(?:[{groups}]\d{{3}})+|\d+)" if groups else r"\d+"
    dec = re.escape(decimal)
    return rf"^[-+]?(?:{integer}(?:{dec}\d*)?|{dec}\d+)(?:[eE][-+]?\d+)?$"


def parse_numbers(
    arr: pa.Array | pa.ChunkedArray, decimal: str, thousands: str
) -> tuple[pa.Array | pa.ChunkedArray, pa.Array | pa.ChunkedArray]:
    """Parse a string column into float64 with the given decimal mark and thousands separator.

    Spaces (also non-breaking ones) around the value and between digit groups are
    ignored, and so is a currency code or ``kr``/``,-`` before or after it.  A thousands
    separator counts only between groups of three digits: ``12,3,4`` is bad.

    Returns
    -------
    (values, bad)
        float64 values (null where empty or bad) and a boolean mask of unparsable input.
    """
    if decimal not in (",", "."):
        raise ValueError(f"decimal mark must be ',' or '.', not {decimal!r}")
    return _map_chunks(_as_strings(arr), lambda s: _parse_number_chunk(s, decimal, thousands))


def _parse_number_chunk(s: pa.Array, decimal: str, thousands: str) -> tuple[pa.Array, pa.Array]:
    # Fast path for plain numbers; the few values with spaces inside or a currency go
    # through a second, slower pass (their subset only).
    s = pc.utf8_trim_whitespace(s)
    empty = _is_empty(s)
    ok = pc.fill_null(
        pc.match_substring_regex(s, pattern=_number_pattern(decimal, thousands, spaces=False)),
        False,
    )
    values = _to_float(s, ok, decimal, thousands)
    retry = pc.and_(pc.invert(ok), pc.invert(empty))
    if pc.any(retry).as_py():
        sub = pc.filter(s, retry)
        # lower-cased first: a case-insensitive RE2 pattern is several times slower
        sub = pc.utf8_lower(sub)
        sub = pc.replace_substring_regex(sub, pattern=_CURRENCY_PREFIX, replacement="")
        sub = pc.replace_substring_regex(sub, pattern=_CURRENCY_SUFFIX, replacement="")
        pattern = _number_pattern(decimal, thousands, spaces=True)
        sub_ok = pc.fill_null(pc.match_substring_regex(sub, pattern=pattern), False)
        sub = pc.replace_substring_regex(sub, pattern=f"[{_SPACES}]", replacement="")
        values = pc.replace_with_mask(values, retry, _to_float(sub, sub_ok, decimal, thousands))
        ok = pc.replace_with_mask(ok, retry, sub_ok)
    bad = pc.and_(pc.invert(ok), pc.invert(empty))
    return values, bad


def _to_float(s: pa.Array, ok: pa.Array, decimal: str, thousands: str) -> pa.Array:
    """float64 of strings already checked (``ok``) to be numbers in this format."""
    if thousands and thousands not in (decimal, " "):
        s = pc.replace_substring(s, pattern=thousands, replacement="")
    if decimal == ",":
        s = pc.replace_substring(s, pattern=",", replacement=".")
    return pc.cast(pc.if_else(ok, s, pa.scalar(None, s.type)), pa.float64())


# ------------------------------------------------------------------------------ dates

_ISO_RE = (
    r"^(?P<date>\d{4}-\d{1,2}-\d{1,2})"
    r"(?:[T ](?P<time>\d{1,2}:\d{2}(?::\d{2})?)(?:[.,](?P<frac>\d{1,9}))?"
    r"(?P<tz>Z|[+-]\d{2}(?::?\d{2})?)?)?$"
)
_ISO_PY = re.compile(_ISO_RE)


def _parse_date_py(value: str, fmt: str) -> datetime | None:
    """Python twin of :func:`parse_dates` for one value, used on samples only."""
    if fmt in _ISO_DATETIME_FORMATS:
        m = _ISO_PY.match(value)
        if m is None:
            return None
        if m["time"] is not None and value[len(m["date"])] != fmt[8]:
            return None  # "T" and " " tell the two ISO formats apart
        time = m["time"] or "00:00:00"
        time = time if time.count(":") == 2 else time + ":00"
        value, fmt = f"{m['date']} {time}", "%Y-%m-%d %H:%M:%S"
    elif fmt == "%Y%m%d" and not (len(value) == 8 and value.isdigit()):
        return None
    try:
        return datetime.strptime(value, fmt)
    except ValueError:
        return None


def detect_date_format(values: Sequence[str]) -> str | None:
    """The first format of :data:`DATE_FORMATS` that parses the sample, or None.

    When no format parses every non-empty value, the one parsing the most wins (the
    earlier one on a tie): the values it cannot parse are quarantined later as bad dates.
    None when no format parses any value.
    """
    sample = [str(v).strip(_SPACES) for v in values if v is not None and str(v).strip()]
    if not sample:
        return None
    best: tuple[int, str] | None = None
    for fmt in DATE_FORMATS:
        parsed = sum(_parse_date_py(v, fmt) is not None for v in sample)
        if parsed == len(sample):
            return fmt
        if best is None or parsed > best[0]:
            best = (parsed, fmt)
    return best[1] if best is not None and best[0] > 0 else None


def parse_dates(
    arr: pa.Array | pa.ChunkedArray, fmt: str, unit: str = "us"
) -> tuple[pa.Array | pa.ChunkedArray, pa.Array | pa.ChunkedArray]:
    """Parse a string column written in ``fmt`` into timestamps (no time zone).

    Impossible calendar dates (``31-02-2023``) are bad, not rolled over.  With one of the
    ISO datetime formats, ``T`` or space, fractional seconds, missing seconds, a bare
    date and a ``Z``/``+01:00`` offset are all accepted; values with an offset are
    converted to UTC.

    Returns
    -------
    (timestamps, bad)
        ``timestamp[unit]`` values (null where empty or bad) and the bad mask.
    """
    if unit not in _UNITS_PER_SECOND:
        raise ValueError(f"unit must be one of s, ms, us, ns, not {unit!r}")
    return _map_chunks(_as_strings(arr), lambda s: _parse_date_chunk(s, fmt, unit))


def _parse_date_chunk(s: pa.Array, fmt: str, unit: str) -> tuple[pa.Array, pa.Array]:
    s = pc.utf8_trim_whitespace(s)
    empty = _is_empty(s)
    if fmt in _ISO_DATETIME_FORMATS:
        # most values are written exactly in the format; the rest (fractions, zones, a
        # missing seconds part, T for space) take the slower regex route, their subset only
        ts = pc.strptime(s, format=fmt, unit=unit, error_is_null=True)
        ts = _null_rolled_over(ts, s, fmt)
        retry = pc.and_(pc.is_null(ts), pc.invert(empty))
        if pc.any(retry).as_py():
            ts = pc.replace_with_mask(ts, retry, _parse_iso(pc.filter(s, retry), unit))
    else:
        if fmt == "%Y%m%d":  # strptime would take 2024121 as 2024-12-01
            s = pc.if_else(pc.equal(pc.utf8_length(s), 8), s, pa.scalar(None, s.type))
        ts = pc.strptime(s, format=fmt, unit=unit, error_is_null=True)
        ts = _null_rolled_over(ts, s, fmt)
    bad = pc.and_(pc.is_null(ts), pc.invert(empty))
    return ts, bad


def _day_regex(fmt: str) -> str:
    """A regex capturing the day of month of a string written in ``fmt``."""
    if fmt == "%Y%m%d":
        return r"^\d{6}(?P<d>\d{2})$"
    out = []
    i = 0
    while i < len(fmt):
        if fmt[i] == "%" and i + 1 < len(fmt):
            directive = fmt[i + 1]
            out.append({"d": r"(?P<d>\d{1,2})", "Y": r"\d{4}"}.get(directive, r"\d{1,2}"))
            i += 2
        else:
            out.append(re.escape(fmt[i]))
            i += 1
    return "^" + "".join(out) + "$"


def _null_rolled_over(
    ts: pa.Array | pa.ChunkedArray, source: pa.Array | pa.ChunkedArray, fmt: str
) -> pa.Array | pa.ChunkedArray:
    """Null where strptime rolled an impossible day over (31-02 becomes 03-03).

    A rolled-over date lands on day 1-3 of the next month while the written day was
    29-31, so only rows on day 1-3 are looked at again.
    """
    day = pc.day(ts)
    suspect = pc.fill_null(pc.less_equal(day, 3), False)
    if not pc.any(suspect).as_py():
        return ts
    source = pc.if_else(suspect, source, pa.scalar(None, source.type))
    written = pc.struct_field(pc.extract_regex(source, pattern=_day_regex(fmt)), [0])
    rolled = pc.fill_null(pc.not_equal(pc.cast(written, pa.int64()), day), False)
    return pc.if_else(rolled, pa.scalar(None, ts.type), ts)


def _group(parts: pa.Array | pa.ChunkedArray, index: int) -> pa.Array | pa.ChunkedArray:
    """One group of an ``extract_regex`` result; null where it did not take part."""
    group = pc.struct_field(parts, [index])
    return pc.if_else(pc.equal(group, ""), pa.scalar(None, group.type), group)


def _parse_iso(s: pa.Array, unit: str) -> pa.Array:
    """ISO 8601 date-times with optional seconds, fraction and offset (to UTC)."""
    parts = pc.extract_regex(s, pattern=_ISO_RE)
    date = _group(parts, 0)
    time = pc.fill_null(_group(parts, 1), "00:00:00")
    time = pc.replace_substring_regex(time, pattern=r"^(\d{1,2}:\d{2})$", replacement=r"\1:00")
    base = pc.binary_join_element_wise(date, time, " ")
    ts = pc.strptime(base, format="%Y-%m-%d %H:%M:%S", unit=unit, error_is_null=True)
    ts = _null_rolled_over(ts, date, "%Y-%m-%d")  # before any shift to UTC moves the day
    per_second = _UNITS_PER_SECOND[unit]
    frac = _group(parts, 2)
    if unit != "s" and pc.any(pc.is_valid(frac)).as_py():
        digits = len(str(per_second)) - 1
        frac = pc.utf8_slice_codeunits(pc.fill_null(frac, ""), 0, digits)
        ticks = pc.cast(pc.utf8_rpad(frac, width=digits, padding="0"), pa.int64())
        ts = pc.add(ts, pc.cast(ticks, pa.duration(unit)))
    tz = _group(parts, 3)
    if pc.any(pc.is_valid(tz)).as_py():
        offset = pc.extract_regex(tz, pattern=r"^(?P<sign>[+-])(?P<h>\d{2}):?(?P<m>\d{2})?$")
        hours = pc.cast(pc.fill_null(_group(offset, 1), "0"), pa.int64())
        minutes = pc.cast(pc.fill_null(_group(offset, 2), "0"), pa.int64())
        seconds = pc.multiply(pc.add(pc.multiply(hours, 60), minutes), 60)
        west = pc.fill_null(pc.equal(pc.struct_field(offset, [0]), "-"), False)
        seconds = pc.if_else(west, pc.negate(seconds), seconds)
        shift = pc.cast(pc.multiply(seconds, per_second), pa.duration(unit))
        ts = pc.subtract(ts, shift)
    return ts


# --------------------------------------------------------------------------- booleans

TRUE_WORDS: tuple[str, ...] = (
    "ja", "j", "yes", "y", "true", "t", "1", "x", "sand", "sant", "sann", "on",
)  # fmt: skip
FALSE_WORDS: tuple[str, ...] = (
    "nej", "nei", "n", "no", "false", "f", "0", "falsk", "falskt", "usann", "off",
)  # fmt: skip


def parse_booleans(
    arr: pa.Array | pa.ChunkedArray,
) -> tuple[pa.Array | pa.ChunkedArray, pa.Array | pa.ChunkedArray]:
    """Parse ja/nej, yes/no, true/false, 1/0, x (ticked) and their Nordic cousins.

    Case and surrounding spaces are ignored.  Returns ``(booleans, bad)``.
    """
    return _map_chunks(_as_strings(arr), _parse_boolean_chunk)


def _parse_boolean_chunk(s: pa.Array) -> tuple[pa.Array, pa.Array]:
    s = pc.utf8_lower(pc.utf8_trim_whitespace(s))
    empty = _is_empty(s)
    is_true = pc.is_in(s, value_set=pa.array(TRUE_WORDS))
    is_false = pc.is_in(s, value_set=pa.array(FALSE_WORDS))
    known = pc.or_(is_true, is_false)
    values = pc.if_else(known, is_true, pa.scalar(None, pa.bool_()))
    bad = pc.and_(pc.invert(known), pc.invert(empty))
    return values, bad


# ---------------------------------------------------------------------------- helpers


_CHUNK_ROWS = 1 << 20


def _map_chunks(
    arr: pa.Array | pa.ChunkedArray,
    fn: Callable[[pa.Array], tuple[pa.Array, pa.Array]],
) -> tuple[pa.Array | pa.ChunkedArray, pa.Array | pa.ChunkedArray]:
    """Apply ``fn`` to slices of about a million rows in threads (Arrow releases the GIL).

    Returns arrays of the kind given: an Array for an Array, a ChunkedArray otherwise.
    """
    chunks = arr.chunks if isinstance(arr, pa.ChunkedArray) else [arr]
    pieces = [
        chunk.slice(start, _CHUNK_ROWS)
        for chunk in chunks
        for start in range(0, len(chunk), _CHUNK_ROWS)
    ]
    if not pieces:
        pieces = [pa.array([], type=arr.type)]
    if len(pieces) == 1:
        results = [fn(pieces[0])]
    else:
        workers = min(len(pieces), os.cpu_count() or 1)
        with ThreadPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(fn, pieces))
    firsts = [r[0] for r in results]
    seconds = [r[1] for r in results]
    if isinstance(arr, pa.ChunkedArray):
        return pa.chunked_array(firsts, firsts[0].type), pa.chunked_array(seconds, pa.bool_())
    if len(results) == 1:
        return firsts[0], seconds[0]
    return pa.concat_arrays(firsts), pa.concat_arrays(seconds)


def _as_strings(arr: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type):
        return arr
    if pa.types.is_dictionary(arr.type):
        return pc.cast(arr, pa.string())
    return pc.cast(arr, pa.string())


def _is_empty(s: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    return pc.fill_null(pc.equal(pc.utf8_length(s), 0), True)
