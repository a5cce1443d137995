"""Generate a synthetic Nordic customer base whose truth is known.

:func:`generate` draws every table of the data model for a retailer (B2C) or a
wholesaler (B2B) from the parameters in :mod:`segmint.demo._params`, and returns them with
the planted parameters (``truth``) and each customer's latent draws (``customer_truth``),
so that models fitted on the tables can be checked against what was planted.  The retailer
also gets the webshop's own account list (``accounts``, a second source of customers) and
the identity truth of every customer record (``identity_truth``, ``truth["identity"]``).

Every step is vectorised over customers (numpy draws, Arrow string kernels); each part
draws from its own random stream, derived from the seed and the part's name, so the
same seed gives identical tables.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from segmint.demo import (
    _accounts,
    _b2b,
    _campaign,
    _defection,
    _engagement,
    _people,
    _purchases,
    _wallet,
)
from segmint.demo import _arrow as ax
from segmint.demo import _names as nm
from segmint.demo._params import NEEDS_CLASSES, Scenario
from segmint.demo._places import STORES
from segmint.demo._scenarios import B2B, B2C

HISTORY_START = np.datetime64("2022-01-01")
OBSERVATION_END = np.datetime64("2026-09-30")  # last day of the window, included
CAMPAIGN_START = np.datetime64("2026-09-01")
CAMPAIGN_END = np.datetime64("2026-09-21")
#: window length in days: from the start of HISTORY_START to the end of OBSERVATION_END
T_END = float((OBSERVATION_END + 1 - HISTORY_START).astype(int))
SIGNUP_GROWTH = 1.0  # signups per day grow linearly to (1 + growth) times the first day's
TRUTH_JSON = "truth.json"
TRUTH_PARQUET = "truth_customers.parquet"
TRUTH_IDENTITY_PARQUET = "truth_identity.parquet"
_STREAMS = (
    "signup",
    "people",
    "groups",
    "consents",
    "survey",
    "drivers",
    "latents",
    "purchases",
    "shopping",
    "orders",
    "newsletters",
    "campaign",
    "web",
    "subscriptions",
    "market",
    "companies",
    "contacts",
    "deals",
    "campaign_email",
    "accounts",
    "wallet",
    "deal_contacts",
    "defection",  # appended: the streams before keep their seeds
)
_DEVICE_BY_AGE = (
    (0.15, 0.80, 0.05),
    (0.30, 0.60, 0.10),
    (0.40, 0.45, 0.15),
    (0.50, 0.30, 0.20),
    (0.55, 0.20, 0.25),
)
_DEVICE_B2B = (0.65, 0.30, 0.05)


@dataclass
class DemoData:
    """Generated tables and the truth they were drawn from.

    Attributes
    ----------
    tables
        Entity name -> table with exactly the datamodel's fields (survey answers as
        extra columns), plus ``market_households`` and, for B2B, ``market_companies``.
    truth
        The planted parameters, JSON-serialisable.
    customer_truth
        One row per customer: latent group, needs class, BG/NBD and Gamma-Gamma draws,
        churn drivers, campaign baseline and CATE.
    timings
        Seconds spent per generation step (for the benchmark).
    accounts
        B2C: the webshop's own accounts, a second source of ``customers`` (datamodel
        fields, values as ingest stores them); not part of ``tables["customers"]``, which
        is the CRM.  ``None`` for B2B.
    identity_truth
        One row per customer record of either source: which person it really is
        (``true_person``), its household, and what kind of record it is; the pairs the
        linking rules are expected to merge are in ``truth["identity"]``.
    """

    tables: dict[str, pa.Table]
    truth: dict[str, Any]
    customer_truth: pa.Table
    timings: dict[str, float] = field(default_factory=dict)
    accounts: pa.Table | None = None
    identity_truth: pa.Table | None = None

    def save_truth(self, folder: Path) -> None:
        """Write ``truth.json``, ``truth_customers.parquet`` and ``truth_identity.parquet``."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        text = json.dumps(self.truth, indent=2, ensure_ascii=False)
        (folder / TRUTH_JSON).write_text(text + "\n", encoding="utf-8")
        pq.write_table(self.customer_truth, folder / TRUTH_PARQUET)
        if self.identity_truth is not None:
            pq.write_table(self.identity_truth, folder / TRUTH_IDENTITY_PARQUET)


def load_truth(folder: Path) -> tuple[dict[str, Any], pa.Table]:
    """Read back what :meth:`DemoData.save_truth` wrote."""
    folder = Path(folder)
    truth = json.loads((folder / TRUTH_JSON).read_text(encoding="utf-8"))
    return truth, pq.read_table(folder / TRUTH_PARQUET)


