"""Settings of the built-in segment families: RFM, lifecycle stages, value tiers, exclusive groups.

They live in ``segmint.yaml`` under ``families:``.  Every model forbids unknown keys and
validates what a typo or a contradiction would otherwise turn into silently wrong segments:
an RFM cell map that misses or double-covers a part of the R x F grid, lifecycle thresholds
in the wrong order, value-tier cut-offs that do not increase.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from segmint.exceptions import ConfigError

if TYPE_CHECKING:
    import ibis.expr.types as ir


class _Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


# -- RFM -------------------------------------------------------------------------------------

_RANGE = re.compile(r"^([1-9])(?:-([1-9]))?$")


def parse_score_range(text: str) -> tuple[int, int]:
    """``"4-5"`` -> ``(4, 5)``, ``"3"`` -> ``(3, 3)``."""
    m = _RANGE.match(text)
    if m is None:
        raise ValueError(f"{text!r} is not a score or a score range such as '3' or '4-5'")
    low = int(m.group(1))
    high = int(m.group(2) or low)
    if high < low:
        raise ValueError(f"score range {text!r} runs backwards; write '{high}-{low}'")
    return low, high


class RfmCell(_Settings):
    """One named RFM cell: the customers whose R and F scores fall in both ranges."""

    name: str = Field(min_length=1, description="Cell name, used as the segment value")
    r: str = Field(description="R scores of the cell: one score ('5') or a range ('3-4')")
    f: str = Field(description="F scores of the cell: one score ('1') or a range ('4-5')")

    @field_validator("r", "f")
    @classmethod
    def _is_range(cls, text: str) -> str:
        parse_score_range(text)
        return text

    def covers(self, r: int, f: int) -> bool:
        r_low, r_high = parse_score_range(self.r)
        f_low, f_high = parse_score_range(self.f)
        return r_low <= r <= r_high and f_low <= f <= f_high


# The regex-style R/F map of the RFM literature ("[1-2][1-2]" hibernating ... "5[4-5]"
# champions), which covers the 5 x 5 grid exactly once; the order is the documented table.
STANDARD_RFM_CELLS: tuple[tuple[str, str, str], ...] = (
    ("champions", "5", "4-5"),
    ("loyal_customers", "3-4", "4-5"),
    ("potential_loyalists", "4-5", "2-3"),
    ("new_customers", "5", "1"),
    ("promising", "4", "1"),
    ("need_attention", "3", "3"),
    ("about_to_sleep", "3", "1-2"),
    ("cant_lose_them", "1-2", "5"),
    ("at_risk", "1-2", "3-4"),
    ("hibernating", "1-2", "1-2"),
)


def _standard_cells() -> list[RfmCell]:
    return [RfmCell(name=n, r=r, f=f) for n, r, f in STANDARD_RFM_CELLS]


class RfmSettings(_Settings):
    """RFM quintile scores and the named cells of the R/F map."""

    enabled: bool = Field(True, description="Compute RFM scores and cells on every run")
    bins: int = Field(
        5, ge=2, le=9, description="Number of score bins per dimension (5 = quintiles)"
    )
    cells: list[RfmCell] = Field(
        default_factory=_standard_cells,
        description=(
            "Named cells of the R/F grid; together they must cover every (R, F) pair "
            "exactly once. Default: the standard 10-cell map (docs/families.md)"
        ),
    )

    @model_validator(mode="after")
    def _cells_cover_grid_once(self) -> Self:
        if self.bins != 5 and "cells" not in self.model_fields_set:
            raise ValueError(
                f"the standard named cells are defined for bins: 5; with bins: {self.bins} "
                "give your own `cells` covering the grid"
            )
        names = [c.name for c in self.cells]
        if dupes := sorted({n for n in names if names.count(n) > 1}):
            raise ValueError(f"cell names must be unique; repeated: {', '.join(dupes)}")
        for i, cell in enumerate(self.cells):
            for axis in ("r", "f"):
                _, high = parse_score_range(getattr(cell, axis))
                if high > self.bins:
                    raise ValueError(
                        f"cells[{i}] ({cell.name}): {axis} range {getattr(cell, axis)!r} "
                        f"exceeds bins: {self.bins}"
                    )
        problems = []
        for r in range(1, self.bins + 1):
            for f in range(1, self.bins + 1):
                hits = [c.name for c in self.cells if c.covers(r, f)]
                if len(hits) != 1:
                    which = ", ".join(hits) if hits else "no cell"
                    problems.append(f"(R={r}, F={f}) is covered by {which}")
        if problems:
            raise ValueError("cells must cover every (R, F) exactly once: " + "; ".join(problems))
        return self


# -- lifecycle -------------------------------------------------------------------------------


class LifecycleSettings(_Settings):
    """Thresholds of the lifecycle stages (days before the evaluation date)."""

    enabled: bool = Field(True, description="Compute lifecycle stages on every run")
    new_days: int = Field(
        90, ge=1, description="New: first purchase at most this many days before as_of"
    )
    active_days: int = Field(
        180, ge=1, description="Active: last purchase at most this many days before as_of"
    )
    lapsed_days: int = Field(
        365,
        ge=1,
        description=(
            "Lapsed: no purchase for more than this many days; also the gap before a "
            "purchase that makes it a reactivation"
        ),
    )
    loyal_orders: int = Field(
        5, ge=1, description="Loyal: active with a frequency of at least this many orders"
    )

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if not self.new_days <= self.active_days < self.lapsed_days:
            raise ValueError(
                "thresholds must satisfy new_days <= active_days < lapsed_days; got "
                f"new_days={self.new_days}, active_days={self.active_days}, "
                f"lapsed_days={self.lapsed_days}"
            )
        return self


# -- value tiers -----------------------------------------------------------------------------


class ValueTier(_Settings):
    """A named tier: the top customers who together hold a share of the total value."""

    name: str = Field(min_length=1, description="Tier name, used as the segment value")
    share: float | None = Field(
        None,
        gt=0,
        lt=1,
        description=(
            "Cumulative share of total value the tier reaches (0.8 = the top customers "
            "holding 80%); empty on the last tier, which takes everyone else"
        ),
    )


def _abc_tiers() -> list[ValueTier]:
    return [
        ValueTier(name="gold", share=0.8),
        ValueTier(name="silver", share=0.95),
        ValueTier(name="bronze"),
    ]


class ValueTierSettings(_Settings):
    """Value n-tiles (deciles by default) and named tiers by cumulative share of value."""

    enabled: bool = Field(True, description="Compute value tiers on every run")
    column: str = Field(
        "monetary", min_length=1, description="Customer base column to tier by (spend, CLV)"
    )
    n: int = Field(10, ge=2, le=100, description="Number of n-tiles (10 = deciles)")
    positive_only: bool = Field(
        True, description="Tier only customers whose value is above 0; false tiers every non-null"
    )
    tiers: list[ValueTier] = Field(
        default_factory=_abc_tiers,
        min_length=1,
        description=(
            "Named tiers from the top, by cumulative share of value; default ABC analysis: "
            "gold to 80%, silver to 95%, bronze the rest"
        ),
    )

    @model_validator(mode="after")
    def _increasing_shares(self) -> Self:
        names = [t.name for t in self.tiers]
        if dupes := sorted({n for n in names if names.count(n) > 1}):
            raise ValueError(f"tier names must be unique; repeated: {', '.join(dupes)}")
        *upper, last = self.tiers
        if last.share is not None:
            raise ValueError(f"the last tier ({last.name}) takes the rest: leave its share empty")
        previous = 0.0
        for i, tier in enumerate(upper):
            if tier.share is None:
                raise ValueError(f"tiers[{i}] ({tier.name}) needs a share; only the last has none")
            if tier.share <= previous:
                raise ValueError(
                    f"tiers[{i}] ({tier.name}): shares must increase from the top tier down; "
                    f"{tier.share} follows {previous}"
                )
            previous = tier.share
        return self


# -- mutually exclusive groups ---------------------------------------------------------------


class ExclusiveGroup(_Settings):
    """Segments whose members are split so each customer is in exactly one of them."""

    name: str = Field(min_length=1, description="Group name; its members get one segment each")
    priority: list[str] = Field(
        min_length=1,
        description="Segment names, first wins: a customer goes to the first it belongs to",
    )

    @field_validator("priority")
    @classmethod
    def _unique(cls, priority: list[str]) -> list[str]:
        if dupes := sorted({p for p in priority if priority.count(p) > 1}):
            raise ValueError(f"priority lists a segment more than once: {', '.join(dupes)}")
        return priority


class FamiliesConfig(_Settings):
    """``families:`` in ``segmint.yaml``: the built-in segment families."""

    rfm: RfmSettings = Field(default_factory=RfmSettings, description="RFM scores and cells")
    lifecycle: LifecycleSettings = Field(
        default_factory=LifecycleSettings, description="Lifecycle stage thresholds"
    )
    value_tiers: ValueTierSettings = Field(
        default_factory=ValueTierSettings, description="Value n-tiles and named tiers"
    )
    exclusive: list[ExclusiveGroup] = Field(
        default_factory=list, description="Groups of segments assigned mutually exclusively"
    )

    @field_validator("exclusive")
    @classmethod
    def _unique_groups(cls, groups: list[ExclusiveGroup]) -> list[ExclusiveGroup]:
        names = [g.name for g in groups]
        if dupes := sorted({n for n in names if names.count(n) > 1}):
            raise ValueError(f"exclusive group names must be unique; repeated: {', '.join(dupes)}")
        return groups


# -- input checks shared by the families -----------------------------------------------------


def require_columns(table: ir.Table, columns: Iterable[str], *, what: str) -> None:
    """Raise :class:`ConfigError` naming every column ``what`` needs that ``table`` lacks."""
    have = list(table.columns)
    missing = [c for c in columns if c not in have]
    if not missing:
        return
    parts = []
    for c in missing:
        close = difflib.get_close_matches(c, have, n=1)
        parts.append(f"{c!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
    raise ConfigError(
        f"{what} needs column(s) {', '.join(parts)}; the table has: {', '.join(have)}"
    )
