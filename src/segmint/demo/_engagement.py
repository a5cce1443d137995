"""Consents, survey answers, events and subscriptions of the demo customers.

The parts that drive churn (email consent, NPS, service tickets) are drawn before the
purchases; the parts that follow from behaviour (web visits stop some weeks after a
customer leaves, opens drop) are drawn after.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from segmint.demo import _arrow as ax
from segmint.demo._params import (
    DEVICES,
    NEEDS_CLASSES,
    NEEDS_ITEMS,
    SOURCES,
    Scenario,
    needs_item_probs,
)
from segmint.demo._places import ascii_name

CONSENT_CHANNELS: tuple[str, ...] = ("email", "sms", "profiling")
_CONSENT_RATE = {"sms": 0.35, "profiling": 0.55}  # email: per group
_WITHDRAW = 0.12  # of those who granted, share who withdraw later
_LATE_GRANT = 0.08  # of those who refused, share who grant later
_SOURCE_PROBS = {
    "b2c": (0.35, 0.15, 0.12, 0.25, 0.12, 0.01),
    "b2b": (0.35, 0.04, 0.10, 0.25, 0.01, 0.25),
}
TICKET_CHANNELS: tuple[str, ...] = ("phone", "email", "chat")
NEWSLETTER_SHARE = 0.22  # of consenting customers, share who get a given newsletter
EVENT_TYPES: tuple[str, ...] = (
    "email_send",
    "email_open",
    "email_click",
    "web_visit",
    "page_view",
    "service_ticket",
)


@dataclass(frozen=True)
class Base:
    """What every part needs to know about the customers."""

    scenario: Scenario
    epoch: np.datetime64
    t_end: float  # window length in days
    customer_ids: pa.Array
    group: np.ndarray
    band: np.ndarray
    t0: np.ndarray  # signup / first purchase, days since epoch

    @property
    def n(self) -> int:
        return len(self.t0)

    def param(self, name: str) -> np.ndarray:
        """A group parameter per customer."""
        return np.array([getattr(g, name) for g in self.scenario.groups])[self.group]

    def uniform_time(
        self, rng: np.random.Generator, start: np.ndarray, stop: np.ndarray
    ) -> np.ndarray:
        return start + rng.random(len(start)) * (stop - start)


@dataclass(frozen=True)
class Consents:
    """Consent history per customer and channel."""

    granted0: np.ndarray  # (n, channels) at signup
    change: np.ndarray  # (n, channels) bool: flipped once later
    change_day: np.ndarray  # (n, channels)
    table: pa.Table

    def final(self, channel: str) -> np.ndarray:
        c = CONSENT_CHANNELS.index(channel)
        return self.granted0[:, c] ^ self.change[:, c]

    def at(self, channel: str, day: float) -> np.ndarray:
        c = CONSENT_CHANNELS.index(channel)
        flipped = self.change[:, c] & (self.change_day[:, c] <= day)
        return self.granted0[:, c] ^ flipped

    def without(self, channel: str, t0: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Spells without consent on ``channel``: (customer, from day, to day; inf: for good).

        From signup until a late grant, or from a withdrawal on.
        """
        c = CONSENT_CHANNELS.index(channel)
        granted, change, day = self.granted0[:, c], self.change[:, c], self.change_day[:, c]
        who = np.flatnonzero(~granted | change)
        start = np.where(granted[who], day[who], t0[who])
        stop = np.where(~granted[who] & change[who], day[who], np.inf)
        return who, start, stop


def consents(rng: np.random.Generator, base: Base) -> Consents:
    n = base.n
    k = len(CONSENT_CHANNELS)
    rate = np.empty((n, k))
    rate[:, 0] = base.param("email_consent")
    for c, name in enumerate(CONSENT_CHANNELS[1:], start=1):
        rate[:, c] = _CONSENT_RATE[name]
    granted0 = rng.random((n, k)) < rate
    room = (base.t_end - base.t0) > 2.0
    change = (rng.random((n, k)) < np.where(granted0, _WITHDRAW, _LATE_GRANT)) & room[:, None]
    t0 = np.repeat(base.t0[:, None], k, axis=1)
    change_day = t0 + 1.0 + rng.random((n, k)) * (base.t_end - 1.0 - t0)
    cust = np.concatenate([np.repeat(np.arange(n), k), np.nonzero(change)[0]])
    chan = np.concatenate([np.tile(np.arange(k), n), np.nonzero(change)[1]])
    granted = np.concatenate([granted0.ravel(), ~granted0[change]])
    day = np.concatenate([t0.ravel(), change_day[change]])
    order = np.lexsort((day, cust))
    m = len(cust)
    table = ax.entity_table(
        "consents",
        {
            "customer_id": base.customer_ids.take(ax.indices(cust[order])),
            "channel": ax.take(CONSENT_CHANNELS, chan[order]),
            "granted": pa.array(granted[order]),
            "consent_time": ax.timestamps(base.epoch, day[order]),
        },
        m,
    )
    return Consents(granted0, change, change_day, table)