def load_identity_truth(folder: Path) -> pa.Table:
    """Read back ``truth_identity.parquet`` (one row per customer record)."""
    return pq.read_table(Path(folder) / TRUTH_IDENTITY_PARQUET)


def _signups(rng: np.random.Generator, n: int) -> np.ndarray:
    """First-purchase times (days), sorted, with a linearly growing signup rate."""
    g = SIGNUP_GROWTH
    c = rng.random(n) * T_END * (1 + g / 2)
    t0 = (np.sqrt(1 + 2 * g * c / T_END) - 1) * T_END / g
    return np.sort(np.minimum(t0, T_END - 1e-3))


def generate(
    n_customers: int = 50_000,
    seed: int = 0,
    b2b: bool = False,
    *,
    dropout_at_first_purchase: bool = False,
) -> DemoData:
    """Generate the demo data set.

    Parameters
    ----------
    n_customers
        Number of customers (people, or companies with ``b2b``).
    seed
        Random seed; the same seed gives identical tables and truth.
    b2b
        A wholesaler selling to companies instead of a retailer selling to people.
    dropout_at_first_purchase
        ``False`` (the default): the original BG/NBD, where dropout follows repeat
        purchases only, so that a BG/NBD fit recovers the planted ``(r, alpha, a, b)``.
        ``True``: MBG/NBD, where a customer may drop out right after the first purchase.
    """
    if n_customers < 1:
        raise ValueError(f"n_customers must be at least 1, got {n_customers}")
    sc: Scenario = B2B if b2b else B2C
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[name] = now - clock
        clock = now

    def rng(stream: str) -> np.random.Generator:
        return np.random.default_rng([seed, _STREAMS.index(stream)])

    n = n_customers
    t0 = _signups(rng("signup"), n)
    ids = ax.numbers(np.arange(100_001, 100_001 + n))
    tables: dict[str, pa.Table] = {}
    if b2b:
        comp = _b2b.companies(rng("companies"), sc, ids)
        tables["customers"], country, band = comp.table, comp.country, comp.band
        devices = np.tile(np.array(_DEVICE_B2B), (len(sc.bands), 1))
    else:
        ppl = _people.people(rng("people"), sc, ids, t0, HISTORY_START, OBSERVATION_END)
        tables["customers"], country, band = ppl.table, ppl.country, ppl.band
        devices = np.array(_DEVICE_BY_AGE)
    group = ax.categorical_by(rng("groups"), np.array(sc.group_by_band), band)
    # the device of a customer's events: by group where the groups plant one, else by band
    device_key = band
    if all(g.devices for g in sc.groups):
        devices, device_key = np.array([g.devices for g in sc.groups]), group
    base = _engagement.Base(sc, HISTORY_START, T_END, ids, group, band, t0)
    accounts = (
        None
        if b2b
        else _accounts.webshop_accounts(
            rng("accounts"), sc, tables["customers"], HISTORY_START, OBSERVATION_END
        )
    )
    lap("customers")

    consents = _engagement.consents(rng("consents"), base)
    survey = _engagement.survey(rng("survey"), base)
    r = rng("drivers")
    offline_only = r.random(n) < base.param("offline_only")
    ticket_count = r.poisson(base.param("tickets_per_year") / 365.0 * (T_END - t0))
    ticket_owner = ax.segment_ids(ticket_count)
    ticket_day = base.uniform_time(r, t0[ticket_owner], np.full(len(ticket_owner), T_END))
    offline_name = f"{sc.offline_channel}_only"
    # each driver's spells: the churn hazard it adds from its start (see _defection.py),
    # until the scenario's window ends it or the driver itself does (a late email grant)
    low = np.flatnonzero(survey.low_nps)
    offline = np.flatnonzero(offline_only)
    no_consent, since, until = consents.without("email", t0)
    starts = {
        "service_tickets": (ticket_owner, ticket_day, None),
        "no_email_consent": (no_consent, since, until),
        offline_name: (offline, t0[offline], None),
        "low_nps": (low, survey.day[low], None),
    }
    spells = []
    for name, coef, window in sc.churn_drivers:
        who, day, stop = starts[name]
        spells.append(_defection.Spells.lasting(who, day, coef, window, until=stop))
    defection = _defection.defection_days(rng("defection"), n, spells)
    # who ever had a spell (also a ticket filed after leaving, a late email grant): the
    # others are exactly BG/NBD
    exposed = np.zeros(n, dtype=bool)
    for o in spells:
        exposed[o.customer] = True
    latents = _purchases.draw_latents(rng("latents"), sc, group)
    purchases = _purchases.simulate(
        rng("purchases"), latents, t0, T_END, dropout_at_first_purchase, defection
    )
    # no tickets from a customer a month after they left
    active_until = np.where(purchases.alive, T_END, purchases.dropout_day)
    kept = ticket_day < np.minimum(T_END, active_until[ticket_owner] + 30.0)
    ticket_owner, ticket_day = ticket_owner[kept], ticket_day[kept]
    drivers: dict[str, np.ndarray] = {
        "service_tickets": np.bincount(ticket_owner, minlength=n),
        "no_email_consent": ~consents.final("email"),
        offline_name: offline_only,
        "low_nps": survey.low_nps,
    }
    lap("purchases")

    r = rng("shopping")
    favourite = ax.categorical_by(r, np.array([g.categories for g in sc.groups]), group)
    stores = (
        tuple((s.store_id, ["DK", "SE", "NO", "FI"].index(s.country), s.weight) for s in STORES)
        if not b2b
        else ()
    )
    home_store = np.full(n, -1, dtype=np.int64)
    if stores:
        weight = np.array([[s[2] if s[1] == c else 0.0 for s in stores] for c in range(4)])
        home_store = ax.categorical_by(r, weight, country)
    shopping = _purchases.Shopping(group, favourite, offline_only, home_store, country)
    tables["transactions"] = _purchases.orders_table(
        rng("orders"), sc, purchases, shopping, ids, HISTORY_START, stores
    )
    campaign_day = float((CAMPAIGN_START - HISTORY_START).astype(int))
    last_before = _last_order_before(purchases, campaign_day, n)
    spend_last_year = _wallet.last_year_spend(
        purchases.customer, purchases.day, purchases.amount, T_END, n
    )
    purchases = purchases.without_orders()
    lap("transactions")

    parts = _engagement.EventParts([], [], [], [], [], [], [], [])
    nl_ids, nl_names, nl_days = _engagement.newsletters(base)
    r = rng("newsletters")
    gone = np.where(purchases.alive, np.inf, purchases.dropout_day)
    for m, day in enumerate(nl_days):
        who = np.flatnonzero(
            (t0 <= day) & consents.at("email", day) & (r.random(n) < _engagement.NEWSLETTER_SHARE)
        )
        _engagement.email_events(
            r,
            base,
            parts,
            who,
            np.full(len(who), day),
            np.full(len(who), m),
            gone[who] > day,
            devices,
            device_key,
        )
    camp = _campaign.run_campaign(
        rng("campaign"),
        base,
        last_before,
        consents.at("email", campaign_day),
        purchases.dropout_day,
        latents.p_gg / latents.nu,
        CAMPAIGN_START,
        CAMPAIGN_END,
    )
    sent = np.flatnonzero(camp.treated)
    _engagement.email_events(
        rng("campaign_email"),
        base,
        parts,
        sent,
        np.full(len(sent), camp.start_day + 9 / 24),
        np.full(len(sent), len(nl_ids)),
        gone[sent] > camp.start_day,
        devices,
        device_key,
    )
    _engagement.web_and_tickets(
        rng("web"), base, parts, active_until, (ticket_owner, ticket_day), devices, device_key
    )
    tables["events"] = _engagement.events_table(base, parts, [*nl_ids, _campaign.CAMPAIGN_ID])
    lap("events")

    tables["consents"] = consents.table
    tables["survey_responses"] = survey.table
    tables["subscriptions"] = _engagement.subscriptions(
        rng("subscriptions"), base, purchases.dropout_day
    )
    tables["campaigns"] = _campaign.campaigns_table(base, camp, nl_ids, nl_names, nl_days)
    tables["campaign_contacts"] = camp.contacts
    extra: dict[str, Any] = {}
    r = rng("market")
    if b2b:
        people = _b2b.contacts(rng("contacts"), comp)
        tables["contacts"] = people.table
        extra["firmographics"] = _b2b.firmographics_truth(sc)
        tables["deals"], extra["deals"] = _b2b.deals(
            rng("deals"), sc, comp, people, group, HISTORY_START, T_END, rng("deal_contacts")
        )
        tables["market_households"] = _people.market_households(r, sc)
        tables["market_companies"] = _b2b.market_companies(r, sc, comp)
    else:
        tables["market_households"] = _people.market_households(r, sc, ppl.place, band)
        wallets = _wallets(rng("wallet"), sc, tables["market_households"], ppl.place, band,
                           spend_last_year, survey)  # fmt: skip
        tables["market_wallet"] = wallets.market
        survey_table = tables["survey_responses"]
        tables["survey_responses"] = survey_table.append_column(
            _wallet.SURVEY_COLUMN,
            pa.array(wallets.stated[survey.responded].astype(np.int64)),
        )
    lap("other tables")

    truth = _truth(
        sc,
        seed,
        n,
        dropout_at_first_purchase,
        offline_name,
        tables,
        purchases,
        group,
        camp,
        base,
        extra,
    )
    customer_truth = _customer_truth(
        sc,
        ids,
        group,
        band,
        survey.needs_class,
        latents,
        t0,
        purchases,
        drivers,
        exposed,
        camp,
        favourite,
    )
    if not b2b:
        truth["wallet"] = _wallet_truth(wallets)
        for name, values in (
            ("spend_last_year", wallets.spend),
            ("wallet", wallets.wallet),
            ("share_of_wallet", wallets.share),
        ):
            customer_truth = customer_truth.append_column(name, pa.array(values))
    identity_truth, truth["identity"] = _accounts.identity_truth(tables["customers"], accounts)
    lap("truth")
    return DemoData(
        tables,
        truth,
        customer_truth,
        timings,
        accounts=None if accounts is None else accounts.table,
        identity_truth=identity_truth,
    )


