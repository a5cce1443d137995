"""B2B customers: companies with valid organisation numbers, their contacts and deals.

Organisation numbers are built with their check digits, vectorised: Danish CVR (8
digits, weights 2765432 and mod 11), Norwegian orgnr (9 digits, weights 32765432 and
mod 11) and Swedish organisationsnummer (10 digits, Luhn).  python-stdnum validates
but cannot generate numbers in bulk, so the few lines of arithmetic live here (the
tests check samples with stdnum).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from segmint.demo import _arrow as ax
from segmint.demo import _names as nm
from segmint.demo._params import (
    MARKET_COMPANIES,
    MARKET_SIZE_SHARE,
    NACE,
    WIN_INTERCEPT,
    WIN_SIZE_EFFECT,
    WIN_TITLE_EFFECT,
    Scenario,
)
from segmint.demo._people import Places, countries
from segmint.demo._places import ascii_name

SIZE_EDGES = (10, 50, 250)  # 0-9, 10-49, 50-249, 250+
EMPLOYEES_LOG_MEAN, EMPLOYEES_LOG_SD, EMPLOYEES_MAX = 2.0, 1.5, 25_000
_SUFFIX = {
    "DK": (("A/S", 0.3), ("ApS", 0.6), ("I/S", 0.1)),
    "SE": (("AB", 0.9), ("HB", 0.1)),
    "NO": (("AS", 0.95), ("ASA", 0.05)),
    "FI": (("Oy", 0.9), ("Oyj", 0.1)),
}
_TLD = {"DK": "dk", "SE": "se", "NO": "no", "FI": "fi"}
TITLES = {
    "DK": (
        "Direktør",
        "Indkøbschef",
        "Økonomichef",
        "IT-chef",
        "Marketingchef",
        "Salgschef",
        "Driftsleder",
        "Indkøber",
    ),
    "SE": (
        "VD",
        "Inköpschef",
        "Ekonomichef",
        "IT-chef",
        "Marknadschef",
        "Försäljningschef",
        "Driftchef",
        "Inköpare",
    ),
    "NO": (
        "Daglig leder",
        "Innkjøpssjef",
        "Økonomisjef",
        "IT-sjef",
        "Markedssjef",
        "Salgssjef",
        "Driftsleder",
        "Innkjøper",
    ),
    "FI": (
        "Toimitusjohtaja",
        "Ostopäällikkö",
        "Talouspäällikkö",
        "IT-päällikkö",
        "Markkinointipäällikkö",
        "Myyntipäällikkö",
        "Tuotantopäällikkö",
        "Ostaja",
    ),
}
#: Salespeople and the regions they own (a region not listed goes to the first of its country).
OWNERS: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {
    "DK": (
        ("Mette Sørensen", ("Hovedstaden",)),
        ("Jesper Holm", ("Sjælland",)),
        ("Louise Kragh", ("Syddanmark",)),
        ("Anders Mikkelsen", ("Midtjylland",)),
        ("Camilla Bech", ("Nordjylland",)),
    ),
    "SE": (
        (
            "Karin Lindqvist",
            (
                "Stockholms län",
                "Uppsala län",
                "Västmanlands län",
                "Örebro län",
                "Östergötlands län",
                "Västerbottens län",
            ),
        ),
        ("Johan Ek", ("Västra Götalands län", "Skåne län")),
    ),
    "NO": (
        ("Ingrid Solberg", ("Oslo", "Akershus", "Buskerud", "Vestfold", "Innlandet")),
        ("Ola Haugen", ("Vestland", "Trøndelag", "Rogaland", "Agder", "Troms")),
    ),
    "FI": (("Sanna Virtanen", ()),),
}
DEAL_PRODUCTS = (
    "Rammeaftale",
    "Serviceaftale",
    "IT-udstyr projekt",
    "Kontorindretning",
    "Kantineløsning",
)
DEALS_PER_YEAR = {"key accounts": 1.2, "regular": 0.5, "occasional": 0.25, "one-off": 0.15}


def _digits(rng: np.random.Generator, n: int, first: tuple[int, ...], length: int) -> np.ndarray:
    d = rng.integers(0, 10, (n, length))
    d[:, 0] = np.array(first)[rng.integers(0, len(first), n)]
    return d


def _mod11(
    rng: np.random.Generator, n: int, weights: tuple[int, ...], first: tuple[int, ...]
) -> np.ndarray:
    """Numbers whose digits times ``weights`` (check digit weight 1) sum to 0 mod 11."""
    out = np.empty((0, len(weights) + 1), dtype=np.int64)
    while len(out) < n:
        d = _digits(rng, 2 * n, first, len(weights))
        check = (-(d * np.array(weights)).sum(axis=1)) % 11
        ok = check < 10
        out = np.vstack([out, np.column_stack([d[ok], check[ok]])])
    return out[:n]


def _luhn(rng: np.random.Generator, n: int, first: tuple[int, ...], length: int) -> np.ndarray:
    d = _digits(rng, n, first, length - 1)
    d[:, 1] = 5  # 55xxxx-xxxx: aktiebolag
    doubled = d[:, ::-1].copy()
    doubled[:, ::2] *= 2
    doubled = np.where(doubled > 9, doubled - 9, doubled)
    check = (-doubled.sum(axis=1)) % 10
    return np.column_stack([d, check])


def org_numbers(rng: np.random.Generator, country: np.ndarray) -> pa.Array:
    """Unique, check-digit-valid organisation numbers by country, as ``DK12345678``."""
    out = np.zeros(len(country), dtype=np.int64)
    taken: set[int] = set()
    for c, code in enumerate(nm.COUNTRIES):
        rows = np.flatnonzero(country == c)
        if not len(rows):
            continue
        need = len(rows)
        values: list[np.ndarray] = []
        while need > 0:
            if code == "DK":
                d = _mod11(rng, 2 * need, (2, 7, 6, 5, 4, 3, 2), (1, 2, 3, 4))
            elif code == "NO":
                d = _mod11(rng, 2 * need, (3, 2, 7, 6, 5, 4, 3, 2), (8, 9))
            elif code == "SE":
                d = _luhn(rng, 2 * need, (5,), 10)
            else:  # FI Y-tunnus, 7 digits + check: weights 7,9,10,5,8,4,2
                d7 = _digits(rng, 2 * need, (1, 2, 3), 7)
                r = (d7 * np.array([7, 9, 10, 5, 8, 4, 2])).sum(axis=1) % 11
                keep = r != 1
                d = np.column_stack([d7[keep], np.where(r[keep] == 0, 0, 11 - r[keep])])
            num = (d * 10 ** np.arange(d.shape[1] - 1, -1, -1)).sum(axis=1)
            num = np.array([x for x in dict.fromkeys(num.tolist()) if x not in taken][:need])
            taken.update(num.tolist())
            values.append(num)
            need -= len(num)
        out[rows] = np.concatenate(values)
    # stored the way ingest normalises them: country code + compact digits (DK12345678)
    return ax.join(ax.take(nm.COUNTRIES, country), ax.numbers(out))


@dataclass(frozen=True)
class Companies:
    """The B2B customers."""

    table: pa.Table
    country: np.ndarray
    place: np.ndarray
    nace: np.ndarray
    band: np.ndarray
    domain: pa.Array


def companies(rng: np.random.Generator, scenario: Scenario, customer_ids: pa.Array) -> Companies:
    n = len(customer_ids)
    places = Places.build()
    pools = nm.name_pools()
    country = countries(rng, scenario, n)
    place = places.draw(rng, country)
    nace = ax.categorical(rng, np.array([x.customer_weight for x in NACE]), n)
    draw = np.exp(rng.normal(EMPLOYEES_LOG_MEAN, EMPLOYEES_LOG_SD, n))
    employees = np.minimum(np.floor(draw), EMPLOYEES_MAX).astype(np.int64)
    band = np.searchsorted(np.array(SIZE_EDGES), employees, side="right")
    revenue = np.round(
        np.maximum(employees, 0.5)
        * np.array([x.revenue_per_employee for x in NACE])[nace]
        * np.exp(rng.normal(0, 0.4, n)),
        -3,
    )

    last = pools.last.draw(rng, country)
    words = [x.word for x in NACE]
    suffix_names: list[str] = []
    suffix_idx = np.zeros(n, dtype=np.int64)
    for c, code in enumerate(nm.COUNTRIES):
        names, weights = zip(*_SUFFIX[code], strict=True)
        rows = country == c
        suffix_idx[rows] = len(suffix_names) + ax.categorical(
            rng, np.array(weights), int(rows.sum())
        )
        suffix_names.extend(names)
    name = ax.join(
        pools.last.values.take(ax.indices(last)),
        " ",
        ax.take(words, nace),
        " ",
        ax.take(suffix_names, suffix_idx),
    )
    domain = ax.join(
        pools.last.ascii.take(ax.indices(last)),
        ax.take([ascii_name(w, "DK") for w in words], nace),
        ".",
        ax.take([_TLD[c] for c in nm.COUNTRIES], country),
    )

    owner_of_place = []
    owner_names: list[str] = []
    for i, region in enumerate(places.region):
        code = nm.COUNTRIES[places.country[i]]
        owners = OWNERS[code]
        pick = next((o for o, regs in owners if region in regs), owners[0][0])
        if pick not in owner_names:
            owner_names.append(pick)
        owner_of_place.append(owner_names.index(pick))
    columns = {
        "customer_id": customer_ids,
        "customer_type": ax.constant("company", n),
        "company_name": name,
        "postal_code": ax.take(places.postal, place),
        "city": ax.take(places.city, place),
        "region": ax.take(places.region, place),
        "country": ax.take(nm.COUNTRIES, country),
        "org_number": org_numbers(rng, country),
        "nace_code": ax.take([x.code for x in NACE], nace),
        "employees": pa.array(employees),
        "revenue": pa.array(revenue),
        "owner": ax.take(owner_names, np.array(owner_of_place)[place]),
    }
    table = ax.entity_table("customers", columns, n)
    return Companies(table, country, place, nace, band, domain)


def firmographics_truth(scenario: Scenario) -> dict[str, Any]:
    """How companies were drawn: industries (customer vs market mix), size, revenue."""
    return {
        "employees": f"floor(exp(Normal({EMPLOYEES_LOG_MEAN}, {EMPLOYEES_LOG_SD}))), "
        f"at most {EMPLOYEES_MAX}",
        "size_bands": list(scenario.bands),
        "revenue": "max(employees, 0.5) * revenue_per_employee * exp(Normal(0, 0.4)), "
        "rounded to 1000 DKK",
        "nace": {
            x.code: {
                "name": x.name,
                "customer_weight": x.customer_weight,
                "market_weight": x.market_weight,
                "revenue_per_employee": x.revenue_per_employee,
            }
            for x in NACE
        },
        "market_size_band_share": dict(zip(scenario.bands, MARKET_SIZE_SHARE, strict=True)),
    }


@dataclass(frozen=True)
class Contacts:
    """The contacts table, and per contact its company (row in ``Companies``) and the
    position of its title in the country's ``TITLES`` (its role)."""

    table: pa.Table
    company: np.ndarray
    role: np.ndarray