@dataclass(frozen=True)
class Survey:
    """Needs class of every customer; NPS and answers of those who responded."""

    needs_class: np.ndarray
    responded: np.ndarray
    nps: np.ndarray  # -1 where not responded
    day: np.ndarray  # day of the response (days since history start), nan where none
    table: pa.Table

    @property
    def low_nps(self) -> np.ndarray:
        return self.responded & (self.nps <= 6)


def survey(rng: np.random.Generator, base: Base) -> Survey:
    sc = base.scenario
    needs_table = np.array([g.needs for g in sc.groups])
    needs_class = ax.categorical_by(rng, needs_table, base.group)
    responded = rng.random(base.n) < sc.survey_share
    who = np.flatnonzero(responded)
    m = len(who)
    nps_table = np.array([g.nps for g in sc.groups])
    nps = np.full(base.n, -1, dtype=np.int64)
    nps[who] = ax.categorical_by(rng, nps_table, base.group[who])
    day = base.uniform_time(rng, base.t0[who], np.full(m, base.t_end))
    columns: dict[str, pa.Array] = {
        "response_id": ax.numbers(np.arange(1, m + 1), prefix="R"),
        "customer_id": base.customer_ids.take(ax.indices(who)),
        "response_date": ax.dates(base.epoch, day),
        "nps": pa.array(nps[who]),
    }
    probs = needs_item_probs()
    for item in NEEDS_ITEMS:
        table = np.array([probs[cls][item] for cls in NEEDS_CLASSES])
        columns[item] = pa.array(1 + ax.categorical_by(rng, table, needs_class[who]))
    answered = np.full(base.n, np.nan)
    answered[who] = day
    return Survey(
        needs_class, responded, nps, answered, ax.entity_table("survey_responses", columns, m)
    )


@dataclass
class EventParts:
    """Events collected as index arrays, turned into one table at the end."""

    customer: list[np.ndarray]
    day: list[np.ndarray]
    kind: list[np.ndarray]
    channel: list[np.ndarray]
    campaign: list[np.ndarray]
    source: list[np.ndarray]
    device: list[np.ndarray]
    url: list[np.ndarray]

    def add(self, customer: np.ndarray, day: np.ndarray, kind: str, **idx: np.ndarray) -> None:
        # small integer types: ten million events stay a few hundred megabytes
        n = len(customer)
        none = np.full(n, -1, dtype=np.int16)
        self.customer.append(customer.astype(np.int32))
        self.day.append(day)
        self.kind.append(np.full(n, EVENT_TYPES.index(kind), dtype=np.int16))
        for name in ("channel", "campaign", "source", "device", "url"):
            getattr(self, name).append(idx[name].astype(np.int16) if name in idx else none)


def email_events(
    rng: np.random.Generator,
    base: Base,
    parts: EventParts,
    customer: np.ndarray,
    day: np.ndarray,
    campaign: np.ndarray,
    alive_at: np.ndarray,
    device_probs: np.ndarray,
    device_key: np.ndarray,
) -> None:
    """Sends, and the opens and clicks that follow them (``device_probs[device_key[c]]``:
    customer c's P(device))."""
    parts.add(customer, day, "email_send", campaign=campaign)
    p_open = base.param("email_open")[customer] * np.where(alive_at, 1.0, 0.3)
    opened = rng.random(len(customer)) < p_open
    c, camp = customer[opened], campaign[opened]
    t_open = day[opened] + rng.exponential(0.25, len(c))
    dev = ax.categorical_by(rng, device_probs, device_key[c])
    parts.add(c, t_open, "email_open", campaign=camp, device=dev)
    clicked = rng.random(len(c)) < base.param("email_click")[c]
    t_click = t_open[clicked] + rng.exponential(0.002, int(clicked.sum()))
    parts.add(c[clicked], t_click, "email_click", campaign=camp[clicked], device=dev[clicked])


def newsletters(base: Base) -> tuple[list[str], list[str], np.ndarray]:
    """Monthly newsletters: ids, names and send days (the 5th at 09:00)."""
    start = base.epoch.astype("datetime64[M]")
    months = np.arange(start, start + int(base.t_end / 30.4) + 2)
    send = months.astype("datetime64[D]") + np.timedelta64(4, "D")
    days = (send - base.epoch.astype("datetime64[D]")).astype(float) + 9 / 24
    keep = days < base.t_end
    labels = [str(m) for m in months[keep]]
    return [f"NL-{x}" for x in labels], [f"Nyhedsbrev {x}" for x in labels], days[keep]