def _wallets(
    rng: np.random.Generator,
    sc: Scenario,
    households: pa.Table,
    place: np.ndarray,
    band: np.ndarray,
    spend: np.ndarray,
    survey: _engagement.Survey,
) -> _wallet.Wallets:
    """Plant the wallets on the market's regions (those of ``market_households``)."""
    places = _people.Places.build()
    regions = list(dict.fromkeys(households["region"].to_pylist()))
    country = [nm.COUNTRIES[places.country[places.region.index(r)]] for r in regions]
    place_region = np.array([regions.index(r) if r in regions else -1 for r in places.region])
    share = np.array([g.categories for g in sc.groups]).mean(axis=0)
    return _wallet.draw(
        rng,
        spend,
        regions,
        country,
        place_region[place],
        band,
        households,
        sc.categories,
        share / share.sum(),
        survey.responded,
    )


def _wallet_truth(w: _wallet.Wallets) -> dict[str, Any]:
    return {
        "definition": "wallet = the customer's spend with the retailer in the last 365 days "
        "of the window plus their spend elsewhere on the same categories; share_of_wallet "
        "= spend / wallet (customer_truth: spend_last_year, wallet, share_of_wallet)",
        "elsewhere": "cell mean by region and age band times LogNormal(-s^2/2, s), "
        f"s = {_wallet.SIGMA_ELSEWHERE}",
        "market_table": "market_wallet: the cell's mean household wallet per category, "
        "rounded to 10",
        "survey": f"survey_responses.{_wallet.SURVEY_COLUMN}: the planted wallet times "
        f"LogNormal(0, {_wallet.SIGMA_STATED}), rounded to {_wallet.STATED_ROUNDING:.0f}",
        "base_wallet": _wallet.BASE_WALLET,
        "band_factor": list(_wallet.BAND_FACTOR),
        "country_factor": _wallet.COUNTRY_FACTOR,
        "mean_share_of_wallet": float(np.mean(w.share)),
    }


