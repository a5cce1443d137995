"""Nordic names, street names, email addresses and phone numbers, vectorised.

Name and street pools are drawn once per process from Faker's ``da_DK``, ``sv_SE``,
``no_NO`` and ``fi_FI`` locales with a fixed seed (repeats kept, so common names stay
common); customers are then combined from the pools with numpy indices and Arrow string
kernels.  Faker is never called per customer.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from segmint.demo import _arrow as ax
from segmint.demo._places import EMAIL_DOMAINS, PHONES, ascii_name

#: Countries in a fixed order; customers carry an index into it.
COUNTRIES: tuple[str, ...] = ("DK", "SE", "NO", "FI")
LOCALES: dict[str, str] = {"DK": "da_DK", "SE": "sv_SE", "NO": "no_NO", "FI": "fi_FI"}
FAKER_SEED = 2026
POOL_SIZE = 400


@dataclass(frozen=True)
class Pool:
    """Strings of several countries in one array; ``offset``/``size`` per country (and kind)."""

    values: pa.Array
    ascii: pa.Array
    offset: np.ndarray  # shape (countries, kinds)
    size: np.ndarray

    def draw(
        self, rng: np.random.Generator, country: np.ndarray, kind: np.ndarray | int = 0
    ) -> np.ndarray:
        """Random indices into ``values`` from each row's country (and kind) section."""
        off = self.offset[country, kind]
        return off + np.floor(rng.random(len(country)) * self.size[country, kind]).astype(np.int64)


def _pool(sections: Sequence[Sequence[Sequence[str]]]) -> Pool:
    """Sections indexed [country][kind] -> list of strings."""
    values: list[str] = []
    ascii_values: list[str] = []
    offset = np.zeros((len(sections), len(sections[0])), dtype=np.int64)
    size = np.zeros_like(offset)
    for c, kinds in enumerate(sections):
        for k, names in enumerate(kinds):
            offset[c, k] = len(values)
            size[c, k] = len(names)
            values.extend(names)
            ascii_values.extend(ascii_name(x, COUNTRIES[c]) for x in names)
    return Pool(pa.array(values, pa.string()), pa.array(ascii_values, pa.string()), offset, size)


def _cp1252(names: list[str]) -> list[str]:
    """Only names an export in Windows-1252 can carry."""
    out = []
    for x in names:
        try:
            x.encode("cp1252")
        except UnicodeEncodeError:
            continue
        out.append(x)
    return out


@dataclass(frozen=True)
class NamePools:
    """First names (kind 0 male, 1 female), last names and street names per country."""

    first: Pool
    last: Pool
    streets: Pool


@functools.cache
def name_pools() -> NamePools:
    """Build the pools (once per process, about 0.3 s)."""
    from faker import Faker

    first: list[list[list[str]]] = []
    last: list[list[list[str]]] = []
    streets: list[list[list[str]]] = []
    for country in COUNTRIES:
        fake = Faker(LOCALES[country])
        fake.seed_instance(FAKER_SEED)
        male = _cp1252([fake.first_name_male() for _ in range(POOL_SIZE)])
        female = _cp1252([fake.first_name_female() for _ in range(POOL_SIZE)])
        first.append([male, female])
        last.append([_cp1252([fake.last_name() for _ in range(POOL_SIZE)])])
        streets.append([_cp1252([fake.street_name() for _ in range(POOL_SIZE)])])
    return NamePools(_pool(first), _pool(last), _pool(streets))


def by_country(country: np.ndarray, build: Callable[[int, np.ndarray], pa.Array]) -> pa.Array:
    """Build a column country by country (``build(c, rows)``) and put it back in row order."""
    order = np.argsort(country, kind="stable")
    counts = np.bincount(country, minlength=len(COUNTRIES))
    parts = []
    start = 0
    for c, k in enumerate(counts):
        if k:
            parts.append(build(c, order[start : start + k]))
        start += k
    combined = pa.concat_arrays(parts)
    inverse = np.empty_like(order)
    inverse[order] = np.arange(len(order))
    return combined.take(ax.indices(inverse))


