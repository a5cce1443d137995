"""B2C customers: people in households, and the household market table.

Households are drawn first (country, address, family name, an age); people are placed
into them at random, so members of a household signed up at different times.  Most
share the family name, and a few share one email address.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from segmint.demo import _arrow as ax
from segmint.demo import _names as nm
from segmint.demo._params import Scenario
from segmint.demo._places import HOUSEHOLDS, PLACES

HOUSEHOLD_SIZES = (0.80, 0.15, 0.04, 0.01)
AGE_BAND_EDGES = (30, 45, 60, 75)  # 18-29, 30-44, 45-59, 60-74, 75+
AGE_BAND_SHARE = (0.18, 0.26, 0.26, 0.20, 0.10)  # of households, by age of the head
SHARED_EMAIL = 0.05  # of members after the first, share using the first member's email


@dataclass(frozen=True)
class Places:
    """All places of all countries in one list."""

    postal: list[str]
    city: list[str]
    region: list[str]
    country: np.ndarray
    weight: np.ndarray

    @classmethod
    def build(cls) -> Places:
        rows = [(c, *place) for c in nm.COUNTRIES for place in PLACES[c]]
        return cls(
            [r[1] for r in rows],
            [r[2] for r in rows],
            [r[3] for r in rows],
            np.array([nm.COUNTRIES.index(r[0]) for r in rows]),
            np.array([r[4] for r in rows], dtype=float),
        )

    def draw(self, rng: np.random.Generator, country: np.ndarray) -> np.ndarray:
        table = np.where(
            self.country[None, :] == np.arange(len(nm.COUNTRIES))[:, None], self.weight, 0.0
        )
        return ax.categorical_by(rng, table, country)

    @property
    def regions(self) -> list[str]:
        return list(dict.fromkeys(self.region))


def countries(rng: np.random.Generator, scenario: Scenario, n: int) -> np.ndarray:
    codes, weights = zip(*scenario.countries, strict=True)
    pick = ax.categorical(rng, np.array(weights), n)
    return np.array([nm.COUNTRIES.index(c) for c in codes])[pick]


@dataclass(frozen=True)
class People:
    """The B2C customers."""

    table: pa.Table
    country: np.ndarray
    place: np.ndarray
    age: np.ndarray
    band: np.ndarray


def people(
    rng: np.random.Generator,
    scenario: Scenario,
    customer_ids: pa.Array,
    t0: np.ndarray,
    epoch: np.datetime64,
    end: np.datetime64,
) -> People:
    """Persons with names, contact details, households, and their age band."""
    n = len(t0)
    places = Places.build()
    pools = nm.name_pools()
    sizes = 1 + ax.categorical(rng, np.array(HOUSEHOLD_SIZES), n)
    n_house = int(np.searchsorted(np.cumsum(sizes), n)) + 1
    sizes = sizes[:n_house]
    house = rng.permutation(np.repeat(np.arange(n_house), sizes)[:n])
    h_country = countries(rng, scenario, n_house)
    h_place = places.draw(rng, h_country)
    h_address = nm.addresses(rng, h_country)
    h_last = pools.last.draw(rng, h_country)
    h_age = 18 + rng.gamma(4.0, 7.5, n_house)

    country = h_country[house]
    place = h_place[house]
    female = rng.random(n) < 0.52
    age = np.clip(np.round(h_age[house] + rng.normal(0, 5, n)), 18, 90).astype(np.int64)
    first = pools.first.draw(rng, country, female.astype(np.int64))
    last = np.where(rng.random(n) < 0.75, h_last[house], pools.last.draw(rng, country))
    birth = end.astype("datetime64[D]") - np.round((age + rng.random(n)) * 365.25).astype(
        "timedelta64[D]"
    )
    birth_year = birth.astype("datetime64[Y]").astype(np.int64) + 1970

    ids = customer_ids
    first_ascii = pools.first.ascii.take(ax.indices(first))
    last_ascii = pools.last.ascii.take(ax.indices(last))
    email = nm.emails(rng, first_ascii, last_ascii, birth_year, nm.domains(rng, country), ids)
    # a few members of a household use the address of its first member
    first_member = np.full(n_house, -1, dtype=np.int64)
    present, first_index = np.unique(house, return_index=True)
    first_member[present] = first_index
    share = (first_member[house] != np.arange(n)) & (rng.random(n) < SHARED_EMAIL)
    email = email.take(ax.indices(np.where(share, first_member[house], np.arange(n))))
    no_email = rng.random(n) < 0.06
    no_phone = rng.random(n) < 0.10
    email = ax.take(email, np.arange(n), null=no_email & ~share)

    band = np.searchsorted(np.array(AGE_BAND_EDGES), age, side="right")
    columns = {
        "customer_id": ids,
        "customer_type": ax.constant("person", n),
        "first_name": pools.first.values.take(ax.indices(first)),
        "last_name": pools.last.values.take(ax.indices(last)),
        "email": email,
        "phone": ax.take(nm.phones(rng, country), np.arange(n), null=no_phone),
        "birth_date": pa.array(birth, pa.date32()),
        "gender": ax.take(["male", "female"], female.astype(np.int64)),
        "address": h_address.take(ax.indices(house)),
        "postal_code": ax.take(places.postal, place),
        "city": ax.take(places.city, place),
        "region": ax.take(places.region, place),
        "country": ax.take(nm.COUNTRIES, country),
        "household_id": ax.numbers(house + 1, prefix="H", width=7),
        "signup_date": ax.dates(epoch, t0),
    }
    table = ax.entity_table("customers", columns, n)
    return People(table, country, place, age, band)


def market_households(
    rng: np.random.Generator,
    scenario: Scenario,
    place: np.ndarray | None = None,
    band: np.ndarray | None = None,
) -> pa.Table:
    """Households per region and age band: rough real sizes, never below the customer count.

    ``place`` and ``band`` (per customer) make sure every cell holds at least 1.25 times
    as many households as there are customers in it, so penetration stays below 1.
    """
    places = Places.build()
    weight = dict(scenario.countries)
    regions = [
        r for r in places.regions if nm.COUNTRIES[places.country[places.region.index(r)]] in weight
    ]
    region_of_place = np.array([regions.index(r) if r in regions else -1 for r in places.region])
    bands = ("18-29", "30-44", "45-59", "60-74", "75+")
    counts = np.zeros(len(regions) * len(bands), dtype=np.int64)
    if place is not None and band is not None:
        cell = region_of_place[place] * len(bands) + band
        counts = np.bincount(cell, minlength=len(counts))
    rows: list[tuple[str, str, int]] = []
    for r, region in enumerate(regions):
        in_region = np.array([x == region for x in places.region])
        c = places.country[in_region][0]
        region_households = (
            HOUSEHOLDS[nm.COUNTRIES[c]]
            * places.weight[in_region].sum()
            / places.weight[places.country == c].sum()
        )
        for b, name in enumerate(bands):
            size = region_households * AGE_BAND_SHARE[b] * rng.uniform(0.9, 1.1)
            floor = np.ceil(1.25 * counts[r * len(bands) + b]) + 10
            rows.append((region, name, int(max(round(size), floor))))
    return pa.table(
        {
            "region": pa.array([x[0] for x in rows], pa.string()),
            "age_band": pa.array([x[1] for x in rows], pa.string()),
            "households": pa.array([x[2] for x in rows], pa.int64()),
        }
    )