def _last_order_before(purchases: _purchases.Purchases, day: float, n: int) -> np.ndarray:
    """Each customer's last order day before ``day`` (-inf if none)."""
    out = np.full(n, -np.inf)
    idx = np.flatnonzero(purchases.day < day)
    cust = purchases.customer[idx]
    last = np.flatnonzero(np.diff(cust, append=-1) != 0)
    out[cust[last]] = purchases.day[idx[last]]
    return out


def _truth(
    sc: Scenario,
    seed: int,
    n: int,
    dropout_at_first: bool,
    offline_name: str,
    tables: dict[str, pa.Table],
    purchases: _purchases.Purchases,
    group: np.ndarray,
    camp: _campaign.Campaign,
    base: _engagement.Base,
    extra: dict[str, Any],
) -> dict[str, Any]:
    names = [g.name for g in sc.groups]
    orders = purchases.repeat + 1
    truth: dict[str, Any] = {
        "scenario": sc.kind,
        "seed": seed,
        "n_customers": n,
        "window": {
            "history_start": str(HISTORY_START),
            "observation_end": str(OBSERVATION_END),
            "t_end_days": T_END,
            "time_unit": "day",
            "T_definition": "T = days from the first purchase (signup) to the end of "
            "observation_end; customer_truth.T_days",
            "order_date_resolution": "day (order_date is midnight of the order day; several "
            "orders of one customer on one day are kept apart)",
        },
        "purchase_model": {
            "name": "MBG/NBD" if dropout_at_first else "BG/NBD",
            "dropout_at_first_purchase": dropout_at_first,
            "description": "first purchase at signup; repeat purchases Poisson(lambda) per "
            "day while alive; after each purchase"
            + (" (including the first)" if dropout_at_first else " except the first")
            + " the customer drops out with probability p ~ Beta(a, b); a customer with "
            "churn drivers may also defect between purchases (see defection); spend per "
            "order Gamma(shape p_gg, rate nu)",
            "defection": "besides, each churn driver adds its coefficient to a yearly "
            "hazard of defecting from its start (a ticket, a low-NPS answer, the email "
            "consent withdrawal, signup for offline-only customers) for window_days or for "
            "good; no purchase after the defection day; customer_truth.defected says who "
            "left that way, has_churn_driver who ever had a spell (also without email "
            "consent until a late grant, or a ticket drawn after leaving; the others are "
            "exactly BG/NBD)",
        },
        **sc.truth(),
    }
    truth["churn_drivers"]["definitions"] = {
        "service_tickets": "number of service_ticket events of the customer (a customer "
        "files none later than 30 days after leaving)",
        "no_email_consent": "the customer's latest email consent is granted = false",
        offline_name: f"every order of the customer has channel {sc.offline_channel!r} "
        "(customers not in this group place their first order elsewhere)",
        "low_nps": "the customer answered the survey with NPS 0-6",
    }
    truth["campaign"] = _campaign.campaign_truth(base, camp)
    market = tables["market_households"]
    truth["market"] = {"households_total": int(pc.sum(market["households"]).as_py())}
    if "market_companies" in tables:
        total = pc.sum(tables["market_companies"]["companies"]).as_py()
        truth["market"]["companies_total"] = int(total)
    truth.update(extra)
    truth["realised"] = {
        "customers_by_group": {x: int((group == k).sum()) for k, x in enumerate(names)},
        "alive_share_by_group": {
            x: float(purchases.alive[group == k].mean()) if (group == k).any() else None
            for k, x in enumerate(names)
        },
        "orders_per_customer": float(orders.mean()),
        "events_per_customer": tables["events"].num_rows / n,
    }
    truth["counts"] = {name: t.num_rows for name, t in tables.items()}
    return truth


