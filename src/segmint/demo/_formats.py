"""Values written the way Nordic systems write them: ``31-12-2024``, ``1.234,50``,
``20 12 34 56``, vectorised.

Arrow's ``strftime`` formats about a million values a second, too slow for 20 million
order dates; a window of dates holds only a few thousand distinct days, so each day
(and each second of a day) is formatted once in Python and then ``take``-n.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from segmint.demo import _arrow as ax
from segmint.demo._names import COUNTRIES, by_country

_EPOCH = dt.date(1970, 1, 1)


def dates(values: pa.Array | pa.ChunkedArray, fmt: str) -> pa.Array:
    """Dates (or timestamps, date part) as text in ``fmt`` (strftime codes); null stays null."""
    arr = _combine(values)
    if pa.types.is_timestamp(arr.type):
        arr = arr.cast(pa.timestamp("s")).cast(pa.date32())
    days = arr.cast(pa.int32()).to_numpy(zero_copy_only=False)
    null = np.asarray(arr.is_null().to_numpy(zero_copy_only=False), dtype=bool)
    if null.all():
        return pa.nulls(len(arr), pa.string())
    days = np.where(null, 0, days).astype(np.int64)
    lo, hi = int(days[~null].min()), int(days[~null].max())
    pool = [(_EPOCH + dt.timedelta(days=d)).strftime(fmt) for d in range(lo, hi + 1)]
    return ax.take(pool, np.clip(days - lo, 0, hi - lo), null=null if null.any() else None)


_CLOCK: list[str] = []


def _clock() -> list[str]:
    if not _CLOCK:
        _CLOCK.extend(f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(86_400))
    return _CLOCK


def timestamps(
    values: pa.Array | pa.ChunkedArray, date_fmt: str = "%Y-%m-%d", sep: str = " "
) -> pa.Array:
    """Timestamps as ``<date><sep>HH:MM:SS`` (whole seconds)."""
    arr = _combine(values).cast(pa.timestamp("s"))
    seconds = arr.cast(pa.int64()).to_numpy(zero_copy_only=False)
    day = dates(arr, date_fmt)
    clock = ax.take(_clock(), np.mod(seconds, 86_400))
    return ax.join(day, sep, clock)


def decimals(values: pa.Array | pa.ChunkedArray, mark: str = ",", thousands: str = "") -> pa.Array:
    """Numbers with two decimals: ``1234.5`` -> ``1.234,50`` (``mark=","``, ``thousands="."``)."""
    arr = _combine(values)
    x = arr.to_numpy(zero_copy_only=False)
    null = np.isnan(x)
    cents = np.rint(np.where(null, 0.0, np.abs(x)) * 100).astype(np.int64)
    whole, frac = cents // 100, cents % 100
    if thousands:
        level = np.zeros(len(whole), dtype=np.int64)
        for k in (1, 2, 3):
            level += whole >= 1000**k
        text = ax.numbers(whole // 1000**level)
        for k in (3, 2, 1):
            if (level >= k).any():
                group = ax.join(thousands, ax.numbers((whole // 1000 ** (k - 1)) % 1000, width=3))
                text = pc.if_else(pa.array(level >= k), ax.join(text, group), text)
    else:
        text = ax.numbers(whole)
    text = ax.join(pc.if_else(pa.array(x < 0), "-", ""), text, mark, ax.numbers(frac, width=2))
    return ax.take(text, np.arange(len(x)), null=null) if null.any() else text


def integers(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Whole numbers (also float columns holding them) as text."""
    arr = _combine(values)
    return arr.cast(pa.int64()).cast(pa.string())


def booleans(values: pa.Array | pa.ChunkedArray, yes: str, no: str) -> pa.Array:
    arr = _combine(values)
    return pc.if_else(arr, yes, no)


#: (local, international) shapes per country, as slices of the E.164 string.
_PHONE_SHAPES: dict[str, tuple[tuple[str | tuple[int, int], ...], ...]] = {
    "DK": (
        ((3, 5), " ", (5, 7), " ", (7, 9), " ", (9, 11)),  # 20 12 34 56
        ((3, 11),),  # 20123456
        ("+45 ", (3, 11)),  # +45 20123456
    ),
    "SE": (("+46 ", (3, 5), " ", (5, 8), " ", (8, 10), " ", (10, 12)),),  # +46 70 123 45 67
    "NO": (("+47 ", (3, 6), " ", (6, 8), " ", (8, 11)),),  # +47 412 34 567
    "FI": (("+358 ", (4, 6), " ", (6, 9), " ", (9, 13)),),  # +358 40 123 4567
}
_DK_SHAPE_WEIGHTS = np.array([0.55, 0.25, 0.20])


def phones(
    rng: np.random.Generator,
    values: pa.Array | pa.ChunkedArray,
    country: pa.Array | pa.ChunkedArray,
) -> pa.Array:
    """E.164 numbers as people type them: Danish ones mostly local (``20 12 34 56``),
    foreign ones with their country code (``+46 70 123 45 67``)."""
    arr = _combine(values)
    codes = _combine(country)
    idx = pc.index_in(codes, value_set=pa.array(COUNTRIES)).to_numpy(zero_copy_only=False)
    idx = np.nan_to_num(idx.astype(float), nan=0).astype(np.int64)

    def build(c: int, rows: np.ndarray) -> pa.Array:
        shapes = _PHONE_SHAPES[COUNTRIES[c]]
        sub = arr.take(ax.indices(rows))
        variants = []
        for shape in shapes:
            parts = [
                p if isinstance(p, str) else pc.utf8_slice_codeunits(sub, p[0], p[1]) for p in shape
            ]
            variants.append(ax.join(*parts))
        if len(variants) == 1:
            return variants[0]
        pick = ax.categorical(rng, _DK_SHAPE_WEIGHTS[: len(variants)], len(rows))
        return pc.choose(pa.array(pick.astype(np.int8)), *variants)

    return by_country(idx, build)


def _combine(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    return values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