def web_and_tickets(
    rng: np.random.Generator,
    base: Base,
    parts: EventParts,
    active_until: np.ndarray,
    tickets: tuple[np.ndarray, np.ndarray],
    device_probs: np.ndarray,
    device_key: np.ndarray,
) -> None:
    """Web visits with their page views until some weeks after a customer leaves; tickets.

    ``tickets``: (customer, day) of each service ticket, drawn with the churn drivers.
    """
    sc = base.scenario
    stop = np.minimum(base.t_end, active_until + 60.0)
    visits = rng.poisson(base.param("web_visits_per_year") / 365.0 * (stop - base.t0))
    cust = ax.segment_ids(visits)
    day = base.uniform_time(rng, base.t0[cust], stop[cust])
    if all(g.sources for g in sc.groups):
        src = ax.categorical_by(rng, np.array([g.sources for g in sc.groups]), base.group[cust])
    else:
        src = ax.categorical(rng, np.array(_SOURCE_PROBS[sc.kind]), len(cust))
    dev = ax.categorical_by(rng, device_probs, device_key[cust])
    n_cat = len(sc.categories)
    landing = rng.integers(-1, n_cat, len(cust))  # -1: the front page
    parts.add(cust, day, "web_visit", source=src, device=dev, url=1 + landing)
    pages = rng.poisson(1.0, len(cust))
    owner = ax.segment_ids(pages)
    # at least a second between page views, so no two events of a visit are identical
    step = ax.segment_cumsum(1 / 86_400 + rng.exponential(45 / 86_400, len(owner)), pages)
    per_cat = np.array([len(p) for p in sc.products])
    cat = rng.integers(0, n_cat, len(owner))
    product = np.floor(rng.random(len(owner)) * per_cat[cat]).astype(np.int64)
    url = 1 + n_cat + (np.cumsum(per_cat) - per_cat)[cat] + product
    parts.add(
        cust[owner], day[owner] + step, "page_view", source=src[owner], device=dev[owner], url=url
    )

    tcust, tday = tickets
    chan = ax.categorical(rng, np.array([0.5, 0.35, 0.15]), len(tcust))
    parts.add(tcust, tday, "service_ticket", channel=chan)


def url_pool(scenario: Scenario) -> list[str]:
    """Front page, category pages, product pages: the ``url`` index space of web events."""
    shop = scenario.shop_url
    slugs = [ascii_name(c.replace(" & ", "-"), "DK") for c in scenario.categories]
    urls = [f"{shop}/"] + [f"{shop}/{s}" for s in slugs]
    base = 10000 if scenario.kind == "b2c" else 20000
    for c, (slug, names) in enumerate(zip(slugs, scenario.products, strict=True)):
        urls += [f"{shop}/{slug}/{base + 100 * (c + 1) + j + 1}" for j in range(len(names))]
    return urls


def events_table(base: Base, parts: EventParts, campaign_ids: list[str]) -> pa.Table:
    """All events in time order, ``event_id`` numbered in that order."""
    day = np.concatenate(parts.day)
    parts.day.clear()
    seconds = np.rint(day * 86_400).astype(np.int64)
    order = np.argsort(seconds, kind="stable")
    del seconds
    n = len(order)

    def col(values: list[np.ndarray], pool: list[str] | tuple[str, ...]) -> pa.Array:
        idx = np.concatenate(values)[order]
        values.clear()  # free each part as soon as its column is built
        return ax.take(pool, np.maximum(idx, 0), null=idx < 0)

    customer = np.concatenate(parts.customer)[order]
    parts.customer.clear()
    columns = {
        "event_id": ax.numbers(np.arange(1, n + 1), prefix="E"),
        "customer_id": base.customer_ids.take(ax.indices(customer)),
        "event_time": ax.timestamps(base.epoch, day[order]),
        "event_type": col(parts.kind, EVENT_TYPES),
        "channel": col(parts.channel, TICKET_CHANNELS),
        "campaign_id": col(parts.campaign, campaign_ids),
        "source": col(parts.source, SOURCES),
        "device": col(parts.device, DEVICES),
        "url": col(parts.url, url_pool(base.scenario)),
    }
    return ax.entity_table("events", columns, n)


def subscriptions(rng: np.random.Generator, base: Base, dropout_day: np.ndarray) -> pa.Table:
    """Loyalty memberships (B2C) or service agreements (B2B)."""
    sc = base.scenario
    start = base.t0 + rng.exponential(90.0, base.n)
    gone = np.where(np.isnan(dropout_day), np.inf, dropout_day)
    has = (rng.random(base.n) < base.param("subscription")) & (start < base.t_end) & (start < gone)
    who = np.flatnonzero(has)
    m = len(who)
    names, prices = zip(*sc.subscription_products, strict=True)
    weights = np.array([0.5, 0.35, 0.15][: len(names)])
    product = ax.categorical(rng, weights, m)
    leave = gone[who] + rng.exponential(45.0, m)
    quit_anyway = start[who] + rng.exponential(1500.0, m)
    end = np.minimum(leave, quit_anyway)
    active = end >= base.t_end
    columns = {
        "subscription_id": ax.numbers(np.arange(1, m + 1), prefix="SUB"),
        "customer_id": base.customer_ids.take(ax.indices(who)),
        "product": ax.take(names, product),
        "start_date": ax.dates(base.epoch, start[who]),
        "end_date": ax.dates(base.epoch, np.where(active, 0.0, end), null=active),
        "status": ax.take(["cancelled", "active"], active.astype(np.int64)),
        "monthly_amount": pa.array(np.array(prices, dtype=float)[product]),
    }
    return ax.entity_table("subscriptions", columns, m)
