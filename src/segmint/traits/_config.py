"""Trait settings in ``segmint.yaml``: declared traits, their windows and filters.

``traits:`` holds the traits a project declares on top of the built-in ones::

    traits:
      - name: kitchen_spend_90d
        from: transactions
        aggregate: sum
        of: amount
        where: [{field: category, op: "=", value: Køkken}]
        within: 90d

A bare list is short for ``{declared: [...]}``; the mapping form also takes the built-in
settings (``windows``: the windows of the built-in engagement counts).

This module imports only pydantic: it is loaded with the project configuration.  The
:func:`parse_duration` is the rule language's (one duration syntax everywhere).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any, Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from segmint.exceptions import ConfigError
from segmint.segments._rules import parse_duration
from segmint.traits._catalogue import ActivityName, attribute_names, builtin_trait_names

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")

Aggregate = Literal[
    "count",
    "sum",
    "avg",
    "min",
    "max",
    "count_distinct",
    "first_time",
    "last_time",
    "days_since_last",
    "days_since_first",
    "share",
]
#: aggregates over the activity's time (``of`` optional: another date/timestamp column)
TIME_AGGREGATES: frozenset[str] = frozenset(
    {"first_time", "last_time", "days_since_last", "days_since_first"}
)
FilterOp = Literal[
    "=",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "in",
    "not_in",
    "contains",
    "starts_with",
    "is_null",
    "not_null",
]
Scalar = str | int | float | bool | date | datetime
DEFAULT_WINDOWS: tuple[str, ...] = ("30d", "90d", "365d")


class _Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid", validate_assignment=True, populate_by_name=True, serialize_by_alias=True
    )


def _midnight(d: date) -> datetime:
    return d if isinstance(d, datetime) else datetime(d.year, d.month, d.day)


def _check_within(text: str | None) -> str | None:
    if text is not None and not parse_duration(text):
        raise ValueError(f"an empty window {text!r}: a trait needs at least one day, e.g. '1d'")
    return text


def _check_between(pair: tuple[str, str] | None) -> tuple[str, str] | None:
    if pair is None:
        return pair
    older, newer = (parse_duration(p) for p in pair)
    if older < newer:
        raise ValueError(
            f"between {list(pair)} must be [older, newer] with the older duration first, "
            f"e.g. [{pair[1]}, {pair[0]}]"
        )
    if older == newer:
        raise ValueError(f"between {list(pair)} is an empty window; use two different durations")
    return pair


def _check_one_kind(
    within: str | None, between: tuple[str, str] | None, since: date | None, until: date | None
) -> None:
    kinds = [
        kind
        for kind, used in (
            ("within", within is not None),
            ("between", between is not None),
            ("since/until", since is not None or until is not None),
        )
        if used
    ]
    if len(kinds) > 1:
        raise ValueError(f"use one window kind, not {' and '.join(kinds)}")
    if since is not None and until is not None and since >= until:
        raise ValueError(f"since {since} must be before until {until}")


_WITHIN = "Last N days/weeks before as_of, e.g. 90d"
_BETWEEN = "From N to M days/weeks before as_of, older first, e.g. [90d, 30d]"
_SINCE = "Absolute start date (inclusive)"
_UNTIL = "Absolute end date (exclusive)"


class Window(_Model):
    """A time window relative to the evaluation date (``as_of``), or absolute.

    ``within: 90d`` is ``as_of - 90d <= time < as_of``; ``between: [90d, 30d]`` is
    ``as_of - 90d <= time < as_of - 30d``; ``since``/``until`` are absolute dates (until
    exclusive).  No window: all history before ``as_of``.
    """

    within: str | None = Field(None, description=_WITHIN)
    between: tuple[str, str] | None = Field(None, description=_BETWEEN)
    since: date | None = Field(None, description=_SINCE)
    until: date | None = Field(None, description=_UNTIL)

    _within = field_validator("within")(_check_within)
    _between = field_validator("between")(_check_between)

    @model_validator(mode="after")
    def _one_kind(self) -> Self:
        _check_one_kind(self.within, self.between, self.since, self.until)
        return self

    @property
    def is_window(self) -> bool:
        """Whether any bound is set (otherwise: all history before as_of)."""
        return any(v is not None for v in (self.within, self.between, self.since, self.until))

    def bounds(self, as_of: datetime | None) -> tuple[datetime | None, datetime | None]:
        """``(start, end)`` of the window: ``start <= time < end``; None is unbounded.

        Relative windows need ``as_of``.  The end never passes ``as_of``.
        """
        start: datetime | None = None
        end: datetime | None = None
        if self.within is not None or self.between is not None:
            if as_of is None:
                raise ValueError("a relative window (within/between) needs an as_of date")
            if self.within is not None:
                start = as_of - parse_duration(self.within)
            elif self.between is not None:
                start = as_of - parse_duration(self.between[0])
                end = as_of - parse_duration(self.between[1])
        if self.since is not None:
            start = _midnight(self.since)
        if self.until is not None:
            end = _midnight(self.until)
        if as_of is not None and (end is None or end > as_of):
            end = as_of
        return start, end

    def describe(self) -> str:
        """The window in words, for catalogues and explanations."""
        if self.within is not None:
            return f"in the last {self.within}"
        if self.between is not None:
            return f"from {self.between[0]} to {self.between[1]} ago"
        parts = [
            f"since {self.since}" if self.since else "",
            f"until {self.until}" if self.until else "",
        ]
        return " ".join(p for p in parts if p) or "ever"


def _check_text(text: str) -> None:
    """Text an engine can hold: engines end strings at NUL and store only valid UTF-8."""
    if "\x00" in text:
        raise ValueError("value contains a NUL character (\\x00); remove it")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"value {text!r} is not valid Unicode text") from None


class TraitFilter(_Model):
    """A simple condition on a column of the activity table a trait aggregates."""

    field: str = Field(min_length=1, description="Column of the activity table")
    op: FilterOp = Field("=", description="Comparison: = != < <= > >= in not_in ...")
    value: Scalar | list[Scalar] | None = Field(
        None, description="Value to compare with (a list for in / not_in; none for is_null)"
    )

    @model_validator(mode="after")
    def _value_fits_op(self) -> Self:
        values = self.value if isinstance(self.value, list) else [self.value]
        for v in values:
            if isinstance(v, str):
                _check_text(v)
        if self.op in ("is_null", "not_null"):
            if self.value is not None:
                raise ValueError(f"op {self.op!r} takes no value; remove 'value'")
        elif self.op in ("in", "not_in"):
            if not isinstance(self.value, list) or not self.value:
                raise ValueError(f"op {self.op!r} needs a non-empty list as value, e.g. [a, b]")
        elif self.value is None:
            raise ValueError(f"op {self.op!r} needs a value (use is_null to test for missing)")
        elif isinstance(self.value, list):
            raise ValueError(f"op {self.op!r} takes one value, not a list (use 'in')")
        elif self.op in ("contains", "starts_with") and not isinstance(self.value, str):
            raise ValueError(f"op {self.op!r} needs a text value")
        return self


class TraitDef(_Model):
    """A declared trait: one aggregate of an activity table's rows per customer.

    Its window (``within``, ``between``, ``since``/``until``) means what it means in a
    :class:`Window`; without one, all history before ``as_of`` counts.
    """

    name: str = Field(description="Trait name (lowercase letters, digits and _)")
    description: str = Field("", description="What the trait means, in the user's words")
    source: ActivityName = Field(alias="from", description="Activity table the trait aggregates")
    aggregate: Aggregate = Field(description="How the rows are aggregated")
    of: str | None = Field(
        None,
        validate_default=True,
        description="Column aggregated (not for count; optional for share and time aggregates)",
    )
    where: list[TraitFilter] = Field(
        default_factory=list, description="Conditions on the rows (all must hold)"
    )
    within: str | None = Field(None, description=_WITHIN)
    between: tuple[str, str] | None = Field(None, description=_BETWEEN)
    since: date | None = Field(None, description=_SINCE)
    until: date | None = Field(None, description=_UNTIL)

    _within = field_validator("within")(_check_within)
    _between = field_validator("between")(_check_between)

    @field_validator("name")
    @classmethod
    def _name_is_identifier(cls, name: str) -> str:
        if not _NAME.match(name):
            raise ValueError(
                f"{name!r} is not a valid trait name: use lowercase letters, digits and _, "
                f"starting with a letter (e.g. kitchen_spend_90d)"
            )
        return name

    @field_validator("of")
    @classmethod
    def _of_fits_aggregate(cls, of: str | None, info: ValidationInfo) -> str | None:
        aggregate = info.data.get("aggregate")
        if aggregate is None:
            return of
        if aggregate == "count" and of is not None:
            raise ValueError(
                f"count counts rows and takes no 'of' (got {of!r}); remove it or use count_distinct"
            )
        needs_of = aggregate not in ("count", "share") and aggregate not in TIME_AGGREGATES
        if needs_of and of is None:
            raise ValueError(f"aggregate {aggregate!r} needs 'of': the column to aggregate")
        return of

    @model_validator(mode="after")
    def _share_has_filter(self) -> Self:
        _check_one_kind(self.within, self.between, self.since, self.until)
        if self.aggregate == "share" and not self.where:
            raise ValueError(
                "aggregate 'share' needs 'where': the rows whose share of the total is computed"
            )
        return self

    @property
    def window(self) -> Window:
        """The trait's window alone."""
        return Window(within=self.within, between=self.between, since=self.since, until=self.until)


