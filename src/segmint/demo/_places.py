"""Where the demo customers live: real postal codes, cities and regions, phone and email
conventions of Denmark, Sweden, Norway and Finland.

A handful of real places per country is enough for segments by region and for market
sizing; the weights are rough population shares.  Written by hand because Faker's
postcodes and cities are drawn independently of each other (a Faker address has a
postcode from one end of the country and a city from the other).
"""

from __future__ import annotations

from dataclasses import dataclass

#: (postal code, city, region, weight) per country.  DK regions, SE län, NO fylker (2024),
#: FI maakunnat.
PLACES: dict[str, tuple[tuple[str, str, str, float], ...]] = {
    "DK": (
        ("1050", "København K", "Hovedstaden", 3.0),
        ("2100", "København Ø", "Hovedstaden", 4.0),
        ("2200", "København N", "Hovedstaden", 4.0),
        ("2300", "København S", "Hovedstaden", 3.5),
        ("2500", "Valby", "Hovedstaden", 2.5),
        ("2630", "Taastrup", "Hovedstaden", 1.5),
        ("2750", "Ballerup", "Hovedstaden", 1.5),
        ("2800", "Kongens Lyngby", "Hovedstaden", 2.0),
        ("2900", "Hellerup", "Hovedstaden", 1.5),
        ("3000", "Helsingør", "Hovedstaden", 1.8),
        ("3400", "Hillerød", "Hovedstaden", 1.5),
        ("4000", "Roskilde", "Sjælland", 2.0),
        ("4200", "Slagelse", "Sjælland", 1.2),
        ("4300", "Holbæk", "Sjælland", 1.0),
        ("4600", "Køge", "Sjælland", 1.3),
        ("4700", "Næstved", "Sjælland", 1.3),
        ("4800", "Nykøbing F", "Sjælland", 0.7),
        ("5000", "Odense C", "Syddanmark", 3.5),
        ("5700", "Svendborg", "Syddanmark", 0.9),
        ("6000", "Kolding", "Syddanmark", 1.8),
        ("6400", "Sønderborg", "Syddanmark", 1.0),
        ("6700", "Esbjerg", "Syddanmark", 1.8),
        ("7000", "Fredericia", "Syddanmark", 1.0),
        ("7100", "Vejle", "Syddanmark", 1.6),
        ("7400", "Herning", "Midtjylland", 1.5),
        ("7500", "Holstebro", "Midtjylland", 0.9),
        ("8000", "Aarhus C", "Midtjylland", 4.0),
        ("8200", "Aarhus N", "Midtjylland", 2.0),
        ("8600", "Silkeborg", "Midtjylland", 1.4),
        ("8700", "Horsens", "Midtjylland", 1.5),
        ("8800", "Viborg", "Midtjylland", 1.1),
        ("8900", "Randers C", "Midtjylland", 1.5),
        ("7700", "Thisted", "Nordjylland", 0.6),
        ("9000", "Aalborg", "Nordjylland", 3.0),
        ("9700", "Brønderslev", "Nordjylland", 0.5),
        ("9800", "Hjørring", "Nordjylland", 0.8),
        ("9900", "Frederikshavn", "Nordjylland", 0.7),
    ),
    "SE": (
        ("11120", "Stockholm", "Stockholms län", 4.0),
        ("11350", "Stockholm", "Stockholms län", 3.0),
        ("16970", "Solna", "Stockholms län", 1.5),
        ("41101", "Göteborg", "Västra Götalands län", 3.5),
        ("41463", "Göteborg", "Västra Götalands län", 1.5),
        ("21119", "Malmö", "Skåne län", 2.5),
        ("22100", "Lund", "Skåne län", 1.2),
        ("25220", "Helsingborg", "Skåne län", 1.2),
        ("75320", "Uppsala", "Uppsala län", 1.8),
        ("72211", "Västerås", "Västmanlands län", 1.2),
        ("70210", "Örebro", "Örebro län", 1.2),
        ("58222", "Linköping", "Östergötlands län", 1.3),
        ("90326", "Umeå", "Västerbottens län", 1.0),
    ),
    "NO": (
        ("0150", "Oslo", "Oslo", 3.5),
        ("0260", "Oslo", "Oslo", 2.0),
        ("0560", "Oslo", "Oslo", 2.0),
        ("1337", "Sandvika", "Akershus", 1.5),
        ("2000", "Lillestrøm", "Akershus", 1.2),
        ("5003", "Bergen", "Vestland", 2.5),
        ("7010", "Trondheim", "Trøndelag", 2.0),
        ("4006", "Stavanger", "Rogaland", 1.8),
        ("3015", "Drammen", "Buskerud", 1.2),
        ("4610", "Kristiansand", "Agder", 1.1),
        ("9008", "Tromsø", "Troms", 0.8),
        ("2317", "Hamar", "Innlandet", 0.7),
        ("3110", "Tønsberg", "Vestfold", 0.8),
    ),
    "FI": (
        ("00100", "Helsinki", "Uusimaa", 3.5),
        ("00500", "Helsinki", "Uusimaa", 2.0),
        ("02100", "Espoo", "Uusimaa", 2.0),
        ("01300", "Vantaa", "Uusimaa", 1.5),
        ("33100", "Tampere", "Pirkanmaa", 2.0),
        ("20100", "Turku", "Varsinais-Suomi", 1.6),
        ("90100", "Oulu", "Pohjois-Pohjanmaa", 1.3),
        ("40100", "Jyväskylä", "Keski-Suomi", 1.0),
    ),
}

