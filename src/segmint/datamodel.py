"""The customer-centric data model: entities, their fields, keys and rules.

Every table a project loads is one of these entities, or a keyed ``external`` table
(postal code, CVR, market sizes) whose columns the user declares.  A field has a storage
type and, where it matters, a *check* that validation applies (an email, a phone number,
an organisation number, a value from a fixed set).  Columns a file brings that are not
fields of the entity are kept as they are ("extra" columns).

Each stored table carries bookkeeping columns:

``_key``
    the entity key as one string (``order_id|line_no``), used for idempotent loads;
``_source``
    the name of the source the row came from (by default the file name);
``_loaded_at``
    when the row was loaded;
``_row``
    the row number in its source file (1-based, header excluded), for explanations.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pyarrow as pa

from segmint.exceptions import UnknownTableError

FieldType = Literal["string", "integer", "float", "date", "timestamp", "boolean"]
Check = Literal[
    "email",
    "phone",
    "country",
    "org_number",
    "personal_number",
    "postal_code",
    "nace",
    "nps",
    "non_negative",
]

BOOKKEEPING_COLUMNS: tuple[str, ...] = ("_key", "_source", "_loaded_at", "_row")

#: Arrow storage type of each field type
ARROW_TYPES: dict[FieldType, pa.DataType] = {
    "string": pa.string(),
    "integer": pa.int64(),
    "float": pa.float64(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("us"),
    "boolean": pa.bool_(),
}


@dataclass(frozen=True)
class Field:
    """One field of an entity."""

    name: str
    type: FieldType
    required: bool = False
    check: Check | None = None
    allowed: tuple[str, ...] = ()
    default: str | None = None
    description: str = ""


@dataclass(frozen=True)
class Entity:
    """One table of the data model."""

    name: str
    key: tuple[str, ...]
    fields: tuple[Field, ...]
    description: str = ""
    #: the key is a hash of all mapped values when the file has no key column
    key_from_content: bool = False
    customer_field: str | None = "customer_id"
    #: records are kept per source (the key includes ``_source``), so identity resolution
    #: can merge what several systems know about one customer instead of overwriting it
    per_source: bool = False

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    @property
    def arrow_schema(self) -> pa.Schema:
        """The typed Arrow schema of the entity's fields."""
        return pa.schema([(f.name, ARROW_TYPES[f.type]) for f in self.fields])

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.required)


def _f(
    name: str,
    type: FieldType = "string",
    *,
    required: bool = False,
    check: Check | None = None,
    allowed: tuple[str, ...] = (),
    default: str | None = None,
    description: str = "",
) -> Field:
    return Field(name, type, required, check, allowed, default, description)


CUSTOMER_TYPES = ("person", "company")
CHANNELS_CONSENT = ("email", "sms", "phone", "post", "ads", "profiling")
EVENT_TYPES = (
    "email_send",
    "email_open",
    "email_click",
    "email_unsubscribe",
    "web_visit",
    "page_view",
    "app_session",
    "service_ticket",
    "sms_send",
    "sms_click",
)
DEAL_STAGES = ("open", "won", "lost")
CAMPAIGN_ARMS = ("treatment", "control")

