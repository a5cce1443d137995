"""The rule language: segment definitions as pydantic models (YAML/JSON in ``segmint.yaml``).

A rule is one *condition*; which kind is told by the key it carries:

``field``
    a comparison on a customer attribute or trait (one namespace; model scores are traits);
``performed`` / ``not_performed``
    an activity table (transactions, events, ...) filtered by ``where``, cut to a window and
    measured (count, sum, avg, min, max, count_distinct, first_time, last_time);
``sequence``
    activity steps done in order, each within a gap of the previous one;
``in_segment``
    membership of another segment;
``all`` / ``any`` / ``not``
    nesting, to any depth.

This module holds the syntax (what parses); ``_parse.py`` reads rules and words the
errors, ``_checks.py`` checks them against a :class:`RuleCatalog` (which fields, activity
tables and columns exist, and whether an op fits a field's type).  ``docs/segments.md`` is
the user's reference; keep the two in step.
"""

from __future__ import annotations

import contextlib
import re
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal, Union, get_args

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    SerializerFunctionWrapHandler,
    Tag,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_serializer,
    model_validator,
)

#: activity tables of the shared design (``segmint.traits`` builds them with ``_time``)
ACTIVITY_TABLES: tuple[str, ...] = (
    "transactions",
    "events",
    "subscriptions",
    "survey_responses",
    "consents",
    "campaign_contacts",
    "deals",
)

# fmt: off
Operator = Literal[
    "=", "!=", "<", "<=", ">", ">=", "between", "in", "not_in", "contains", "starts_with",
    "is_null", "not_null", "before", "after", "within_last",
]
OPERATORS: tuple[str, ...] = get_args(Operator)

_FIT_ALL = ("=", "!=", "in", "not_in", "is_null", "not_null")
_ORDERED = ("<", "<=", ">", ">=", "between")
#: ops that fit each type family of a field
OPS_BY_FAMILY: dict[str, tuple[str, ...]] = {
    "text": (*_FIT_ALL, *_ORDERED, "contains", "starts_with"),
    "number": (*_FIT_ALL, *_ORDERED),
    "date": (*_FIT_ALL, *_ORDERED, "before", "after", "within_last"),
    "boolean": _FIT_ALL,
    "other": _FIT_ALL,
}
_OP_ALIASES = {
    "==": "=", "<>": "!=", "=>": ">=", "=<": "<=", "not in": "not_in", "notin": "not_in",
    "startswith": "starts_with", "isnull": "is_null", "notnull": "not_null",
    "is_not_null": "not_null",
}
# fmt: on

_DURATION = re.compile(r"^(\d+)([dw])$")
_SEGMENT_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")
DURATION_PATTERN = _DURATION.pattern


# -- value types -------------------------------------------------------------------------
def parse_duration(text: str) -> timedelta:
    """``"90d"`` -> 90 days, ``"12w"`` -> 84 days."""
    m = _DURATION.match(text)
    if not m:
        raise ValueError(_bad_duration(text))
    n = int(m.group(1))
    return timedelta(days=n * (7 if m.group(2) == "w" else 1))


def _bad_duration(value: object) -> str:
    return f"malformed duration {value!r}; write a number of days or weeks, e.g. 90d or 12w"


def _check_duration(value: object) -> str:
    if not isinstance(value, str) or not _DURATION.match(value):
        raise ValueError(_bad_duration(value))
    return value


def _parse_date(value: object) -> date | datetime:
    """A date or datetime from a YAML date, a datetime or an ISO string."""
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            with contextlib.suppress(ValueError):
                value = datetime.fromisoformat(value)
    if isinstance(value, datetime) and value.tzinfo is not None:
        # times are naive UTC throughout segmint
        return value.astimezone(UTC).replace(tzinfo=None)
    if isinstance(value, date):
        return value
    raise ValueError(f"malformed date {value!r}; write it as 2024-01-31 or 2024-01-31T12:00:00")


def _parse_moment(value: object) -> date | datetime | str:
    """A date, a datetime, or a duration (that long before the evaluation date)."""
    if isinstance(value, str) and _DURATION.match(value):
        return value
    try:
        return _parse_date(value)
    except ValueError:
        raise ValueError(
            f"malformed date or duration {value!r}; write a date (2024-01-31) or a duration "
            f"back from the evaluation date (90d)"
        ) from None


