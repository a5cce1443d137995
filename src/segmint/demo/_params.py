"""The planted truth: every parameter the demo data is drawn from.

Two scenarios, a Nordic retailer (B2C) and a wholesaler selling to companies (B2B),
share one structure.  Customers belong to latent *groups* with their own BG/NBD
purchase process (time unit: days), Gamma-Gamma spend, channel and category
preferences, engagement, NPS and campaign response; observable *churn drivers* add a
hazard of defecting at any time (per year, for a while after each driver starts).
Survey answers come from latent *needs classes* with item-response tables.  ``truth()``
of a scenario is the JSON that models are checked against.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

#: Needs survey: Likert items 1-5, answered independently given the needs class.
NEEDS_ITEMS: tuple[str, ...] = (
    "q_price",
    "q_quality",
    "q_sustainability",
    "q_convenience",
    "q_service",
    "q_brand",
    "q_online",
    "q_local",
)
#: P(answer = 1..5) at Low, Mid and High agreement.  Sharp enough that the classes can be
#: told apart from the eight answers: the Bayes classifier that knows these tables assigns
#: respondents with ARI about 0.95 (with the earlier, flatter tables (0.35, 0.35, 0.18,
#: 0.08, 0.04) / (0.08, 0.22, 0.40, 0.22, 0.08) / (0.02, 0.05, 0.13, 0.40, 0.40) no method
#: could pass 0.65).
_LIKERT = {
    "L": (0.60, 0.28, 0.08, 0.03, 0.01),
    "M": (0.03, 0.15, 0.64, 0.15, 0.03),
    "H": (0.01, 0.03, 0.08, 0.28, 0.60),
}
#: needs class -> level (Low/Mid/High agreement) per item, in NEEDS_ITEMS order.
NEEDS_CLASSES: dict[str, str] = {
    "price-conscious": "HMLMLLHL",
    "quality & brand": "LHMMHHMM",
    "green & local": "MHHLMLLH",
    "convenience seekers": "MMLHMMHL",
}


def needs_item_probs() -> dict[str, dict[str, list[float]]]:
    """P(answer = 1..5) per needs class and item."""
    return {
        cls: {item: list(_LIKERT[lvl]) for item, lvl in zip(NEEDS_ITEMS, levels, strict=True)}
        for cls, levels in NEEDS_CLASSES.items()
    }


#: devices of web visits and email opens, and traffic sources of web visits
DEVICES: tuple[str, ...] = ("desktop", "mobile", "tablet")
SOURCES: tuple[str, ...] = ("google", "facebook", "newsletter", "direct", "instagram", "linkedin")


@dataclass(frozen=True)
class Group:
    """One latent customer group and everything that differs between groups."""

    name: str
    r: float  # BG/NBD: purchase rate lambda ~ Gamma(shape r, rate alpha), per day
    alpha: float
    a: float  # BG/NBD: dropout probability p ~ Beta(a, b) (churn drivers add defection)
    b: float
    p: float  # Gamma-Gamma: spend ~ Gamma(shape p, rate nu), nu ~ Gamma(shape q, rate gamma)
    q: float
    gamma: float
    categories: tuple[float, ...]
    channels: tuple[float, ...]
    offline_only: float  # share who only ever buy in the offline channel
    email_consent: float
    email_open: float
    email_click: float  # given an open
    web_visits_per_year: float
    tickets_per_year: float
    nps: tuple[float, ...]  # P(NPS = 0..10)
    needs: tuple[float, ...]  # P(needs class), NEEDS_CLASSES order
    subscription: float
    campaign_baseline: float  # response probability without treatment
    campaign_effect: float  # added by treatment (plus the band effect)
    #: P(device) of the customer's web visits and email opens, in ``DEVICES`` order;
    #: None: by age band (B2C) or the wholesaler's fixed mix (B2B)
    devices: tuple[float, ...] | None = None
    #: P(traffic source) of the customer's web visits, in ``SOURCES`` order;
    #: None: the scenario's fixed mix
    sources: tuple[float, ...] | None = None


@dataclass(frozen=True)
class Scenario:
    """All planted parameters of one demo scenario."""

    kind: Literal["b2c", "b2b"]
    groups: tuple[Group, ...]
    band_name: str  # "age_band" or "size_band"
    bands: tuple[str, ...]
    group_by_band: tuple[tuple[float, ...], ...]  # P(group | band)
    band_effect: tuple[float, ...]  # campaign effect added per band
    countries: tuple[tuple[str, float], ...]
    categories: tuple[str, ...]
    products: tuple[tuple[str, ...], ...]  # per category
    favourite_weight: float  # share of a customer's orders in their favourite category
    channels: tuple[str, ...]
    offline_channel: str
    #: (driver, yearly defection hazard it adds, days it lasts from its start; None: for good)
    churn_drivers: tuple[tuple[str, float, float | None], ...]
    currency: str
    survey_share: float
    subscription_products: tuple[tuple[str, float], ...]
    campaign_name: str
    shop_url: str

    def truth(self) -> dict[str, Any]:
        """The planted parameters as JSON-serialisable data."""
        g = self.groups
        return {
            "groups": [x.name for x in g],
            "bgnbd": {x.name: {"r": x.r, "alpha": x.alpha, "a": x.a, "b": x.b} for x in g},
            "gamma_gamma": {x.name: {"p": x.p, "q": x.q, "gamma": x.gamma} for x in g},
            "group_by_band": {
                "band": self.band_name,
                "probabilities": {
                    band: dict(zip([x.name for x in g], row, strict=True))
                    for band, row in zip(self.bands, self.group_by_band, strict=True)
                },
            },
            "churn_drivers": {
                "scale": "yearly defection hazard a driver adds from its start, for "
                "window_days (null: for good)",
                "coefficients": {name: c for name, c, _ in self.churn_drivers},
                "window_days": {name: w for name, _, w in self.churn_drivers},
            },
            "categories": {
                "names": list(self.categories),
                "favourite_weight": self.favourite_weight,
                "group_probabilities": {
                    x.name: dict(zip(self.categories, x.categories, strict=True)) for x in g
                },
                "products": {
                    c: list(p) for c, p in zip(self.categories, self.products, strict=True)
                },
            },
            "channels": {
                "names": list(self.channels),
                "offline_channel": self.offline_channel,
                "group_probabilities": {
                    x.name: dict(zip(self.channels, x.channels, strict=True)) for x in g
                },
                "offline_only_share": {x.name: x.offline_only for x in g},
            },
            "engagement": {
                x.name: {
                    "email_consent": x.email_consent,
                    "email_open": x.email_open,
                    "email_click_given_open": x.email_click,
                    "web_visits_per_year": x.web_visits_per_year,
                    "service_tickets_per_year": x.tickets_per_year,
                    "subscription_share": x.subscription,
                    # None: by age band (B2C) or the wholesaler's fixed mix (B2B)
                    "devices": dict(zip(DEVICES, x.devices, strict=True)) if x.devices else None,
                    # None: the scenario's fixed mix
                    "sources": dict(zip(SOURCES, x.sources, strict=True)) if x.sources else None,
                }
                for x in g
            },
            "nps": {x.name: list(x.nps) for x in g},
            "needs": {
                "classes": list(NEEDS_CLASSES),
                "items": list(NEEDS_ITEMS),
                "levels": [1, 2, 3, 4, 5],
                "class_by_group": {
                    x.name: dict(zip(NEEDS_CLASSES, x.needs, strict=True)) for x in g
                },
                "item_probabilities": needs_item_probs(),
                "survey_share": self.survey_share,
            },
        }


def nps_distribution(detractor: float, passive: float) -> tuple[float, ...]:
    """P(NPS = 0..10) with the given shares of detractors (0-6) and passives (7-8)."""
    promoter = 1.0 - detractor - passive
    low = (0.05, 0.04, 0.05, 0.08, 0.10, 0.25, 0.43)
    return tuple(
        [detractor * w for w in low]
        + [passive * 0.45, passive * 0.55]
        + [promoter * 0.45, promoter * 0.55]
    )


@dataclass(frozen=True)
class Nace:
    """One industry (NACE rev. 2) in the B2B scenario."""

    code: str
    name: str
    word: str  # used in company names
    market_weight: float
    customer_weight: float
    revenue_per_employee: float  # DKK
    win_effect: float  # added to the deal win logit


NACE: tuple[Nace, ...] = (
    Nace("62.01", "Computerprogrammering", "Software", 3.0, 9.0, 1.4e6, 0.5),
    Nace("62.02", "Konsulentbistand vedr. informationsteknologi", "IT", 2.0, 6.0, 1.3e6, 0.4),
    Nace("70.22", "Virksomhedsrådgivning", "Consult", 4.0, 6.0, 1.2e6, 0.2),
    Nace("69.20", "Bogføring og revision", "Revision", 2.0, 4.0, 1.0e6, 0.1),
    Nace("41.20", "Opførelse af bygninger", "Byg", 4.0, 7.0, 1.8e6, 0.0),
    Nace("43.22", "VVS- og blikkenslagerforretninger", "VVS", 3.0, 5.0, 1.3e6, -0.1),
    Nace("46.90", "Ikke-specialiseret engroshandel", "Engros", 2.0, 6.0, 4.0e6, 0.3),
    Nace("47.11", "Supermarkeder og købmænd", "Købmand", 2.0, 4.0, 2.5e6, -0.3),
    Nace("56.10", "Restauranter", "Bistro", 4.0, 4.0, 0.7e6, -0.5),
    Nace("49.41", "Vejgodstransport", "Transport", 2.0, 4.0, 1.5e6, -0.2),
    Nace("86.21", "Almen lægepraksis", "Lægehus", 1.5, 2.0, 1.1e6, 0.0),
    Nace("25.62", "Maskinforarbejdning", "Maskinfabrik", 1.5, 3.0, 1.4e6, 0.1),
    Nace("68.20", "Udlejning af fast ejendom", "Ejendomme", 5.0, 2.0, 2.0e6, -0.4),
    Nace("73.11", "Reklamebureauer", "Reklame", 1.5, 3.0, 1.1e6, 0.2),
    Nace("10.71", "Fremstilling af brød", "Bageri", 0.8, 1.5, 0.9e6, -0.2),
)

#: Deal win probability: logistic(intercept + NACE effect + size-band effect).
WIN_INTERCEPT = -0.3
WIN_SIZE_EFFECT: tuple[float, ...] = (-0.4, 0.0, 0.3, 0.1)
#: ... plus the effect of the contact the deal is opened with, by the position of their title
#: in ``_b2b.TITLES`` (the same role in every country): managing director, head of purchasing,
#: finance, IT, marketing, sales, operations, buyer.  A deal's contact is one of the
#: company's contacts, drawn uniformly.
WIN_TITLE_EFFECT: tuple[float, ...] = (0.5, 0.9, 0.0, -0.3, -0.5, -0.2, -0.3, 0.4)
#: Share of all companies per size band, for the market table.
MARKET_SIZE_SHARE: tuple[float, ...] = (0.88, 0.09, 0.025, 0.005)
MARKET_COMPANIES = 1_200_000
