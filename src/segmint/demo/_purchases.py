"""Purchases drawn from BG/NBD (or MBG/NBD) with Gamma-Gamma spend, vectorised.

Per customer: ``lambda ~ Gamma(r, rate alpha)`` (purchases per day while alive),
``p ~ Beta(a, b)`` and ``nu ~ Gamma(q, rate gamma)``.  The first purchase is at signup
``t0``; repeat purchases follow a Poisson process with rate lambda on ``(t0, end]``; after
each purchase (by default including the first, as in MBG/NBD) the customer drops out for
good with probability ``p``.  Churn drivers (service tickets, no email consent, ...) add a
second way out: the customer defects on a day ``D`` drawn from the hazard the drivers
switch on (``_defection.py``; never without drivers, so such a customer is exactly
BG/NBD).  Unlike BG/NBD's dropout, which only happens at a purchase and so shows in the
recency, a defection can come at any time: a customer who still buys today but just had
a bad experience is likelier to stop within the next months, which is what a churn model
can learn from the drivers.

Simulated without a loop over customers: the process runs on ``(t0, t0 + min(D, end -
t0)]``.  With ``N ~ Poisson(lambda * span)`` purchases it would make there and ``G`` the
number of purchases survived before dropping out (geometric), the customer makes ``x =
min(N, G)`` repeat purchases at the first ``x`` order statistics of ``N`` uniforms on the
span.  Those come from exponential spacings: ``U_(k) = S_k / (S_x + R)`` with ``S`` the
running sum of ``x`` standard exponentials and ``R ~ Gamma(N - x + 1)`` the rest of the
sum, so only ``x`` draws per customer are needed however large ``N`` is.  Spend per order
is ``Gamma(p_gg, rate nu)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from segmint.demo import _arrow as ax
from segmint.demo._params import Scenario


@dataclass(frozen=True)
class Latents:
    """Per-customer draws of the purchase and spend processes."""

    lam: np.ndarray
    p: np.ndarray
    nu: np.ndarray
    p_gg: np.ndarray


def draw_latents(rng: np.random.Generator, scenario: Scenario, group: np.ndarray) -> Latents:
    """Draw lambda, p and nu per customer from its group's distributions."""
    gs = scenario.groups
    r = np.array([g.r for g in gs])[group]
    alpha = np.array([g.alpha for g in gs])[group]
    a = np.array([g.a for g in gs])[group]
    b = np.array([g.b for g in gs])[group]
    q = np.array([g.q for g in gs])[group]
    gamma = np.array([g.gamma for g in gs])[group]
    lam = rng.gamma(r, 1.0 / alpha)
    p = np.clip(rng.beta(a, b), 1e-9, 1 - 1e-9)
    nu = rng.gamma(q, 1.0 / gamma)
    p_gg = np.array([g.p for g in gs])[group]
    return Latents(lam, p, nu, p_gg)


@dataclass(frozen=True)
class Purchases:
    """The simulated orders, and per customer what happened."""

    repeat: np.ndarray  # x: repeat purchases in the window
    alive: np.ndarray  # still alive at the end of the window
    dropout_day: np.ndarray  # day the customer left: after a purchase or at defection (nan: alive)
    defected: np.ndarray  # left by defection (not after a purchase)
    last_day: np.ndarray  # day of the last purchase
    customer: np.ndarray  # per order: customer index
    day: np.ndarray  # per order: float days since history start
    amount: np.ndarray  # per order: spend, rounded to cents

    def without_orders(self) -> Purchases:
        """The per-customer outcome only (frees the per-order arrays)."""
        empty = np.empty(0)
        return Purchases(
            self.repeat,
            self.alive,
            self.dropout_day,
            self.defected,
            self.last_day,
            empty.astype(np.int64),
            empty,
            empty,
        )


def simulate(
    rng: np.random.Generator,
    latents: Latents,
    t0: np.ndarray,
    t_end: float,
    dropout_at_first_purchase: bool,
    defection: np.ndarray,
) -> Purchases:
    """Simulate every customer's orders in ``[t0, t_end)`` (days).

    ``defection``: the day each customer defects (``inf``: never; see ``_defection.py``).
    """
    n = len(t0)
    window = t_end - t0
    defection = np.maximum(defection - t0, 0.0)  # days after signup
    defected = defection < window
    span = np.minimum(window, defection)
    potential = rng.poisson(latents.lam * span)
    survived = rng.geometric(latents.p) - (1 if dropout_at_first_purchase else 0)
    repeat = np.minimum(potential, survived)
    dropped = survived <= potential  # left after the last purchase
    defected &= ~dropped
    alive = ~dropped & ~defected

    gaps = rng.standard_exponential(int(repeat.sum()))
    running = ax.segment_cumsum(gaps, repeat)
    ends = np.cumsum(repeat)
    has = repeat > 0
    total = np.zeros(n)
    total[has] = running[ends[has] - 1] + rng.gamma((potential - repeat + 1)[has])
    owner = ax.segment_ids(repeat)
    repeat_day = t0[owner] + running / total[owner] * span[owner]

    counts = repeat + 1
    customer = ax.segment_ids(counts)
    first = np.cumsum(counts) - counts
    day = np.empty(int(counts.sum()))
    day[first] = t0
    rest = np.ones(len(day), dtype=bool)
    rest[first] = False
    day[rest] = repeat_day
    # keep every order inside the window, also after rounding to whole seconds
    day = np.minimum(day, t_end - 1.0 / 86_400)

    last_day = day[first + repeat]
    dropout_day = np.where(dropped, last_day, np.where(defected, t0 + span, np.nan))
    spend = rng.gamma(latents.p_gg[customer]) / latents.nu[customer]
    amount = np.maximum(np.round(spend, 2), 0.01)
    return Purchases(repeat, alive, dropout_day, defected, last_day, customer, day, amount)