def phones(rng: np.random.Generator, country: np.ndarray) -> pa.Array:
    """Valid mobile numbers in E.164 (``+4520123456``)."""

    def build(c: int, rows: np.ndarray) -> pa.Array:
        code, prefixes, digits = PHONES[COUNTRIES[c]]
        width = digits - len(prefixes[0])
        pre = ax.take(prefixes, rng.integers(0, len(prefixes), len(rows)))
        rest = ax.numbers(rng.integers(0, 10**width, len(rows)), width=width)
        return ax.join(f"+{code}", pre, rest)

    return by_country(country, build)


def domains(rng: np.random.Generator, country: np.ndarray) -> pa.Array:
    """A consumer email domain per row, by the row's country."""

    def build(c: int, rows: np.ndarray) -> pa.Array:
        names, weights = zip(*EMAIL_DOMAINS[COUNTRIES[c]], strict=True)
        return ax.take(names, ax.categorical(rng, np.array(weights, dtype=float), len(rows)))

    return by_country(country, build)


def emails(
    rng: np.random.Generator,
    first_ascii: pa.Array,
    last_ascii: pa.Array,
    birth_year: np.ndarray,
    domain: pa.Array,
    unique_suffix: pa.Array,
    shapes: tuple[float, float, float, float, float] = (0.35, 0.15, 0.25, 0.15, 0.10),
) -> pa.Array:
    """Lowercase addresses in the shapes people choose, unique per row.

    The local part is ``anna.jensen``, ``annajensen``, ``anna.jensen84``, ``ajensen`` or
    ``anna123``; where two rows would get the same address, the later one becomes
    ``anna.jensen.<unique_suffix>``.
    """
    n = len(first_ascii)
    initial = pc.utf8_slice_codeunits(first_ascii, 0, 1)
    yy = ax.numbers(birth_year % 100, width=2)
    digits = ax.numbers(rng.integers(1, 1000, n))
    candidates = [
        ax.join(first_ascii, ".", last_ascii),
        ax.join(first_ascii, last_ascii),
        ax.join(first_ascii, ".", last_ascii, yy),
        ax.join(initial, last_ascii),
        ax.join(first_ascii, digits),
    ]
    shape = ax.categorical(rng, np.array(shapes), n)
    local = pc.choose(pa.array(shape.astype(np.int8)), *candidates)
    address = ax.join(local, "@", domain)
    dup = pd.Series(address.to_numpy(zero_copy_only=False)).duplicated().to_numpy()
    if dup.any():
        fixed = ax.join(first_ascii, ".", last_ascii, ".", unique_suffix, "@", domain)
        address = pc.if_else(pa.array(dup), fixed, address)
    return address


_STREET_SUFFIX: dict[str, tuple[tuple[str, float], ...]] = {
    "DK": (
        ("", 6),
        (", st. tv.", 1),
        (", 1. th.", 1),
        (", 2. tv.", 1),
        (", 3. th.", 0.7),
        ("A", 0.5),
        ("B", 0.3),
    ),
    "SE": (("", 7), (" lgh 1101", 0.6), (" lgh 1203", 0.5), ("A", 0.5), ("B", 0.4)),
    "NO": (("", 7), ("A", 1), ("B", 0.7), ("C", 0.3)),
    "FI": (("", 3), (" A 1", 1), (" A 5", 1), (" B 12", 1), (" C 21", 0.6)),
}


def addresses(rng: np.random.Generator, country: np.ndarray) -> pa.Array:
    """Street, house number and (by country's habit) floor, door or flat."""
    pools = name_pools()
    street = pools.streets.values.take(ax.indices(pools.streets.draw(rng, country)))
    number = ax.numbers(np.minimum(rng.geometric(1 / 25, len(country)), 250))

    def build(c: int, rows: np.ndarray) -> pa.Array:
        names, weights = zip(*_STREET_SUFFIX[COUNTRIES[c]], strict=True)
        return ax.take(names, ax.categorical(rng, np.array(weights, dtype=float), len(rows)))

    suffix = by_country(country, build)
    return ax.join(street, " ", number, suffix)
