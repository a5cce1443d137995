"""What traits exist: the built-in catalogue, the customer attributes, declared traits.

:data:`BUILTIN_TRAITS` documents every built-in trait (name, type, meaning, and what a
customer without the underlying data gets); ``docs/traits.md`` is generated from it and a
test keeps the two equal.  :func:`trait_catalog` lists every name a segment rule may use
(attributes and traits share one namespace) for name checks and did-you-mean hints.

Only the standard library is imported here: the catalogue is read while validating
``segmint.yaml``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from collections.abc import Sequence

    from segmint.traits._config import TraitsConfig

TraitType = Literal["number", "integer", "string", "date", "boolean"]
ActivityName = Literal[
    "transactions",
    "events",
    "subscriptions",
    "survey_responses",
    "consents",
    "campaign_contacts",
    "deals",
]
#: activity table -> the column that becomes its ``_time``
ACTIVITY_TIME: dict[str, str] = {
    "transactions": "order_date",
    "events": "event_time",
    "subscriptions": "start_date",
    "survey_responses": "response_date",
    "consents": "consent_time",
    "campaign_contacts": "contact_date",
    "deals": "created_date",
}
ACTIVITY_TABLES: tuple[str, ...] = tuple(ACTIVITY_TIME)
#: the placeholder a windowed trait name carries for each configured window
WINDOW_PLACEHOLDER = "<w>"


@dataclass(frozen=True)
class BuiltinTrait:
    """One built-in trait, as documented in docs/traits.md."""

    name: str
    type: TraitType
    source: str
    description: str
    #: what a customer without the underlying rows gets: "0", "false" or "null"
    empty: Literal["0", "false", "null"]

    @property
    def windowed(self) -> bool:
        """One trait per configured window (``orders_<w>`` -> orders_30d, orders_90d, ...)."""
        return WINDOW_PLACEHOLDER in self.name

    def names(self, windows: Sequence[str]) -> list[str]:
        """The concrete trait names for the configured windows."""
        if not self.windowed:
            return [self.name]
        return [self.name.replace(WINDOW_PLACEHOLDER, w) for w in windows]


def _t(
    name: str,
    type: TraitType,
    source: str,
    description: str,
    empty: Literal["0", "false", "null"] = "null",
) -> BuiltinTrait:
    return BuiltinTrait(name, type, source, description, empty)


BUILTIN_TRAITS: tuple[BuiltinTrait, ...] = (
    # -- purchases ------------------------------------------------------------------------
    _t("recency_days", "integer", "transactions",
       "Days from the date of the last order to the as-of date"),
    _t("frequency", "integer", "transactions", "Number of orders (distinct order_id)", "0"),
    _t("monetary", "number", "transactions", "Total amount of all order lines", "0"),
    _t("avg_order_value", "number", "transactions", "monetary / frequency"),
    _t("first_purchase", "date", "transactions", "Time of the first order"),
    _t("last_purchase", "date", "transactions", "Time of the last order"),
    _t("tenure_days", "integer", "customers",
       "Days since signup_date (when before the as-of date), else since the first order"),
    _t("mean_interpurchase_days", "number", "transactions",
       "Days from the first to the last order date divided by (frequency - 1); "
       "null with fewer than 2 orders"),
    _t("orders_<w>", "integer", "transactions", "Orders in the window <w>", "0"),
    _t("spend_<w>", "number", "transactions", "Amount of order lines in the window <w>", "0"),
    _t("distinct_categories", "integer", "transactions",
       "Number of distinct (non-empty) categories bought", "0"),
    _t("top_category", "string", "transactions",
       "Category bought in the most orders; ties: higher spend, then name A-Z"),
    _t("spend_share_top_category", "number", "transactions",
       "Share (0-1) of monetary spent in top_category; null when monetary is 0"),
    _t("top_channel", "string", "transactions",
       "Channel of the most orders; ties: higher spend, then name A-Z"),
    _t("distinct_channels", "integer", "transactions",
       "Number of distinct (non-empty) channels ordered in (1: single-channel)", "0"),
    # -- engagement -----------------------------------------------------------------------
    _t("email_sends_<w>", "integer", "events", "email_send events in the window <w>", "0"),
    _t("email_opens_<w>", "integer", "events", "email_open events in the window <w>", "0"),
    _t("email_clicks_<w>", "integer", "events", "email_click events in the window <w>", "0"),
    _t("open_rate_90d", "number", "events",
       "email_open / email_send events in the last 90 days (above 1 when mails are opened "
       "repeatedly); null without sends"),
    _t("web_visits_<w>", "integer", "events", "web_visit events in the window <w>", "0"),
    _t("service_tickets_<w>", "integer", "events",
       "service_ticket events in the window <w>", "0"),
    _t("top_device", "string", "events", "Device of the most events; ties: name A-Z"),
    _t("top_source", "string", "events", "Traffic source of the most events; ties: name A-Z"),
    # -- surveys, subscriptions, consent ---------------------------------------------------
    _t("nps_last", "integer", "survey_responses",
       "NPS (0-10) of the latest survey response that has one"),
    _t("subscription_active", "boolean", "subscriptions",
       "A subscription started before the as-of date and not ended by it", "false"),
    _t("subscription_monthly_amount", "number", "subscriptions",
       "Sum of monthly_amount of the active subscriptions", "0"),
    _t("consent_email", "boolean", "consents",
       "Latest email consent record: granted or withdrawn (a withdrawal wins a tie); "
       "null when never asked"),
    _t("consent_sms", "boolean", "consents", "As consent_email, for SMS"),
    _t("consent_profiling", "boolean", "consents", "As consent_email, for profiling"),
    # -- person and B2B --------------------------------------------------------------------
    _t("age", "integer", "customers",
       "Whole years from birth_date to the as-of date; null when unknown or not yet born"),
    _t("deals_won_365d", "integer", "deals",
       "Deals won with closed_date in the last 365 days", "0"),
    _t("deals_lost_365d", "integer", "deals",
       "Deals lost with closed_date in the last 365 days", "0"),
    _t("last_deal_days", "integer", "deals",
       "Days from the creation date of the latest deal to the as-of date"),
)  # fmt: skip


@dataclass(frozen=True)
class TraitInfo:
    """A name a segment rule may use: an attribute, a built-in or a declared trait."""

    name: str
    type: TraitType
    description: str
    #: the table the value comes from (``customers`` for attributes)
    source: str
    kind: Literal["attribute", "builtin", "declared"]


def builtin_trait_names(windows: Sequence[str]) -> list[str]:
    """Every built-in trait name for the configured windows, in catalogue order."""
    return [n for t in BUILTIN_TRAITS for n in t.names(windows)]


_ATTRIBUTE_TYPES: dict[str, TraitType] = {
    "string": "string",
    "integer": "integer",
    "float": "number",
    "date": "date",
    "timestamp": "date",
    "boolean": "boolean",
}


def attribute_names() -> list[str]:
    """Customer attributes in the customer base (the ``customers`` fields but customer_id)."""
    from segmint.datamodel import ENTITIES

    return [f.name for f in ENTITIES["customers"].fields if f.name != "customer_id"]


def field_type(table: str, column: str) -> TraitType | None:
    """The trait type of a data-model field, None when the column is not a field."""
    from segmint.datamodel import ENTITIES

    entity = ENTITIES.get(table)
    if entity is None or column not in entity.field_names:
        return None
    return _ATTRIBUTE_TYPES[entity.field(column).type]


_AGGREGATE_TYPES: dict[str, TraitType] = {
    "count": "integer",
    "count_distinct": "integer",
    "sum": "number",
    "avg": "number",
    "share": "number",
    "first_time": "date",
    "last_time": "date",
    "days_since_last": "integer",
    "days_since_first": "integer",
}


def trait_catalog(config: TraitsConfig) -> dict[str, TraitInfo]:
    """Every attribute and trait name of the customer base, with type and description.

    Parameters
    ----------
    config
        The project's trait settings (declared traits and built-in windows).

    Returns
    -------
    dict[str, TraitInfo]
        Name -> info, attributes first, then built-in and declared traits.
    """
    from segmint.datamodel import ENTITIES

    out: dict[str, TraitInfo] = {}
    for f in ENTITIES["customers"].fields:
        if f.name != "customer_id":
            out[f.name] = TraitInfo(
                f.name, _ATTRIBUTE_TYPES[f.type], f.description, "customers", "attribute"
            )
    for b in BUILTIN_TRAITS:
        windows = config.windows if b.windowed else [""]
        for name, window in zip(b.names(config.windows), windows, strict=True):
            text = b.description.replace(WINDOW_PLACEHOLDER, window)
            out[name] = TraitInfo(name, b.type, text, b.source, "builtin")
    for d in config.declared:
        kind: TraitType
        if d.aggregate in _AGGREGATE_TYPES:
            kind = _AGGREGATE_TYPES[d.aggregate]
        else:  # min / max keep the column's type; an extra column is most often a number
            kind = field_type(d.source, d.of or "") or "number"
        text = (
            d.description
            or f"{d.aggregate} of {d.of or 'rows'} in {d.source} {d.window.describe()}"
        )
        out[d.name] = TraitInfo(d.name, kind, text, d.source, "declared")
    return out
