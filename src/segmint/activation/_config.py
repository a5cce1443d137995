"""Settings of activation in ``segmint.yaml``: ``destinations`` and ``consent``.

Each destination is one entry of a list, with a ``kind`` that picks its plugin; the keys a
kind does not use are ignored by it (and say so in their description).  Secrets (the
webhook's signing key, a database password) never live in the file: it names the
environment variable that holds them.
"""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Channel = Literal["email", "sms", "phone", "post", "ads", "profiling"]
CHANNELS: tuple[Channel, ...] = ("email", "sms", "phone", "post", "ads", "profiling")

DestinationKind = Literal[
    "csv",
    "xlsx",
    "parquet",
    "hubspot_contacts",
    "hubspot_companies",
    "salesforce_leads",
    "crm_mapping",
    "linkedin_companies",
    "linkedin_contacts",
    "meta_audience",
    "google_audience",
    "webhook",
    "postgres",
]

#: the consent channel a kind needs when the destination does not say
DEFAULT_CHANNELS: dict[str, list[Channel]] = {
    "hubspot_contacts": ["email"],
    "hubspot_companies": ["email"],
    "salesforce_leads": ["email"],
    "linkedin_companies": ["ads"],
    "linkedin_contacts": ["ads"],
    "meta_audience": ["ads"],
    "google_audience": ["ads"],
}

#: every kind that writes a file: all but the webhook and the database table
FILE_KINDS = frozenset(get_args(DestinationKind)) - {"webhook", "postgres"}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class DestinationConfig(_Model):
    """One place segments go: a file format, a CRM import file, an ad audience file, a
    webhook or a database table (docs/activation.md)."""

    name: str = Field(description="Destination name, used by 'segmint export SEGMENT --to NAME'")
    kind: DestinationKind = Field(description="Format or system (docs/activation.md)")
    segments: list[str] = Field(
        default_factory=list, description="Segments 'segmint run' syncs here after publishing"
    )
    mode: Literal["full", "delta"] = Field(
        "full", description="full: every member each time; delta: entered/exited since last sync"
    )
    channels: list[Channel] | None = Field(
        None,
        description=(
            "Consent channels a member must have granted to be exported; ad audiences default "
            "to [ads], CRM files to [email]; other kinds must say"
        ),
    )
    path: str | None = Field(
        None,
        description=(
            "Output file (file kinds), relative to the project; may use {segment}, {date}, "
            "{destination}. Default: exports/{destination}/{segment}-{date}.<ext>"
        ),
    )
    delimiter: Literal[",", ";", "\t"] = Field(",", description="CSV field separator")
    encoding: Literal["utf-8", "utf-8-sig", "cp1252", "latin-1"] = Field(
        "utf-8", description="CSV encoding; utf-8-sig or cp1252 for Excel"
    )
    columns: dict[str, str] = Field(
        default_factory=dict,
        description="crm_mapping: output column -> field; csv/xlsx/parquet: a subset to write",
    )
    default_country: str = Field(
        "DK", description="Country (ISO alpha-2) of phone numbers written without +prefix"
    )
    url: str | None = Field(None, description="webhook: the URL batches are POSTed to")
    secret_env: str = Field(
        "SEGMINT_WEBHOOK_SECRET",
        description="webhook: environment variable holding the HMAC-SHA256 signing key",
    )
    batch_size: int = Field(500, ge=1, le=100_000, description="webhook: records per batch")
    max_attempts: int = Field(6, ge=1, le=20, description="webhook: tries per batch")
    backoff_seconds: float = Field(
        1.0, ge=0, description="webhook: first retry wait; doubled on each further try"
    )
    timeout_seconds: float = Field(10.0, gt=0, description="webhook: per-request timeout")
    dsn_env: str = Field(
        "SEGMINT_POSTGRES_DSN",
        description="postgres: environment variable holding the connection string",
    )
    table: str | None = Field(None, description="postgres: target table (default: segmint_<name>)")

    @field_validator("name")
    @classmethod
    def _plain_name(cls, name: str) -> str:
        if not name or not all(c.isalnum() or c in "_-" for c in name):
            raise ValueError(f"destination name {name!r}: use letters, digits, '_' and '-'")
        return name

    @model_validator(mode="after")
    def _kind_settings(self) -> DestinationConfig:
        if self.kind == "webhook" and not self.url:
            raise ValueError(f"destination {self.name!r} (webhook) needs a url")
        if self.kind == "crm_mapping" and not self.columns:
            raise ValueError(
                f"destination {self.name!r} (crm_mapping) needs columns: OUTPUT COLUMN: field"
            )
        if self.channels is None and self.kind not in DEFAULT_CHANNELS:
            raise ValueError(
                f"destination {self.name!r}: say which consent channel(s) its members must "
                f"have granted, e.g. channels: [email]"
            )
        return self

    def consent_channels(self) -> list[Channel]:
        return list(self.channels if self.channels is not None else DEFAULT_CHANNELS[self.kind])


class SuppressionList(_Model):
    """A file of identifiers nobody may be contacted at (a national opt-out register export,
    a complaints list): one value per line, or a CSV with a header."""

    name: str = Field(description="Shown in export reports: suppressed by this list")
    path: str = Field(description="File path, relative to the project")
    kind: Literal["auto", "email", "phone", "org_number"] = Field(
        "auto",
        description=(
            "What the values are; auto: a header names the columns (email, phone, org_number/"
            "cvr), else values with @ are emails and the rest phones"
        ),
    )
    default_country: str = Field("DK", description="Country of phones and org numbers")


class ConsentConfig(_Model):
    """Who may be exported: channel consents, opt-out lists, do-not-contact flags."""

    require_granted: bool = Field(
        True,
        description=(
            "A member needs a granted consent for the destination's channels; false: only a "
            "withdrawn consent suppresses"
        ),
    )
    do_not_contact_columns: list[str] = Field(
        default_factory=lambda: ["do_not_contact"],
        description="Columns of customers (extra columns) whose true/yes/1/x suppresses",
    )
    suppression_lists: list[SuppressionList] = Field(
        default_factory=list, description="Opt-out files matched on email, phone and org number"
    )