@dataclass(frozen=True)
class Shopping:
    """Per-customer habits that decide what and where they buy."""

    group: np.ndarray
    favourite: np.ndarray  # favourite category index
    offline_only: np.ndarray
    home_store: np.ndarray  # index into the store list, -1 without stores
    country: np.ndarray


def orders_table(
    rng: np.random.Generator,
    scenario: Scenario,
    purchases: Purchases,
    shopping: Shopping,
    customer_ids: pa.Array,
    epoch: np.datetime64,
    stores: tuple[tuple[str, int, float], ...],
) -> pa.Table:
    """The transactions table: one row per order (``line_no`` 1).

    ``stores`` lists (store_id, country index, weight); order numbers increase with the
    order date, like an ERP's running number.
    """
    cust = purchases.customer
    n = len(cust)
    group = shopping.group[cust]
    n_cat = len(scenario.categories)
    group_cat = np.array([g.categories for g in scenario.groups])
    category = ax.categorical_by(rng, group_cat, group)
    fav = rng.random(n) < scenario.favourite_weight
    category[fav] = shopping.favourite[cust[fav]]
    per_cat = np.array([len(p) for p in scenario.products])
    product = np.floor(rng.random(n) * per_cat[category]).astype(np.int64)
    offsets = np.cumsum(per_cat) - per_cat
    flat = offsets[category] + product
    base = 10000 if scenario.kind == "b2c" else 20000
    product_ids = [
        str(base + 100 * (c + 1) + j + 1) for c in range(n_cat) for j in range(per_cat[c])
    ]
    product_names = [name for names in scenario.products for name in names]

    group_ch = np.array([g.channels for g in scenario.groups])
    channel = ax.categorical_by(rng, group_ch, group)
    offline = scenario.channels.index(scenario.offline_channel)
    # a customer who is not offline-only places the first order online, so that
    # "offline only" is exactly what the orders show
    first = np.concatenate(([True], cust[1:] != cust[:-1]))
    online = group_ch.copy()
    online[:, offline] = 0.0
    redo = first & (channel == offline) & ~shopping.offline_only[cust]
    channel[redo] = ax.categorical_by(rng, online, group[redo])
    channel[shopping.offline_only[cust]] = offline

    store_col: pa.Array
    in_store = channel == offline
    if stores and scenario.offline_channel == "store":
        store_country = np.array([s[1] for s in stores])
        store_weight = np.array([s[2] for s in stores])
        store = shopping.home_store[cust].copy()
        away = in_store & (rng.random(n) < 0.15)
        # an occasional visit to another store of the same country
        table = np.where(store_country[None, :] == np.arange(4)[:, None], store_weight, 0.0)
        store[away] = ax.categorical_by(rng, table, shopping.country[cust[away]])
        store_col = ax.take([s[0] for s in stores], np.maximum(store, 0), null=~in_store)
    else:
        store_col = pa.nulls(n, pa.string())

    whole_day = np.floor(purchases.day).astype(np.int16)
    order_rank = np.empty(n, dtype=np.int64)
    order_rank[np.argsort(whole_day, kind="stable")] = np.arange(n)
    quantity = 1.0 + rng.poisson(0.35, n)
    columns = {
        "order_id": ax.numbers(10_000_001 + order_rank),
        "line_no": pa.array(np.ones(n, dtype=np.int64)),
        "customer_id": customer_ids.take(ax.indices(cust)),
        "order_date": ax.timestamps(epoch, np.floor(purchases.day)),
        "product_id": ax.take(product_ids, flat),
        "product_name": ax.take(product_names, flat),
        "category": ax.take(scenario.categories, category),
        "quantity": pa.array(quantity),
        "amount": pa.array(purchases.amount),
        "currency": ax.constant(scenario.currency, n),
        "channel": ax.take(scenario.channels, channel),
        "store_id": store_col,
    }
    return ax.entity_table("transactions", columns, n)
