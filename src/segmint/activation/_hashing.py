"""Identifiers for ad platforms: normalised per each platform's published rules, then
SHA-256 hashed (lowercase hex).

Meta (Marketing API, customer information parameters): email trimmed and lowercased;
phone as digits only with the country code (E.164 without "+"); first/last name
lowercased without punctuation (letters of any alphabet kept, UTF-8); city lowercased
without punctuation or spaces; zip lowercased without spaces or dashes (US: first five
digits); country as the lowercase ISO alpha-2 code.  Every one of them is hashed.

Google Customer Match: email trimmed and lowercased; phone in E.164 with "+"; first and
last name lowercased, trimmed, inner runs of spaces collapsed; all three hashed.  Country
(ISO alpha-2) and zip are sent in clear.

Phone numbers go through ``phonenumbers`` (Google's libphonenumber), so a number written
without a country prefix is read in the row's country.  The rules are a few string
operations per platform; no maintained library implements them, hence this module.

The functions here are the reference, one value at a time.  Audience files of millions of
rows apply the same rules as one SQL statement in a private in-memory DuckDB
(:data:`META_SQL`, :data:`GOOGLE_SQL`); a test checks both agree.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

import phonenumbers

_PUNCT = re.compile(r"[^\w]|_", re.UNICODE)
_SPACES = re.compile(r"[ \t\n\r\f\v]+")
#: whitespace trimmed by the rules: ASCII, as in the vectorised SQL of the audience files
WHITESPACE = " \t\n\r\f\v"


def sha256_hex(value: str | None) -> str | None:
    """SHA-256 of the UTF-8 bytes, lowercase hex; None and '' stay None."""
    if not value:
        return None
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def email(value: str | None) -> str | None:
    """Trimmed and lowercased (both platforms)."""
    if value is None:
        return None
    out = value.strip(WHITESPACE).lower()
    return out or None


def e164(value: str | None, country: str | None = "DK") -> str | None:
    """``+4520123456``; None when the text is not a possible phone number."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        parsed = phonenumbers.parse(text, None if text.startswith("+") else (country or "DK"))
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def meta_phone(value: str | None, country: str | None = "DK") -> str | None:
    """Digits with the country code, no '+' and no leading zeros: ``4520123456``."""
    number = e164(value, country)
    return number[1:] if number else None


def meta_name(value: str | None) -> str | None:
    """Lowercase, no punctuation or spaces, other alphabets kept (NFC): ``valéry``."""
    if value is None:
        return None
    out = _PUNCT.sub("", unicodedata.normalize("NFC", value).lower())
    return out or None


meta_city = meta_name


def meta_zip(value: str | None, country: str | None = None) -> str | None:
    """Lowercase, no spaces or dashes; US zips keep their first five digits."""
    if value is None:
        return None
    out = re.sub(r"[ \t\n\r\f\v-]", "", value).lower()
    if (country or "").upper() == "US":
        out = out[:5]
    return out or None


def country_code(value: str | None) -> str | None:
    """ISO alpha-2 (the store keeps countries so; names are read by ingest)."""
    if value is None or not value.strip(WHITESPACE):
        return None
    return value.strip(WHITESPACE).upper()


def google_name(value: str | None) -> str | None:
    """Lowercase, trimmed, inner whitespace collapsed to one space."""
    if value is None:
        return None
    out = _SPACES.sub(" ", value.strip(WHITESPACE).lower())
    return out or None


def meta_hashes(
    *,
    email_: str | None = None,
    phone: str | None = None,
    first_name: str | None = None,
    last_name: str | None = None,
    zip_: str | None = None,
    city: str | None = None,
    country: str | None = None,
    default_country: str = "DK",
) -> dict[str, str | None]:
    """One Meta customer-list row: every identifier normalised and hashed."""
    where = country_code(country) or default_country
    cc = country_code(country)
    return {
        "email": sha256_hex(email(email_)),
        "phone": sha256_hex(meta_phone(phone, where)),
        "fn": sha256_hex(meta_name(first_name)),
        "ln": sha256_hex(meta_name(last_name)),
        "zip": sha256_hex(meta_zip(zip_, cc)),
        "ct": sha256_hex(meta_city(city)),
        "country": sha256_hex(cc.lower() if cc else None),
    }


def google_hashes(
    *,
    email_: str | None = None,
    phone: str | None = None,
    first_name: str | None = None,
    last_name: str | None = None,
    zip_: str | None = None,
    country: str | None = None,
    default_country: str = "DK",
) -> dict[str, str | None]:
    """One Google Customer Match row: email, phone and names hashed; country, zip clear."""
    where = country_code(country) or default_country
    return {
        "Email": sha256_hex(email(email_)),
        "Phone": sha256_hex(e164(phone, where)),
        "First Name": sha256_hex(google_name(first_name)),
        "Last Name": sha256_hex(google_name(last_name)),
        "Country": country_code(country),
        "Zip": zip_.strip(WHITESPACE) if zip_ and zip_.strip(WHITESPACE) else None,
    }


_WS = "[ \\t\\n\\r\\f\\v]"
_TRIM = f"regexp_replace({{}}, '^{_WS}+|{_WS}+$', '', 'g')"


def _sha(expr: str) -> str:
    return f"sha256(nullif({expr}, ''))"


def _email_sql(col: str) -> str:
    return "lower(" + _TRIM.format(col) + ")"


def _meta_name_sql(col: str) -> str:
    return f"regexp_replace(lower(nfc_normalize({col})), '[^\\p{{L}}\\p{{N}}]', '', 'g')"


_GOOGLE_NAME = "regexp_replace(lower(" + _TRIM.format("{}") + f"), '{_WS}+', ' ', 'g')"

#: over a table r(email, phone = E.164, first_name, last_name, postal_code, city, cc)
META_SQL = f"""
SELECT {_sha(_email_sql("email"))} AS email,
       {_sha("substr(phone, 2)")} AS phone,
       {_sha(_meta_name_sql("first_name"))} AS fn,
       {_sha(_meta_name_sql("last_name"))} AS ln,
       {_sha("CASE WHEN cc = 'US' THEN left(z, 5) ELSE z END")} AS zip,
       {_sha(_meta_name_sql("city"))} AS ct,
       {_sha("lower(cc)")} AS country
FROM (SELECT *, regexp_replace(lower(postal_code), '[ \\t\\n\\r\\f\\v-]', '', 'g') AS z
      FROM r)
"""
GOOGLE_SQL = f"""
SELECT {_sha(_email_sql("email"))} AS "Email",
       {_sha("phone")} AS "Phone",
       {_sha(_GOOGLE_NAME.format("first_name"))} AS "First Name",
       {_sha(_GOOGLE_NAME.format("last_name"))} AS "Last Name",
       nullif(cc, '') AS "Country",
       nullif({_TRIM.format("postal_code")}, '') AS "Zip"
FROM r
"""
