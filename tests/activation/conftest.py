"""A small project built by hand for the activation tests: customers with planted
identifiers, consents, one rule segment on employees, and runs."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from segmint import service
from segmint.project import Project
from segmint.segments import parse_segments

FIELDS = [
    "customer_id", "first_name", "last_name", "email", "phone", "city", "postal_code",
    "country", "company_name", "employees", "do_not_contact",
]  # fmt: skip
CHANNELS = ("email", "sms", "phone", "ads", "profiling")


def customer(i: int, employees: int, **extra: Any) -> dict[str, Any]:
    row = {
        "customer_id": f"C{i:04d}",
        "first_name": f"Fornavn{i}",
        "last_name": f"Efternavn{i}",
        "email": f"person{i}@example.dk",
        "phone": f"+45 26 {i // 100:02d} {i % 100:02d} 00",
        "city": "Aarhus",
        "postal_code": "8000",
        "country": "DK",
        "company_name": f"Firma {i} ApS",
        "employees": employees,
        "do_not_contact": "",
    }
    row.update(extra)
    return row


def write_csv(path: Path, rows: Iterable[Mapping[str, Any]], fields: list[str]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=fields, delimiter=";")
        w.writeheader()
        for r in rows:
            w.writerow({k: r.get(k, "") for k in fields})
    return path


def all_granted(ids: Iterable[str], when: str = "2026-01-01 10:00:00") -> list[dict[str, Any]]:
    return [
        {"customer_id": c, "channel": ch, "granted": "true", "consent_time": when}
        for c in ids
        for ch in CHANNELS
    ]


def load_customers(project: Project, rows: list[dict[str, Any]]) -> None:
    path = write_csv(project.root / "customers.csv", rows, FIELDS)
    service.load(project, "customers", path, source="crm")


def load_consents(project: Project, rows: list[dict[str, Any]], name: str = "consents") -> None:
    path = write_csv(
        project.root / f"{name}.csv", rows, ["customer_id", "channel", "granted", "consent_time"]
    )
    service.load(project, "consents", path, source=name)


def make_project(root: Path, customers: list[dict[str, Any]]) -> Project:
    project = service.init_project(root)
    project.config.segments = parse_segments(
        [{"name": "big", "rule": {"field": "employees", "op": ">=", "value": 50}}]
    )
    project.save()
    load_customers(project, customers)
    orders = [
        {"order_id": f"O{i}", "customer_id": c["customer_id"], "order_date": "2026-03-01",
         "amount": "100"}
        for i, c in enumerate(customers)
    ]  # fmt: skip
    path = write_csv(
        root / "orders.csv", orders, ["order_id", "customer_id", "order_date", "amount"]
    )
    service.load(project, "transactions", path, source="shop")
    return project


def run(project: Project) -> str:
    return service.run(project, as_of=datetime(2026, 10, 1)).run_id