ENTITIES: dict[str, Entity] = {
    e.name: e
    for e in (
        Entity(
            "customers",
            key=("customer_id",),
            per_source=True,
            description="A customer: a person (B2C) or a company (B2B).",
            fields=(
                _f("customer_id", required=True, description="Your customer number"),
                _f("customer_type", allowed=CUSTOMER_TYPES, default="person"),
                _f("first_name"),
                _f("last_name"),
                _f("company_name", description="Company name (B2B)"),
                _f("email", check="email"),
                _f("phone", check="phone", description="Normalised to E.164"),
                _f("birth_date", "date"),
                _f("gender"),
                _f("address"),
                _f("postal_code", check="postal_code"),
                _f("city"),
                _f("region"),
                _f("country", check="country", description="ISO 3166 alpha-2"),
                _f("household_id"),
                _f("signup_date", "date", description="When the customer relationship began"),
                _f("org_number", check="org_number", description="CVR / orgnr (B2B)"),
                _f("personal_number", check="personal_number", description="CPR/personnummer"),
                _f("nace_code", check="nace", description="Industry code (NACE rev. 2)"),
                _f("employees", "integer", check="non_negative"),
                _f("revenue", "float", check="non_negative"),
                _f("owner", description="Responsible salesperson"),
            ),
        ),
        Entity(
            "contacts",
            key=("contact_id",),
            per_source=True,
            customer_field="company_id",
            description="A person at a company customer (B2B).",
            fields=(
                _f("contact_id", required=True),
                _f("company_id", required=True, description="customer_id of the company"),
                _f("first_name"),
                _f("last_name"),
                _f("email", check="email"),
                _f("phone", check="phone"),
                _f("title"),
                _f("department"),
            ),
        ),
        Entity(
            "transactions",
            key=("order_id", "line_no"),
            description="Orders and order lines.",
            fields=(
                _f("order_id", required=True),
                _f("line_no", "integer", default="1"),
                _f("customer_id", required=True),
                _f("order_date", "timestamp", required=True),
                _f("product_id"),
                _f("product_name"),
                _f("category"),
                _f("quantity", "float", default="1"),
                _f("amount", "float", required=True, description="Line amount incl. VAT"),
                _f("currency"),
                _f("channel", description="webshop, store, app, phone, ..."),
                _f("store_id"),
            ),
        ),
        Entity(
            "events",
            key=("event_id",),
            key_from_content=True,
            description="Web visits, email sends/opens/clicks, app use, service tickets.",
            fields=(
                _f("event_id"),
                _f("customer_id", required=True),
                _f("event_time", "timestamp", required=True),
                _f("event_type", required=True),
                _f("channel"),
                _f("campaign_id"),
                _f("source", description="Traffic source: google, facebook, newsletter, ..."),
                _f("device", description="desktop, mobile, tablet"),
                _f("url"),
            ),
        ),
        Entity(
            "subscriptions",
            key=("subscription_id",),
            description="Subscriptions and memberships.",
            fields=(
                _f("subscription_id", required=True),
                _f("customer_id", required=True),
                _f("product"),
                _f("start_date", "date", required=True),
                _f("end_date", "date"),
                _f("status"),
                _f("monthly_amount", "float", check="non_negative"),
            ),
        ),
        Entity(
            "survey_responses",
            key=("response_id",),
            key_from_content=True,
            description="One row per answered survey; answers are extra columns.",
            fields=(
                _f("response_id"),
                _f("customer_id", required=True),
                _f("survey_id"),
                _f("response_date", "date", required=True),
                _f("nps", "integer", check="nps"),
            ),
        ),
        Entity(
            "consents",
            key=("customer_id", "channel", "consent_time"),
            description="Permission (or its withdrawal) per customer and channel.",
            fields=(
                _f("customer_id", required=True),
                _f("channel", required=True, allowed=CHANNELS_CONSENT),
                _f("granted", "boolean", required=True),
                _f("consent_time", "timestamp", required=True),
                _f("source"),
            ),
        ),
        Entity(
            "campaigns",
            key=("campaign_id",),
            customer_field=None,
            description="Marketing campaigns.",
            fields=(
                _f("campaign_id", required=True),
                _f("name"),
                _f("channel"),
                _f("start_date", "date"),
                _f("end_date", "date"),
                _f("description"),
            ),
        ),
        Entity(
            "campaign_contacts",
            key=("campaign_id", "customer_id"),
            description="Who a campaign targeted, treated or held out, and the response.",
            fields=(
                _f("campaign_id", required=True),
                _f("customer_id", required=True),
                _f("arm", required=True, allowed=CAMPAIGN_ARMS),
                _f("contact_date", "date"),
                _f("responded", "boolean"),
                _f("response_value", "float"),
            ),
        ),
        Entity(
            "deals",
            key=("deal_id",),
            description="B2B opportunities, won, lost or open.",
            fields=(
                _f("deal_id", required=True),
                _f("customer_id", required=True),
                _f("contact_id", description="the contact the deal was opened with"),
                _f("created_date", "date", required=True),
                _f("closed_date", "date"),
                _f("stage", required=True, allowed=DEAL_STAGES),
                _f("amount", "float", check="non_negative"),
                _f("product"),
                _f("owner"),
            ),
        ),
    )
}


def entity(name: str) -> Entity:
    """The entity called ``name``; a clear error listing the entities otherwise."""
    try:
        return ENTITIES[name]
    except KeyError:
        known = ", ".join(ENTITIES)
        raise UnknownTableError(
            f"unknown table {name!r}: use one of {known}, or declare an external table "
            f"under 'external:' in segmint.yaml"
        ) from None


def external_entity(name: str, key: tuple[str, ...]) -> Entity:
    """A keyed external table: only its key columns are required; all others are kept."""
    return Entity(
        name,
        key=key,
        fields=tuple(_f(k, required=True) for k in key),
        customer_field=None,
        description=f"External table keyed by {', '.join(key)}",
    )
