"""A small shop whose customers fall into four planted behavioural groups, loaded as files.

Unlike the demo (``test_discovery_demo.py``), these groups are separable by design and
nothing else varies, so that a clustering that works must find them: how often and how
much each group buys, through which channel, at what age and where.  The two rare groups
buy through different channels (store, webshop): when they shared the store they differed
only in spend, and with the channel weighted like a numeric trait the silhouette merged
them (k = 3).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np

from segmint import service
from segmint.project import Project

AS_OF = datetime(2026, 7, 1)
LATER = datetime(2026, 10, 1)


@dataclass(frozen=True)
class Planted:
    name: str
    orders_per_year: float
    log_amount: float
    channel: str
    age: tuple[int, int]
    region: str


GROUPS = (
    Planted("frequent high", 24.0, 7.2, "webshop", (35, 49), "Hovedstaden"),
    Planted("frequent low", 24.0, 4.8, "app", (18, 29), "Midtjylland"),
    Planted("rare high", 2.0, 7.2, "store", (60, 74), "Syddanmark"),
    Planted("rare low", 2.0, 4.8, "webshop", (45, 59), "Nordjylland"),
)


def write_shop(folder: Path, n_per_group: int, seed: int, first_id: int = 1) -> dict[str, str]:
    """``customers.csv`` and ``transactions.csv`` of a shop; customer id -> planted group."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    truth: dict[str, str] = {}
    start = date(2024, 7, 1)
    with (
        open(folder / "customers.csv", "w", newline="", encoding="utf-8") as cf,
        open(folder / "transactions.csv", "w", newline="", encoding="utf-8") as tf,
    ):
        cw, tw = csv.writer(cf), csv.writer(tf)
        cw.writerow(["customer_id", "birth_date", "region", "country", "signup_date"])
        tw.writerow(["order_id", "customer_id", "order_date", "amount", "category", "channel"])
        cid = first_id
        for g in GROUPS:
            for _ in range(n_per_group):
                customer = f"C{cid:06d}"
                cid += 1
                truth[customer] = g.name
                signup = start + timedelta(days=int(rng.integers(0, 300)))
                age = int(rng.integers(g.age[0], g.age[1] + 1))
                cw.writerow([customer, f"{2026 - age}-03-15", g.region, "DK", signup.isoformat()])
                days = (date(2026, 9, 30) - signup).days
                # the first order on the signup day, then the group's rate
                n = int(rng.poisson(g.orders_per_year * days / 365))
                for k, day in enumerate([0, *np.sort(rng.integers(1, days, size=n))]):
                    amount = float(np.exp(rng.normal(g.log_amount, 0.25)))
                    when = signup + timedelta(days=int(day))
                    tw.writerow([f"{customer}-{k}", customer, when.isoformat(), f"{amount:.2f}",
                                 "Tøj", g.channel])  # fmt: skip
    return truth


@dataclass
class Shop:
    project: Project
    truth: dict[str, str]
    root: Path


def open_shop(root: Path, n_per_group: int, seed: int) -> Shop:
    project = service.init_project(root)
    truth = write_shop(root / "files", n_per_group, seed)
    service.load(project, "customers", root / "files" / "customers.csv", source="crm")
    service.load(project, "transactions", root / "files" / "transactions.csv", source="shop")
    return Shop(project, truth, root)