class TraitsConfig(_Model):
    """Declared traits plus the settings of the built-in ones (``traits:`` in segmint.yaml)."""

    declared: list[TraitDef] = Field(
        default_factory=list, description="Traits declared by the project"
    )
    windows: list[str] = Field(
        default_factory=lambda: list(DEFAULT_WINDOWS),
        description="Windows of the built-in counts and sums (orders_90d, email_opens_30d, ...)",
    )

    @model_validator(mode="before")
    @classmethod
    def _list_is_declared(cls, data: Any) -> Any:
        return {"declared": data} if isinstance(data, list) else data

    @field_validator("windows")
    @classmethod
    def _windows_are_durations(cls, windows: list[str]) -> list[str]:
        for w in windows:
            parse_duration(w)
        if len(set(windows)) != len(windows):
            raise ValueError(f"windows {windows} repeat a window")
        return windows

    @model_validator(mode="after")
    def _names_are_free(self) -> Self:
        builtin = set(builtin_trait_names(self.windows))
        attributes = set(attribute_names())
        seen: dict[str, int] = {}
        for i, t in enumerate(self.declared):
            where = f"traits[{i}].name"
            if t.name in seen:
                raise ValueError(
                    f"{where}: trait {t.name!r} is declared twice (also traits[{seen[t.name]}]); "
                    f"give each trait its own name"
                )
            if t.name in builtin:
                raise ValueError(f"{where}: {t.name!r} is a built-in trait; choose another name")
            if t.name in attributes or t.name == "customer_id":
                raise ValueError(
                    f"{where}: {t.name!r} is a customer attribute; choose another name"
                )
            seen[t.name] = i
        return self

    def trait(self, name: str) -> TraitDef | None:
        """The declared trait called ``name``, if any."""
        return next((t for t in self.declared if t.name == name), None)


def validation_error_message(error: ValidationError, path: str = "traits") -> str:
    """Pydantic's errors as ``traits[2].where[0].op: problem`` lines joined by ``; ``."""
    problems = []
    for err in error.errors():
        loc = list(err["loc"])
        if loc[:1] == ["declared"]:
            loc = loc[1:]
        where = path + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc)
        msg = str(err["msg"]).removeprefix("Value error, ")
        problems.append(msg if msg.startswith(f"{path}[") else f"{where}: {msg}")
    return "; ".join(problems)


def parse_traits_config(data: Any, path: str = "traits") -> TraitsConfig:
    """Validate ``traits:`` from segmint.yaml; a :class:`ConfigError` names the path."""
    try:
        return TraitsConfig.model_validate([] if data is None else data)
    except ValidationError as e:
        raise ConfigError(validation_error_message(e, path)) from None
