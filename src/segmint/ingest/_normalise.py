"""Normalise and check identifiers: emails, phones, organisation and personal numbers,
countries, postal codes and industry codes.

Each ``normalise_*`` function takes one raw value and returns its canonical form, or
``None`` when the value is invalid (validation then quarantines the row with the check's
reason code).  The check-digit rules come from python-stdnum and phone numbers from
phonenumbers.  Written here by hand, because no maintained library covers them for our
case: the email syntax check (a regular expression, so it can also run vectorised in
Arrow), the country-name table (pycountry is not a dependency, and it knows no Danish,
Swedish or Norwegian names), Nordic postal-code shapes, and the NACE division list.

The library-backed checks are slow per call (tens of microseconds), so they are cached and
the vectorised helpers call them once per distinct value.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache

import phonenumbers
import pyarrow as pa
import pyarrow.compute as pc
from stdnum.dk import cpr as dk_cpr
from stdnum.dk import cvr as dk_cvr
from stdnum.fi import hetu as fi_hetu
from stdnum.fi import ytunnus as fi_ytunnus
from stdnum.no import fodselsnummer as no_fodselsnummer
from stdnum.no import orgnr as no_orgnr
from stdnum.se import orgnr as se_orgnr
from stdnum.se import personnummer as se_personnummer

__all__ = [
    "NACE_DIVISIONS",
    "map_unique",
    "normalise_country",
    "normalise_email",
    "normalise_emails",
    "normalise_nace",
    "normalise_org_number",
    "normalise_personal_number",
    "normalise_phone",
    "normalise_phones",
    "normalise_postal_code",
]

_CACHE_SIZE = 1 << 16
_SPACES = " \t\u00a0\u202f"

# ------------------------------------------------------------------------------ email

# Letters allowed in internationalised domain names (æøå.dk exist); written as literal
# characters so the same pattern works in Python's re and in Arrow's RE2.
_IDN = "\u00e0-\u00f6\u00f8-\u00ff"
_LOCAL = r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
_LABEL = rf"[a-z0-9{_IDN}](?:[a-z0-9{_IDN}-]{{0,61}}[a-z0-9{_IDN}])?"
#: local@domain.tld: one @, no spaces, no empty or doubled dots, a top-level domain of
#: at least two letters (or an xn-- punycode one)
EMAIL_PATTERN = rf"^{_LOCAL}@(?:{_LABEL}\.)+(?:[a-z]{{2,63}}|xn--[a-z0-9-]{{2,59}})$"
_EMAIL_RE = re.compile(EMAIL_PATTERN)


def normalise_email(s: str | None) -> str | None:
    """Trimmed, lower-case email address, or None when it is not one."""
    if s is None:
        return None
    value = str(s).strip(_SPACES).lower()
    if value.startswith("mailto:"):
        value = value[len("mailto:") :]
    return value if len(value) <= 254 and _EMAIL_RE.match(value) else None


def normalise_emails(
    arr: pa.Array | pa.ChunkedArray,
) -> tuple[pa.Array | pa.ChunkedArray, pa.Array | pa.ChunkedArray]:
    """Vectorised :func:`normalise_email`: ``(normalised, bad)``; empty is null, not bad."""
    s = pc.utf8_lower(pc.utf8_trim(_as_strings(arr), characters=_SPACES))
    s = pc.replace_substring_regex(s, pattern="^mailto:", replacement="")
    empty = pc.fill_null(pc.equal(pc.utf8_length(s), 0), True)
    ok = pc.and_(
        pc.fill_null(pc.match_substring_regex(s, pattern=EMAIL_PATTERN), False),
        pc.fill_null(pc.less_equal(pc.utf8_length(s), 254), False),
    )
    out = pc.if_else(ok, s, pa.scalar(None, s.type))
    return out, pc.and_(pc.invert(ok), pc.invert(empty))


# ------------------------------------------------------------------------------ phone


@lru_cache(maxsize=_CACHE_SIZE)
def normalise_phone(s: str | None, default_country: str | None = "DK") -> str | None:
    """E.164 form (``+4520123456``) of a valid phone number, or None.

    Numbers without ``+``/``00`` prefix are read as numbers of ``default_country``.
    """
    if s is None or not str(s).strip(_SPACES):
        return None
    region = _country_code(default_country) or "DK"
    text = str(s)
    number = _parse_phone(text, region)
    if number is None:
        # "4520123456": an international number whose + got lost in a spreadsheet.  Only
        # tried for 10+ digits, longer than any national Nordic number without its 0.
        digits = re.sub(r"[\s\u00a0\u202f\-()/.]", "", text)
        if digits.isdigit() and len(digits) >= 10 and not digits.startswith("0"):
            number = _parse_phone("+" + digits, region)
    if number is None:
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _parse_phone(text: str, region: str) -> phonenumbers.PhoneNumber | None:
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    return number if phonenumbers.is_valid_number(number) else None


def normalise_phones(
    arr: pa.Array | pa.ChunkedArray, default_country: str = "DK"
) -> tuple[pa.Array, pa.Array]:
    """Vectorised :func:`normalise_phone`, computed once per distinct value."""
    return map_unique(arr, lambda v: normalise_phone(v, default_country))


def map_unique(
    arr: pa.Array | pa.ChunkedArray, fn: Callable[[str], str | None]
) -> tuple[pa.Array, pa.Array]:
    """Apply a scalar normaliser once per distinct value of a string column.

    Returns ``(normalised, bad)``: null and empty input give null and are not bad; a
    value for which ``fn`` returns None (or raises ``ValueError``) is bad.
    """
    s = pc.utf8_trim(_as_strings(arr), characters=_SPACES)
    if isinstance(s, pa.ChunkedArray):
        s = s.combine_chunks()
    s = pc.if_else(pc.equal(pc.utf8_length(s), 0), pa.scalar(None, s.type), s)
    distinct = pc.unique(s).drop_null()
    results: list[str | None] = []
    for value in distinct.to_pylist():
        try:
            results.append(fn(value))
        except ValueError:
            results.append(None)
    positions = pc.index_in(s, value_set=distinct)
    out = pc.take(pa.array(results, pa.string()), positions)
    bad = pc.and_(pc.is_valid(s), pc.is_null(out))
    return out, bad


# ------------------------------------------------------------------------ org numbers

_ORG_VALIDATORS: dict[str, Callable[[str], str]] = {
    "DK": dk_cvr.validate,
    "NO": no_orgnr.validate,
    "SE": se_orgnr.validate,
    "FI": fi_ytunnus.validate,
}
# digits of a compact number per country, used to guess the country when none is given
_ORG_LENGTHS = {"DK": 8, "NO": 9, "SE": 10, "FI": 8}


def _compact(value: str) -> str:
    return re.sub(r"[\s\u00a0\u202f.\-/]", "", value).upper()


@lru_cache(maxsize=_CACHE_SIZE)
def normalise_org_number(s: str | None, country: str | None = None) -> str | None:
    """``"DK12345678"``: country prefix plus compact digits, or None when invalid.

    Checks DK CVR, NO organisasjonsnummer, SE organisationsnummer and FI Y-tunnus check
    digits.  Spaces, dashes and a ``DK``/``DK-`` style prefix are accepted; VAT forms
    (``SE556036079301``, ``NO988077917MVA``) too.  A prefix in the value wins over
    ``country``; with neither, the countries are tried by length (DK, NO, SE, FI).
    Numbers of other countries are kept compacted, unchecked.
    """
    if s is None:
        return None
    value = _compact(str(s))
    label = re.match(r"^(CVRNUMMER|CVRNR|CVR|ORGNR|ORGNO|YTUNNUS):?", value)
    if label:
        value = value[label.end() :]
        if label.group(1).startswith("CVR"):
            value = value if value[:2].isalpha() else "DK" + value
        elif label.group(1) == "YTUNNUS":
            value = value if value[:2].isalpha() else "FI" + value
    if not value:
        return None
    prefix = value[:2]
    if prefix.isalpha():
        value = value[2:]
        wanted = _country_code(prefix)
        if wanted is None:
            return None
    else:
        wanted = _country_code(country) if country else None
    if wanted == "NO" and value.endswith("MVA"):
        value = value[:-3]
    if wanted == "SE" and len(value) == 12 and value.endswith("01"):
        value = value[:-2]  # Swedish VAT number: orgnr + "01"
    if not value.isdigit():
        return None
    if wanted is None:
        candidates = [c for c, n in _ORG_LENGTHS.items() if n == len(value)]
    elif wanted in _ORG_VALIDATORS:
        candidates = [wanted]
    else:
        return f"{wanted}{value}"
    for code in candidates:
        try:
            return f"{code}{_compact(_ORG_VALIDATORS[code](value))}"
        except ValueError:  # stdnum's ValidationError is a ValueError
            continue
    return None


# ------------------------------------------------------------------- personal numbers


def _se_personnummer(value: str) -> str:
    compact = se_personnummer.validate(value)
    born = se_personnummer.get_birth_date(compact)
    return f"{born:%Y%m%d}{compact[-4:]}"


_PERSONAL_VALIDATORS: dict[str, Callable[[str], str]] = {
    "DK": dk_cpr.validate,
    "SE": _se_personnummer,
    "NO": no_fodselsnummer.validate,
    "FI": fi_hetu.validate,
}


@lru_cache(maxsize=_CACHE_SIZE)
def normalise_personal_number(s: str | None, country: str | None = None) -> str | None:
    """Compact, checked personal identity number, or None.

    DK CPR ``DDMMYYSSSS`` (date checked; the check digit is not used since 2007),
    SE personnummer ``YYYYMMDDNNNN`` (century resolved), NO fødselsnummer (11 digits),
    FI henkilötunnus ``DDMMYYCZZZQ``.  Without ``country``: DK, SE, NO, FI in turn.
    """
    if s is None or not str(s).strip(_SPACES):
        return None
    value = str(s).strip(_SPACES).upper()
    code = _country_code(country) if country else None
    if code is not None and code not in _PERSONAL_VALIDATORS:
        return None
    for candidate in [code] if code else list(_PERSONAL_VALIDATORS):
        try:
            return _PERSONAL_VALIDATORS[candidate](value)
        except ValueError:
            continue
    return None


# --------------------------------------------------------------------------- country

# Names and codes in English, Danish, Swedish, Norwegian, Finnish (and German where
# Nordic exports use it), compared after folding case, accents and punctuation.
# fmt: off
_COUNTRY_NAMES: dict[str, tuple[str, ...]] = {
    "DK": ("danmark", "denmark", "dnk", "tanska", "dänemark", "daenemark"),
    "SE": ("sverige", "sweden", "swe", "ruotsi", "schweden"),
    "NO": ("norge", "norway", "nor", "noreg", "norja", "norwegen"),
    "FI": ("finland", "suomi", "fin", "finnland"),
    "IS": ("island", "iceland", "isl", "islanti"),
    "FO": ("færøerne", "faeroerne", "færøyane", "færøyene", "färöarna", "faroe islands", "fro"),
    "GL": ("grønland", "grönland", "greenland", "grl"),
    "AX": ("åland", "aland", "ahvenanmaa", "ala"),
    "DE": ("tyskland", "deutschland", "germany", "saksa", "deu", "ger"),
    "GB": (
        "uk", "storbritannien", "storbritannia", "great britain", "united kingdom",
        "england", "scotland", "wales", "skottland", "iso-britannia", "gbr", "britain",
    ),
    "NL": (
        "holland", "nederland", "nederländerna", "netherlands", "the netherlands",
        "alankomaat", "nld", "niederlande",
    ),
    "BE": ("belgien", "belgium", "belgia", "bel"),
    "FR": ("frankrig", "frankrike", "france", "ranska", "fra", "frankreich"),
    "ES": ("spanien", "spania", "spain", "espanja", "españa", "espana", "esp"),
    "PT": ("portugal", "portugali", "prt"),
    "IT": ("italien", "italia", "italy", "ita"),
    "CH": ("schweiz", "sveits", "switzerland", "sveitsi", "che", "suisse"),
    "AT": ("østrig", "österrike", "østerrike", "austria", "itävalta", "aut", "österreich"),
    "PL": ("polen", "poland", "puola", "pol", "polska"),
    "EE": ("estland", "estonia", "viro", "est", "eesti"),
    "LV": ("letland", "lettland", "latvia", "latvija", "lva"),
    "LT": ("litauen", "lithuania", "liettua", "ltu", "lietuva"),
    "IE": ("irland", "ireland", "irlanti", "irl"),
    "CZ": ("tjekkiet", "tjeckien", "tsjekkia", "czechia", "czech republic", "tšekki", "cze"),
    "GR": ("grækenland", "grekland", "hellas", "greece", "kreikka", "grc"),
    "HU": ("ungarn", "ungern", "hungary", "unkari", "hun"),
    "LU": ("luxembourg", "luxemburg", "lux"),
    "US": ("usa", "united states", "united states of america", "amerika", "yhdysvallat"),
    "CA": ("canada", "kanada", "can"),
    "CN": ("kina", "china", "chn"),
    "JP": ("japan", "japani", "jpn"),
    "RU": ("rusland", "ryssland", "russland", "russia", "venäjä", "rus"),
    "UA": ("ukraine", "ukraina", "ukr"),
    "AU": ("australien", "australia", "aus"),
}
# fmt: on
_COUNTRY_ALIASES = {"UK": "GB", "EL": "GR"}  # codes in common use that ISO assigns otherwise


def _fold(text: str) -> str:
    text = text.strip(_SPACES).lower().replace(".", "")
    text = text.replace("æ", "ae").replace("ø", "oe").replace("å", "aa")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[\s_]+", " ", text).strip()


@lru_cache(maxsize=1)
def _country_lookup() -> dict[str, str]:
    lookup: dict[str, str] = {}
    for code, names in _COUNTRY_NAMES.items():
        for name in names:
            lookup[_fold(name)] = code
    return lookup


@lru_cache(maxsize=_CACHE_SIZE)
def normalise_country(s: str | None) -> str | None:
    """ISO 3166 alpha-2 code from a code or a name (``"Danmark"``, ``"Sverige"``, ``"UK"``)."""
    if s is None:
        return None
    raw = str(s).strip(_SPACES)
    if not raw:
        return None
    upper = raw.upper().replace(".", "")
    if upper in _COUNTRY_ALIASES:
        return _COUNTRY_ALIASES[upper]
    if len(upper) == 2 and upper.isalpha() and upper in phonenumbers.SUPPORTED_REGIONS:
        return upper
    return _country_lookup().get(_fold(raw))


def _country_code(value: str | None) -> str | None:
    return normalise_country(value) if value else None


# ----------------------------------------------------------------------- postal code

_POSTAL_DIGITS = {"DK": 4, "NO": 4, "SE": 5, "FI": 5}
# Prefixes seen in front of postal codes in addresses: "DK-2100", "S-123 45", "SF-00100".
_POSTAL_PREFIX = {
    "DK": "DK", "NO": "NO", "N": "NO", "SE": "SE", "S": "SE", "FI": "FI", "SF": "FI", "FIN": "FI",
}  # fmt: skip


@lru_cache(maxsize=_CACHE_SIZE)
def normalise_postal_code(s: str | None, country: str | None = None) -> str | None:
    """Digits of a Nordic postal code (``"123 45"`` -> ``"12345"``), or None.

    DK and NO have 4 digits, SE and FI 5; a ``DK-`` style prefix is accepted and, with no
    ``country``, decides it.  NO and FI codes that lost their leading zeros in a
    spreadsheet (``"150"``) get them back.  Other countries: the trimmed value.
    """
    if s is None:
        return None
    raw = str(s).strip(_SPACES)
    if not raw:
        return None
    code = _country_code(country) if country else None
    m = re.match(r"^([A-Za-z]{1,3})\s*-\s*(.*)$", raw) or re.match(r"^([A-Za-z]{2})\s+(\d.*)$", raw)
    if m and m.group(1).upper() in _POSTAL_PREFIX:
        code = _POSTAL_PREFIX[m.group(1).upper()]
        raw = m.group(2)
    if code not in _POSTAL_DIGITS:
        return raw
    digits = re.sub(r"[\s\u00a0\u202f]", "", raw)
    width = _POSTAL_DIGITS[code]
    if code in ("NO", "FI") and digits.isdigit() and 3 <= len(digits) < width:
        digits = digits.zfill(width)
    return digits if digits.isdigit() and len(digits) == width else None


# ------------------------------------------------------------------------------ NACE

#: The 88 divisions of NACE rev. 2 (sections A-U); 04, 34, 40, 44, 48, 54, 57, 67, 76,
#: 83 and 89 are not used.
# fmt: off
NACE_DIVISIONS: frozenset[str] = frozenset(
    f"{d:02d}"
    for d in (
        *range(1, 4), *range(5, 10), *range(10, 34), 35, *range(36, 40), *range(41, 44),
        *range(45, 48), *range(49, 54), 55, 56, *range(58, 64), *range(64, 67), 68,
        *range(69, 76), *range(77, 83), 84, 85, *range(86, 89), *range(90, 94),
        *range(94, 97), 97, 98, 99,
    )
)
# fmt: on


@lru_cache(maxsize=_CACHE_SIZE)
def normalise_nace(s: str | None) -> str | None:
    """NACE rev. 2 code in dotted form: ``6201`` -> ``62.01``, ``620100`` -> ``62.01``.

    Accepts a division (``62``), group (``62.0``), class (``62.01``), the Danish DB07 and
    Swedish SNI 2007 subclasses (``620100``, ``62010``, ``62.01.00``) reduced to the class,
    and a section letter in front (``J62.01``).  None when the division does not exist.
    """
    if s is None:
        return None
    value = re.sub(r"[\s\u00a0\u202f]", "", str(s)).upper()
    value = re.sub(r"^[A-U](?=\d)", "", value)
    if not value:
        return None
    if re.fullmatch(r"\d{2}(?:\.\d{1,2})?", value):
        code = value
    elif re.fullmatch(r"\d{2}\.\d{2}\.?\d{1,2}", value):  # 62.01.00, 62.010
        code = value[:5]
    elif re.fullmatch(r"\d{3,6}", value):  # 620 -> 62.0; 6201, 62010, 620100 -> 62.01
        code = f"{value[:2]}.{value[2:4]}"
    else:
        return None
    return code if code[:2] in NACE_DIVISIONS else None


# ---------------------------------------------------------------------------- helpers


def _as_strings(arr: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type):
        return arr
    return pc.cast(arr, pa.string())