def _customer_truth(
    sc: Scenario,
    ids: pa.Array,
    group: np.ndarray,
    band: np.ndarray,
    needs_class: np.ndarray,
    latents: _purchases.Latents,
    t0: np.ndarray,
    purchases: _purchases.Purchases,
    drivers: dict[str, np.ndarray],
    exposed: np.ndarray,
    camp: _campaign.Campaign,
    favourite: np.ndarray,
) -> pa.Table:
    cols: dict[str, pa.Array] = {
        "customer_id": ids,
        "group": ax.take([g.name for g in sc.groups], group),
        sc.band_name: ax.take(sc.bands, band),
        "needs_class": ax.take(list(NEEDS_CLASSES), needs_class),
        "lambda_": pa.array(latents.lam),
        "p_": pa.array(latents.p),
        "nu_": pa.array(latents.nu),
        "p_gg": pa.array(latents.p_gg),
        "expected_spend": pa.array(latents.p_gg / latents.nu),
        "t0_days": pa.array(t0),
        "T_days": pa.array(T_END - t0),
        "n_orders": pa.array(purchases.repeat + 1),
        "n_repeat": pa.array(purchases.repeat),
        "alive_at_end": pa.array(purchases.alive),
        "dropout_date": ax.dates(
            HISTORY_START, np.nan_to_num(purchases.dropout_day), null=purchases.alive
        ),
        "favourite_category": ax.take(sc.categories, favourite),
    }
    for name, values in drivers.items():
        cols[name] = pa.array(values.astype(np.int64) if values.dtype != bool else values)
    cols["has_churn_driver"] = pa.array(exposed)
    cols["defected"] = pa.array(purchases.defected)
    cols["campaign_targeted"] = pa.array(camp.targeted)
    cols["campaign_treated"] = pa.array(camp.treated)
    cols["campaign_baseline"] = pa.array(camp.baseline, mask=~camp.targeted)
    cols["campaign_cate"] = pa.array(camp.cate, mask=~camp.targeted)
    cols["campaign_responded"] = pa.array(camp.responded)
    return pa.table(cols)