def _scalar_to_json(value: object) -> object:
    """Dates in field values are kept as ISO strings, so YAML and JSON round-trip alike."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return [_scalar_to_json(v) for v in value]
    return value


_DATE_SCHEMA = {
    "anyOf": [{"type": "string", "format": "date"}, {"type": "string", "format": "date-time"}]
}
_DURATION_SCHEMA = {"type": "string", "pattern": DURATION_PATTERN}

Duration = Annotated[
    str,
    BeforeValidator(_check_duration),
    WithJsonSchema({**_DURATION_SCHEMA, "description": "A number of days or weeks: 90d, 12w"}),
]
DateLike = Annotated[
    date | datetime,
    BeforeValidator(_parse_date),
    WithJsonSchema({**_DATE_SCHEMA, "description": "A date (2024-01-31) or a datetime"}),
]
Moment = Annotated[
    date | datetime | str,
    BeforeValidator(_parse_moment),
    WithJsonSchema(
        {
            "anyOf": [*_DATE_SCHEMA["anyOf"], _DURATION_SCHEMA],
            "description": "A date, or a duration back from the evaluation date",
        }
    ),
]
Scalar = bool | int | float | str
Number = int | float


# -- models ------------------------------------------------------------------------------
class _Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        frozen=True,
    )


class FieldCondition(_Model):
    """A comparison on a customer field (attribute or trait), or on an activity column."""

    field: str = Field(description="Attribute, trait or score name (an activity column in where)")
    op: Operator = Field(description="Comparison operator; see docs/segments.md")
    value: Scalar | list[Scalar] | None = Field(
        None,
        validate_default=True,
        description=(
            "Compared value: a list [low, high] for between, a list for in/not_in, a duration "
            "(30d) for within_last, none for is_null/not_null"
        ),
    )

    @field_validator("value", mode="before")
    @classmethod
    def _dates_as_text(cls, value: object) -> object:
        return _scalar_to_json(value)

    @field_validator("value")
    @classmethod
    def _value_fits_op(cls, value: object, info: ValidationInfo) -> object:
        op = info.data.get("op")
        if op is None:
            return value
        if op in ("is_null", "not_null"):
            if value is not None:
                raise ValueError(f"op {op!r} takes no value; remove 'value'")
        elif op == "between":
            if not isinstance(value, list) or len(value) != 2:
                raise ValueError("op 'between' needs a value [low, high]; both ends are included")
            lo, hi = value
            if type(lo) is type(hi) and not isinstance(lo, bool) and lo > hi:
                raise ValueError(f"between [{lo}, {hi}] has low > high; write [low, high]")
        elif op in ("in", "not_in"):
            if not isinstance(value, list) or not value:
                raise ValueError(f"op {op!r} needs a non-empty list as value; e.g. [DK, SE]")
        elif value is None:
            raise ValueError(f"op {op!r} needs a value")
        elif isinstance(value, list):
            raise ValueError(f"op {op!r} needs a single value, not a list; use 'in' for a list")
        elif op in ("contains", "starts_with") and not isinstance(value, str):
            raise ValueError(f'op {op!r} needs a text value; quote it: "{value}"')
        elif op == "within_last":
            _check_duration(value)
        elif op in ("before", "after"):
            _parse_moment(value)
        return value


class Comparison(_Model):
    """Comparisons of a measured number; every one given must hold."""

    eq: Number | None = Field(None, alias="=", description="Equal to")
    ne: Number | None = Field(None, alias="!=", description="Not equal to")
    lt: Number | None = Field(None, alias="<", description="Less than")
    le: Number | None = Field(None, alias="<=", description="Less than or equal to")
    gt: Number | None = Field(None, alias=">", description="Greater than")
    ge: Number | None = Field(None, alias=">=", description="Greater than or equal to")
    between: tuple[Number, Number] | None = Field(None, description="[low, high], both inclusive")

    @model_validator(mode="after")
    def _at_least_one(self) -> Comparison:
        if not self.comparisons():
            raise ValueError("no comparison given; add one of =, !=, <, <=, >, >=, between")
        if self.between is not None and self.between[0] > self.between[1]:
            raise ValueError("between has low > high; write [low, high]")
        return self

    def comparisons(self) -> list[tuple[str, Any]]:
        """The given comparisons as ``(op, value)`` pairs."""
        ops = (
            ("=", self.eq),
            ("!=", self.ne),
            ("<", self.lt),
            ("<=", self.le),
            (">", self.gt),
            (">=", self.ge),
            ("between", self.between),
        )
        return [(op, v) for op, v in ops if v is not None]


class ColumnComparison(Comparison):
    """An aggregate of one activity column, compared."""

    of: str = Field(description="The activity column to aggregate")


class TimeComparison(_Model):
    """When the first or last matching activity happened; every bound given must hold."""

    before: Moment | None = Field(None, description="Earlier than a date, or than N days ago")
    after: Moment | None = Field(None, description="Later than a date, or than N days ago")
    within_last: Duration | None = Field(None, description="In the last N days or weeks")

    @model_validator(mode="after")
    def _at_least_one(self) -> TimeComparison:
        if self.before is None and self.after is None and self.within_last is None:
            raise ValueError("no time comparison given; add one of before, after, within_last")
        return self


class Window(_Model):
    """A time window over ``_time``, relative to the evaluation date or absolute."""

    within: Duration | None = Field(None, description="The last N days/weeks: as_of - N <= t")
    between: tuple[Duration, Duration] | None = Field(
        None, description="[90d, 30d]: from 90 days ago (incl.) until 30 days ago (excl.)"
    )
    since: DateLike | None = Field(None, description="From this date (inclusive)")
    until: DateLike | None = Field(None, description="Until this date (exclusive)")

    @model_validator(mode="after")
    def _one_kind(self) -> Window:
        kinds = [k for k in ("within", "between") if getattr(self, k) is not None]
        if self.since is not None or self.until is not None:
            kinds.append("since/until")
        if len(kinds) > 1:
            raise ValueError(f"two windows given ({' and '.join(kinds)}); keep one")
        if self.between is not None:
            far, near = (parse_duration(d) for d in self.between)
            if far <= near:
                raise ValueError(
                    "window between [far, near] has the shorter duration first; write the "
                    "longer one first, e.g. [90d, 30d]"
                )
        if (
            self.since is not None
            and self.until is not None
            and _as_datetime(self.since) >= _as_datetime(self.until)
        ):
            raise ValueError("since is not before until; swap them")
        return self


class _Activity(Window):
    where: list[FieldCondition] = Field(
        default_factory=list, description="Conditions on the activity's columns (all must hold)"
    )
    count: Comparison | None = Field(
        None, description="Number of matching rows; without any measure: at least one"
    )
    count_distinct: ColumnComparison | None = Field(
        None, description="Number of distinct values of a column (e.g. order_id)"
    )
    sum: ColumnComparison | None = Field(None, description="Sum of a numeric column")
    avg: ColumnComparison | None = Field(None, description="Average of a numeric column")
    min: ColumnComparison | None = Field(None, description="Smallest value of a numeric column")
    max: ColumnComparison | None = Field(None, description="Largest value of a numeric column")
    first_time: TimeComparison | None = Field(None, description="Time of the first match")
    last_time: TimeComparison | None = Field(None, description="Time of the last match")

    @property
    def table(self) -> str:
        raise NotImplementedError

    @model_serializer(mode="wrap")
    def _readable_order(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # the table key first, as users write it (pydantic puts inherited fields first)
        data: dict[str, Any] = handler(self)
        first = [k for k in ("performed", "not_performed", "where") if k in data]
        return {**{k: data[k] for k in first}, **data}

    def window(self) -> Window:
        return Window(within=self.within, between=self.between, since=self.since, until=self.until)

    def measures(self) -> list[tuple[str, ColumnComparison]]:
        """The column measures given, as ``(aggregate, comparison)``."""
        named = (
            ("count_distinct", self.count_distinct),
            ("sum", self.sum),
            ("avg", self.avg),
            ("min", self.min),
            ("max", self.max),
        )
        return [(name, m) for name, m in named if m is not None]


class Performed(_Activity):
    """Customers with matching activity (at least one row unless a measure says otherwise)."""

    performed: str = Field(description="Activity table: transactions, events, deals, ...")

    @property
    def table(self) -> str:
        return self.performed


class NotPerformed(_Activity):
    """The customers a ``performed`` condition with the same keys leaves out."""

    not_performed: str = Field(description="Activity table: transactions, events, deals, ...")

    @property
    def table(self) -> str:
        return self.not_performed


class SequenceStep(_Model):
    """One step of a sequence: a matching row of an activity table."""

    performed: str = Field(description="Activity table of this step")
    where: list[FieldCondition] = Field(
        default_factory=list, description="Conditions on the activity's columns"
    )


class Sequence(_Model):
    """Steps done in order, each strictly after and within ``within`` of the previous one."""

    sequence: list[SequenceStep] = Field(min_length=2, description="The steps, in order")
    within: Duration | None = Field(
        None, description="Longest gap from one step to the next (none: any time later)"
    )
    during: Window | None = Field(None, description="Window every step must fall in")


class InSegment(_Model):
    """Members of another segment (evaluated before this one)."""

    in_segment: str = Field(description="Name of the other segment")


class AllOf(_Model):
    """Every condition holds."""

    all_: list[Condition] = Field(alias="all", min_length=1, description="Conditions (AND)")


class AnyOf(_Model):
    """At least one condition holds."""

    any_: list[Condition] = Field(alias="any", min_length=1, description="Conditions (OR)")


class Not(_Model):
    """The customers of the base the condition leaves out."""

    not_: Condition = Field(alias="not", description="The negated condition")


_KINDS: dict[str, type[_Model]] = {
    "field": FieldCondition,
    "performed": Performed,
    "not_performed": NotPerformed,
    "sequence": Sequence,
    "in_segment": InSegment,
    "all": AllOf,
    "any": AnyOf,
    "not": Not,
}
_TAGS: dict[type[_Model], str] = {cls: cls.__name__ for cls in _KINDS.values()}
CONDITION_KEYS: tuple[str, ...] = tuple(_KINDS)


def _condition_tag(value: Any) -> str | None:
    if isinstance(value, BaseModel):
        return _TAGS.get(type(value))  # type: ignore[arg-type]
    if isinstance(value, dict):
        keys = [k for k in _KINDS if k in value]
        return _TAGS[_KINDS[keys[0]]] if len(keys) == 1 else None
    return None


Condition = Annotated[
    Union[  # noqa: UP007 -- the tagged members cannot be written with |
        Annotated[FieldCondition, Tag("FieldCondition")],
        Annotated[Performed, Tag("Performed")],
        Annotated[NotPerformed, Tag("NotPerformed")],
        Annotated[Sequence, Tag("Sequence")],
        Annotated[InSegment, Tag("InSegment")],
        Annotated[AllOf, Tag("AllOf")],
        Annotated[AnyOf, Tag("AnyOf")],
        Annotated[Not, Tag("Not")],
    ],
    Discriminator(
        _condition_tag,
        custom_error_type="condition",
        custom_error_message="not a condition",
    ),
]
Rule = FieldCondition | Performed | NotPerformed | Sequence | InSegment | AllOf | AnyOf | Not

for _cls in (AllOf, AnyOf, Not):
    _cls.model_rebuild()


class SegmentDefinition(_Model):
    """One rule segment of ``segmint.yaml``."""

    name: str = Field(
        json_schema_extra={"pattern": r"^[A-Za-z][A-Za-z0-9_-]*$"},
        description="Segment name: letters, digits, _ and -, starting with a letter",
    )
    description: str = Field("", description="What the segment is, in the user's words")
    rule: Condition = Field(description="The condition members satisfy")

    @field_validator("name")
    @classmethod
    def _plain_name(cls, name: str) -> str:
        if not _SEGMENT_NAME.match(name):
            raise ValueError(
                f"segment name {name!r} is not allowed; use letters, digits, _ and -, "
                f"starting with a letter (e.g. active_danes)"
            )
        return name


def _as_datetime(value: date) -> datetime:
    return value if isinstance(value, datetime) else datetime(value.year, value.month, value.day)