def contacts(rng: np.random.Generator, comp: Companies) -> Contacts:
    """1-5 people per company, more at larger companies."""
    k = np.minimum(1 + rng.poisson(0.6 + 0.5 * comp.band), 5)
    owner = ax.segment_ids(k)
    m = len(owner)
    pools = nm.name_pools()
    country = comp.country[owner]
    female = rng.random(m) < 0.45
    first = pools.first.draw(rng, country, female.astype(np.int64))
    last = pools.last.draw(rng, country)
    first_ascii = pools.first.ascii.take(ax.indices(first))
    last_ascii = pools.last.ascii.take(ax.indices(last))
    contact_no = ax.numbers(np.arange(1, m + 1))
    domain = comp.domain.take(ax.indices(owner))
    # at work people are first.last@ or initial+last@, never with a birth year
    email = nm.emails(
        rng,
        first_ascii,
        last_ascii,
        np.zeros(m, dtype=np.int64),
        domain,
        contact_no,
        shapes=(0.7, 0.0, 0.0, 0.3, 0.0),
    )
    titles: list[str] = []
    title_idx = np.zeros(m, dtype=np.int64)
    role = np.zeros(m, dtype=np.int64)
    for c, code in enumerate(nm.COUNTRIES):
        rows = country == c
        role[rows] = rng.integers(0, len(TITLES[code]), int(rows.sum()))
        title_idx[rows] = len(titles) + role[rows]
        titles.extend(TITLES[code])
    columns = {
        "contact_id": ax.numbers(np.arange(1, m + 1), prefix="KP", width=7),
        "company_id": comp.table["customer_id"].combine_chunks().take(ax.indices(owner)),
        "first_name": pools.first.values.take(ax.indices(first)),
        "last_name": pools.last.values.take(ax.indices(last)),
        "email": email,
        "phone": nm.phones(rng, country),
        "title": ax.take(titles, title_idx),
    }
    return Contacts(ax.entity_table("contacts", columns, m), owner, role)