#: Households per country (millions, rounded), for the market table.
HOUSEHOLDS: dict[str, float] = {"DK": 2.8e6, "SE": 4.8e6, "NO": 2.5e6, "FI": 2.8e6}

#: Calling code and mobile prefixes (with the number of digits after the calling code);
#: every number built from them is valid for :mod:`phonenumbers` (a test checks a sample).
PHONES: dict[str, tuple[str, tuple[str, ...], int]] = {
    "DK": (
        "45",
        tuple(
            f"{two}{three}"
            for two in (
                "21",
                "22",
                "25",
                "26",
                "27",
                "28",
                "29",
                "31",
                "40",
                "41",
                "42",
                "50",
                "51",
                "52",
                "53",
                "60",
                "61",
                "71",
                "81",
                "91",
                "92",
                "93",
            )
            for three in "123456789"
        ),
        8,
    ),
    "SE": ("46", ("70", "72", "73", "76", "79"), 9),
    "NO": ("47", ("40", "41", "46", "47", "48", "90", "91", "92", "93", "94", "95", "97", "98"), 8),
    "FI": ("358", ("40", "41", "44", "45", "46", "50"), 9),
}

#: Consumer email domains per country with rough weights.
EMAIL_DOMAINS: dict[str, tuple[tuple[str, float], ...]] = {
    "DK": (
        ("gmail.com", 5),
        ("hotmail.com", 3),
        ("outlook.dk", 1),
        ("yahoo.dk", 1),
        ("live.dk", 1),
        ("mail.dk", 1),
        ("jubii.dk", 0.5),
        ("icloud.com", 1.5),
    ),
    "SE": (
        ("gmail.com", 5),
        ("hotmail.se", 2),
        ("telia.com", 1),
        ("outlook.com", 1.5),
        ("icloud.com", 1),
        ("yahoo.se", 0.5),
        ("spray.se", 0.3),
    ),
    "NO": (
        ("gmail.com", 5),
        ("hotmail.no", 2),
        ("online.no", 1.2),
        ("outlook.com", 1),
        ("icloud.com", 1),
        ("yahoo.no", 0.5),
    ),
    "FI": (
        ("gmail.com", 5),
        ("hotmail.fi", 1.5),
        ("luukku.com", 0.8),
        ("outlook.com", 1),
        ("suomi24.fi", 0.5),
        ("icloud.com", 0.8),
    ),
}

#: Letters to spell out when a name becomes part of an email address or a domain.
_TRANSLIT_NORDIC = {"æ": "ae", "ø": "oe", "å": "aa", "ä": "ae", "ö": "oe", "ü": "u"}
_TRANSLIT_EAST = {"æ": "ae", "ø": "o", "å": "a", "ä": "a", "ö": "o", "ü": "u"}
_TRANSLIT_COMMON = {
    "é": "e",
    "è": "e",
    "á": "a",
    "ó": "o",
    "í": "i",
    "ú": "u",
    "ð": "d",
    "þ": "th",
    "ç": "c",
    "ñ": "n",
    " ": "",
    "-": "",
    "'": "",
    ".": "",
}


def ascii_name(name: str, country: str) -> str:
    """A name as it appears in an email address: lowercase ASCII (``Søren`` -> ``soeren``)."""
    table = _TRANSLIT_NORDIC if country in ("DK", "NO") else _TRANSLIT_EAST
    out = []
    for ch in name.lower():
        ch = table.get(ch, _TRANSLIT_COMMON.get(ch, ch))
        out.append(ch)
    return "".join(c for c in "".join(out) if c.isascii() and c.isalnum())


@dataclass(frozen=True)
class Store:
    """A physical store (B2C)."""

    store_id: str
    country: str
    city: str
    weight: float


#: The retailer's stores: most in Denmark, a few in each neighbour.
STORES: tuple[Store, ...] = (
    Store("S01", "DK", "København K", 3.0),
    Store("S02", "DK", "Kongens Lyngby", 1.5),
    Store("S03", "DK", "Roskilde", 1.2),
    Store("S04", "DK", "Næstved", 0.8),
    Store("S05", "DK", "Odense C", 2.0),
    Store("S06", "DK", "Kolding", 1.0),
    Store("S07", "DK", "Esbjerg", 0.8),
    Store("S08", "DK", "Aarhus C", 2.5),
    Store("S09", "DK", "Herning", 0.8),
    Store("S10", "DK", "Aalborg", 1.5),
    Store("S11", "SE", "Stockholm", 2.0),
    Store("S12", "SE", "Göteborg", 1.5),
    Store("S13", "SE", "Malmö", 1.5),
    Store("S14", "NO", "Oslo", 2.0),
    Store("S15", "NO", "Bergen", 1.0),
    Store("S16", "FI", "Helsinki", 1.5),
)
