"""Vectorised building blocks: turn numpy draws into Arrow columns without Python loops.

Strings are built by Arrow's compute kernels (``take`` from a small pool, element-wise
joins, padding), which run in C++ over millions of rows; numpy handles the numbers.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from segmint.datamodel import ARROW_TYPES, ENTITIES

_SECONDS_PER_DAY = 86_400


def pool(values: Sequence[str] | pa.Array) -> pa.Array:
    """A small string array to ``take`` from."""
    return values if isinstance(values, pa.Array) else pa.array(list(values), pa.string())


def take(
    values: Sequence[str] | pa.Array, idx: np.ndarray, null: np.ndarray | None = None
) -> pa.Array:
    """``values[idx]`` as an Arrow string array; rows where ``null`` is true are null."""
    indices = pa.array(idx.astype(np.int32, copy=False), mask=null)
    return pool(values).take(indices)


def constant(value: str, n: int) -> pa.Array:
    """A string column holding one value ``n`` times."""
    return take([value], np.zeros(n, dtype=np.int32))


def join(*parts: pa.Array | str) -> pa.Array:
    """Concatenate string columns (and literal strings) element-wise."""
    return pc.binary_join_element_wise(*parts, "")


def numbers(values: np.ndarray, prefix: str = "", width: int = 0) -> pa.Array:
    """Integers as strings, optionally zero-padded to ``width`` and prefixed."""
    text = pa.array(values.astype(np.int64, copy=False)).cast(pa.string())
    if width:
        text = pc.utf8_lpad(text, width=width, padding="0")
    return join(prefix, text) if prefix else text


def timestamps(epoch: np.datetime64, days: np.ndarray) -> pa.Array:
    """Times given as float days after ``epoch``, rounded to whole seconds, as timestamp[us]."""
    start = epoch.astype("datetime64[us]").astype(np.int64)
    micros = start + np.rint(days * _SECONDS_PER_DAY).astype(np.int64) * 1_000_000
    return pa.array(micros, pa.timestamp("us"))


def indices(idx: np.ndarray) -> pa.Array:
    """Row positions for ``take`` (int32: Arrow takes with them about twice as fast)."""
    return pa.array(idx.astype(np.int32 if len(idx) < 2**31 else np.int64, copy=False))


def dates(epoch: np.datetime64, days: np.ndarray, null: np.ndarray | None = None) -> pa.Array:
    """Float days after ``epoch`` floored to calendar dates (date32)."""
    whole = np.floor(days).astype(np.int64)
    values = epoch.astype("datetime64[D]") + whole.astype("timedelta64[D]")
    return pa.array(values, pa.date32(), mask=null)


def segment_ids(counts: np.ndarray) -> np.ndarray:
    """For counts ``[2, 0, 3]`` the owner of each of the ``sum`` rows: ``[0, 0, 2, 2, 2]``."""
    return np.repeat(np.arange(len(counts), dtype=np.int64), counts)


def segment_cumsum(values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Cumulative sums that restart at each segment (segments given by their lengths)."""
    total = np.cumsum(values)
    ends = np.cumsum(counts)
    before = np.concatenate(([0.0], total))[ends - counts]
    return total - np.repeat(before, counts)


def rank_in_segment(counts: np.ndarray) -> np.ndarray:
    """0, 1, 2, ... within each segment."""
    n = int(counts.sum())
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    return np.arange(n, dtype=np.int64) - starts


def categorical(rng: np.random.Generator, probs: np.ndarray, size: int) -> np.ndarray:
    """``size`` draws from one discrete distribution (indices into ``probs``)."""
    cdf = np.cumsum(probs)
    cdf /= cdf[-1]
    return np.minimum(np.searchsorted(cdf, rng.random(size), side="right"), len(probs) - 1)


def categorical_by(rng: np.random.Generator, table: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """One draw per element from the distribution in row ``rows[i]`` of ``table``.

    All rows' CDFs are laid end to end as ``k + cdf[k]``, which increases with ``k``, so a
    single ``searchsorted`` of ``rows + u`` finds every draw.
    """
    k, m = table.shape
    cdf = np.cumsum(table, axis=1)
    cdf /= cdf[:, -1:]
    flat = (np.arange(k)[:, None] + cdf).ravel()
    pos = np.searchsorted(flat, rows + rng.random(len(rows)), side="right")
    return np.minimum(pos - rows * m, m - 1)


def entity_table(name: str, columns: dict[str, pa.Array], n: int) -> pa.Table:
    """A table with exactly the fields of entity ``name`` (missing ones null) plus extras.

    Columns are cast to the field's storage type, so a wrong type fails here, loudly,
    instead of surfacing as a mismatch at load time.
    """
    entity = ENTITIES[name]
    arrays: list[pa.Array] = []
    fields: list[pa.Field] = []
    for f in entity.fields:
        typ = ARROW_TYPES[f.type]
        col = columns.get(f.name)
        arrays.append(pa.nulls(n, typ) if col is None else col.cast(typ, safe=True))
        fields.append(pa.field(f.name, typ))
    for extra, col in columns.items():
        if extra not in entity.field_names:
            arrays.append(col)
            fields.append(pa.field(extra, col.type))
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))