def deals(
    rng: np.random.Generator,
    scenario: Scenario,
    comp: Companies,
    people: Contacts,
    group: np.ndarray,
    epoch: np.datetime64,
    t_end: float,
    contact_rng: np.random.Generator,
) -> tuple[pa.Table, dict[str, Any]]:
    """Opportunities: open if not closed by the end, else won with the planted probability.

    Each deal is opened with one of the company's contacts (drawn from ``contact_rng``, so
    the other columns are drawn as before contacts existed); their role moves the odds."""
    rate = np.array([DEALS_PER_YEAR.get(g.name, 0.3) for g in scenario.groups])[group]
    k = rng.poisson(rate * t_end / 365.0)
    owner = ax.segment_ids(k)
    m = len(owner)
    created = rng.random(m) * t_end
    closed = created + 7.0 + rng.exponential(40.0, m)
    is_open = closed >= t_end
    per_company = np.bincount(people.company, minlength=len(comp.nace))
    first = np.concatenate([[0], np.cumsum(per_company)[:-1]])  # contacts are grouped by company
    contact = first[owner] + np.floor(contact_rng.random(m) * per_company[owner]).astype(np.int64)
    logit = (
        WIN_INTERCEPT
        + np.array([x.win_effect for x in NACE])[comp.nace[owner]]
        + np.array(WIN_SIZE_EFFECT)[comp.band[owner]]
        + np.array(WIN_TITLE_EFFECT)[people.role[contact]]
    )
    p_win = 1.0 / (1.0 + np.exp(-logit))
    won = rng.random(m) < p_win
    stage = np.where(is_open, 0, np.where(won, 1, 2))
    amount = np.round(np.exp(rng.normal(np.log(25_000) + 0.6 * comp.band[owner], 0.8)), -2)
    columns = {
        "deal_id": ax.numbers(np.arange(1, m + 1), prefix="D", width=6),
        "customer_id": comp.table["customer_id"].combine_chunks().take(ax.indices(owner)),
        "contact_id": people.table["contact_id"].combine_chunks().take(ax.indices(contact)),
        "created_date": ax.dates(epoch, created),
        "closed_date": ax.dates(epoch, np.where(is_open, 0.0, closed), null=is_open),
        "stage": ax.take(["open", "won", "lost"], stage),
        "amount": pa.array(amount),
        "product": ax.take(DEAL_PRODUCTS, rng.integers(0, len(DEAL_PRODUCTS), m)),
        "owner": comp.table["owner"].combine_chunks().take(ax.indices(owner)),
    }
    truth = {
        "win_probability": {
            "model": "logistic(intercept + nace effect + size band effect + title effect)",
            "intercept": WIN_INTERCEPT,
            "nace": {x.code: x.win_effect for x in NACE},
            "size_band": dict(zip(scenario.bands, WIN_SIZE_EFFECT, strict=True)),
            "title": {
                t: WIN_TITLE_EFFECT[i] for titles in TITLES.values() for i, t in enumerate(titles)
            },
            "contact": "one of the company's contacts, uniformly (deals.contact_id)",
        },
        "deals_per_year_by_group": {
            g.name: DEALS_PER_YEAR.get(g.name, 0.3) for g in scenario.groups
        },
        "n_deals": m,
        "n_won": int((stage == 1).sum()),
        "n_lost": int((stage == 2).sum()),
        "n_open": int((stage == 0).sum()),
    }
    return ax.entity_table("deals", columns, m), truth


def market_companies(rng: np.random.Generator, scenario: Scenario, comp: Companies) -> pa.Table:
    """Companies per NACE code and size band, at least 1.5 times the customers in a cell."""
    nb = len(scenario.bands)
    counts = np.bincount(comp.nace * nb + comp.band, minlength=len(NACE) * nb)
    weights = np.array([x.market_weight for x in NACE])
    weights /= weights.sum()
    rows: list[tuple[str, str, int]] = []
    for i, nace in enumerate(NACE):
        for b, band in enumerate(scenario.bands):
            size = MARKET_COMPANIES * weights[i] * MARKET_SIZE_SHARE[b] * rng.uniform(0.85, 1.15)
            floor = np.ceil(1.5 * counts[i * nb + b]) + 5
            rows.append((nace.code, band, int(max(round(size), floor))))
    return pa.table(
        {
            "nace_code": pa.array([r[0] for r in rows], pa.string()),
            "size_band": pa.array([r[1] for r in rows], pa.string()),
            "companies": pa.array([r[2] for r in rows], pa.int64()),
        }
    )
