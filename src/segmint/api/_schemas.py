"""Request and response models of the REST API (they make the OpenAPI spec precise)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Role = Literal["viewer", "analyst", "admin"]


class _Out(BaseModel):
    model_config = ConfigDict(extra="ignore")


class ErrorDetail(BaseModel):
    code: str = Field(description="Machine-readable kind: unauthorized, forbidden, not_found, ...")
    message: str = Field(description="What was wrong and how to fix it")
    field: str | None = Field(None, description="Path of the offending input (rule.all[1].op)")


class ErrorOut(BaseModel):
    error: ErrorDetail


# -- session ------------------------------------------------------------------------------
class SessionIn(BaseModel):
    """Log in with an API token, or with a user name and password."""

    model_config = ConfigDict(extra="forbid")
    token: str | None = Field(None, max_length=500)
    username: str | None = Field(None, max_length=100)
    password: str | None = Field(None, max_length=500)


class WhoAmI(_Out):
    name: str
    role: Role
    kind: Literal["token", "user"]


# -- project ------------------------------------------------------------------------------
class RunOut(_Out):
    run_id: str
    as_of: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    status: str
    customers: int | None = None
    segments: int | None = None
    seconds: float | None = None
    error: str | None = None


class SegmentSize(_Out):
    segment: str
    size: int
    entered: int
    exited: int


class RunDetail(RunOut):
    segment_sizes: list[SegmentSize]
    models: list[str | None]


class ReplicaOut(_Out):
    name: str
    run_id: str | None
    published_at: datetime | None
    customers: int = Field(description="Persons in the customer lookup table")


class StatusOut(_Out):
    project: str
    customers: int | None = Field(description="Customers at the last run")
    revenue_365d: float | None = Field(description="Their spend over the last 365 days")
    segments: int = Field(description="Rule segments defined in segmint.yaml")
    latest_run: RunOut | None
    replica: ReplicaOut


class TableOut(_Out):
    table: str
    rows: int


class LoadOut(_Out):
    load_id: str | None = None
    loaded_at: datetime | None = None
    table: str | None = None
    source: str | None = None
    file: str | None = None
    rows_in: int | None = None
    rows_loaded: int | None = None
    rows_quarantined: int | None = None
    rows_new: int | None = None
    rows_updated: int | None = None
    reasons: dict[str, int] = Field(default_factory=dict)


# -- segments -----------------------------------------------------------------------------
class SegmentOut(_Out):
    name: str
    kind: Literal["rule", "family"]
    description: str
    size: int | None
    entered: int | None
    exited: int | None
    evaluated: bool = Field(description="False until a run has evaluated the definition")


class SizeOverTime(_Out):
    run_id: str
    as_of: datetime | None = None
    segment: str
    size: int
    entered: int
    exited: int


class SegmentDetail(_Out):
    name: str
    definition: dict[str, Any] | None = Field(description="The rule segment's definition")
    sizes: list[SizeOverTime]


class SegmentIn(BaseModel):
    """A rule segment: the same definition as under ``segments:`` in segmint.yaml (the rule
    language is in docs/segments.md; its JSON Schema at /api/v1/schema/segment)."""

    name: str = Field(max_length=200)
    description: str = Field("", max_length=2000)
    rule: dict[str, Any]


class RuleIn(BaseModel):
    """A rule to count (``rule``), optionally as of a date."""

    rule: dict[str, Any]
    as_of: date | None = None


class ValidationOut(_Out):
    valid: bool
    errors: list[ErrorDetail]


class PreviewOut(_Out):
    count: int
    sample: list[str]
    as_of: datetime


class MembersPage(_Out):
    segment: str
    total: int = Field(description="Members matching q (all members without q)")
    offset: int
    limit: int
    items: list[dict[str, Any]] = Field(description="customer_id, name, place, value traits")


class FieldOut(_Out):
    name: str
    source: Literal["attribute", "trait"]
    type: str
    family: str = Field(description="text, number, date, boolean or other")
    ops: list[str] = Field(description="Operators that fit the field's type")


# -- customers ----------------------------------------------------------------------------
class HistoryEntry(_Out):
    run_id: str
    as_of: str | None = None
    segment: str
    customer_id: str
    change: Literal["entered", "exited"]


class CustomerOut(_Out):
    """What segmint knows about one person: every source record, the traits and scores of
    the last run, current segments and the history of entering and leaving them."""

    customer_id: str = Field(description="The person's id (the id asked for may be merged)")
    records: list[dict[str, Any]]
    traits: dict[str, Any]
    segments: list[str]
    history: list[HistoryEntry]


# -- exports ------------------------------------------------------------------------------
class DestinationOut(_Out):
    name: str
    kind: str
    segments: list[str] = Field(default_factory=list)
    mode: str | None = None
    channels: list[str] | None = None


class ExportIn(BaseModel):
    """Export a segment to a destination of segmint.yaml, or as an ad hoc file."""

    model_config = ConfigDict(extra="forbid")
    segment: str = Field(max_length=200)
    destination: str | None = Field(None, max_length=200, description="Destination name")
    format: Literal["csv", "xlsx", "parquet"] | None = Field(
        None, description="Ad hoc file format (instead of a destination)"
    )
    channels: list[str] | None = Field(
        None, description="Ad hoc: consent channels members must have (email, sms, ...)"
    )
    mode: Literal["full", "delta"] | None = None


class ExportJob(_Out):
    job_id: str
    segment: str
    destination: str | None
    format: str | None
    mode: str | None
    actor: str
    status: Literal["queued", "waiting for the store", "running", "done", "failed"]
    created_at: datetime
    finished_at: datetime | None = None
    error: str | None = None
    report: dict[str, Any] | None = None
    download: str | None = Field(None, description="URL of the produced file, when there is one")


# -- admin --------------------------------------------------------------------------------
class AuditEntry(_Out):
    id: int
    at: str
    actor: str
    role: str
    action: str
    target: str | None
    status: str
    detail: dict[str, Any] | None


class TokenOut(_Out):
    name: str
    role: Role
    created_at: str
    created_by: str | None = None
    last_used_at: str | None = None
    revoked_at: str | None = None


class TokenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100, pattern=r"^\S+$")
    role: Role


class NewToken(_Out):
    name: str
    role: Role
    token: str = Field(description="Shown once: only its SHA-256 is kept")


def finite(value: Any) -> Any:
    """``value`` with NaN and infinities as None (JSON has neither)."""
    if isinstance(value, float):
        return value if value == value and value not in (float("inf"), float("-inf")) else None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite(v) for v in value]
    return value
