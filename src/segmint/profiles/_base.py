"""The profile base: one row per customer of the last run, attributes and traits together.

Every profile figure (sizes, shares, means, indices, sizing) is an aggregate over this one
table, materialised once per use, so a segment, a family cell and "customers whose trait
X is v" are profiled by the same code.  Fields are sorted into kinds: *numeric* (means,
index of the mean), *boolean* (share true, index of the share), *categorical* (share of
each value, index of each share; text fields with at most :data:`MAX_LEVELS` values).
Identifiers, names, contact details, dates and free text are never profiled.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import ibis
import ibis.expr.types as ir

from segmint.engine import Engine
from segmint.exceptions import ConfigError

#: a text field with more distinct values than this is not profiled (names, postal codes)
MAX_LEVELS = 30

#: never profiled: identifiers, personal data, dates, explanations in words
EXCLUDED = frozenset(
    {
        "customer_id", "run_id", "as_of", "first_name", "last_name", "company_name", "email",
        "phone", "address", "postal_code", "personal_number", "org_number", "household_id",
        "birth_date", "signup_date", "_first_signup", "churn_reasons", "owner", "rfm_score",
        "first_purchase", "last_purchase", "lead_method",
    }
)  # fmt: skip

#: age in years -> band (the bands market tables of households commonly use)
AGE_BANDS: tuple[tuple[str, int, int | None], ...] = (
    ("18-29", 0, 29),
    ("30-44", 30, 44),
    ("45-59", 45, 59),
    ("60-74", 60, 74),
    ("75+", 75, None),
)


@dataclass
class ProfileBase:
    """The materialised profile table of one run and the kinds of its fields."""

    engine: Engine
    table: ir.Table
    run_id: str
    as_of: datetime
    size: int
    numeric: list[str]
    boolean: list[str]
    categorical: list[str]
    scratch: list[str] = field(default_factory=list)

    @property
    def fields(self) -> list[str]:
        return [*self.numeric, *self.boolean, *self.categorical]

    def kind(self, name: str) -> str | None:
        for kind in ("numeric", "boolean", "categorical"):
            if name in getattr(self, kind):
                return kind
        return None

    def keep(self, expr: ir.Table, prefix: str) -> ir.Table:
        """Materialise ``expr`` as a work table dropped with the base."""
        name = self.engine.temp_name(prefix)
        self.engine.write(name, expr, temp=True)
        self.scratch.append(name)
        return self.engine.table(name)

    def close(self) -> None:
        for name in self.scratch:
            self.engine.drop(name)
        self.scratch.clear()


def _bands(value: ir.IntegerValue, bands: tuple[tuple[str, int, int | None], ...]) -> ir.Value:
    cases = [(value <= hi if hi is not None else value >= lo, name) for name, lo, hi in bands]
    return ibis.cases(*cases, else_=ibis.null("string"))


def base_expression(engine: Engine) -> ir.Table:
    """Traits of the last run joined to the customers' merged attributes (not materialised)."""
    from segmint.models._leads import SIZE_BANDS
    from segmint.runs import TRAITS
    from segmint.traits._attributes import customer_attributes

    if not engine.has_table(TRAITS):
        raise ConfigError("no run yet: run 'segmint run' first")
    traits = engine.table(TRAITS)
    attrs = customer_attributes(engine).drop("_first_signup")
    attrs = attrs.select(
        *(c for c in attrs.columns if c not in traits.columns), _aid=attrs.customer_id
    )
    t = traits.left_join(attrs, traits.customer_id == attrs._aid).drop("_aid")
    derived: dict[str, ir.Value] = {}
    if "age" in t.columns and "age_band" not in t.columns:
        derived["age_band"] = _bands(t.age.cast("int64"), AGE_BANDS)
    if "employees" in t.columns and "size_band" not in t.columns:
        derived["size_band"] = _bands(t.employees.cast("int64"), SIZE_BANDS)
    return t.mutate(**derived) if derived else t


@contextmanager
def profile_base(engine: Engine) -> Iterator[ProfileBase]:
    """The profile base of the last run, materialised for the duration of the block."""
    from segmint.runs import last_successful_run

    run_id = last_successful_run(engine)
    if run_id is None:
        raise ConfigError("no run yet: run 'segmint run' first")
    pb = ProfileBase(engine, ibis.memtable({"x": [1]}), run_id, datetime.min, 0, [], [], [])
    try:
        pb.table = pb.keep(base_expression(engine), "profile_base")
        t = pb.table
        as_of: Any = t.as_of.max().execute() if "as_of" in t.columns else None
        pb.as_of = as_of.to_pydatetime() if hasattr(as_of, "to_pydatetime") else as_of
        schema = t.schema()
        strings = [c for c, dt in schema.items() if dt.is_string() and c not in EXCLUDED]
        numbers = [c for c, dt in schema.items() if dt.is_numeric() and c not in EXCLUDED]
        known = {f"_known_{c}": t[c].count() for c in numbers}
        counts = (
            t.aggregate(_n=t.count(), **known, **{c: t[c].nunique() for c in strings})
            .to_pyarrow()
            .to_pylist()[0]
        )
        pb.size = int(counts["_n"])
        for c, dt in schema.items():
            if c in EXCLUDED:
                continue
            if dt.is_boolean():
                pb.boolean.append(c)
            elif dt.is_numeric() and counts[f"_known_{c}"] > 0:
                pb.numeric.append(c)
            elif dt.is_string() and 0 < counts[c] <= MAX_LEVELS:
                pb.categorical.append(c)
        yield pb
    finally:
        pb.close()
