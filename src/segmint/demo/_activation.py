"""The demo projects' activation settings: owners (B2B) and next best actions.

Owners: a sales-ops lead for IT companies of 11-17 employees.

She needs every company with 11-17 employees in her industry (NACE 62, IT) scored (the
lead score) and given to a salesperson: the wholesaler's salespeople keep their regions
as territories, each may own at most about a fifth more than an even share, and what a
full territory cannot take goes round robin to whoever has room.
"""

from __future__ import annotations

import math

import pyarrow as pa
import pyarrow.compute as pc

from segmint.actions._config import (
    NextBestActionSettings,
    OwnersSettings,
    Salesperson,
    Territory,
)
from segmint.demo._b2b import OWNERS

#: the segment of her accounts (added to the B2B demo's segments)
ACCOUNT_SEGMENT = {
    "name": "it_11_17",
    "description": "IT companies (NACE 62) with 11-17 employees: the sales-ops lead's accounts",
    "rule": {
        "all": [
            {"field": "customer_type", "op": "=", "value": "company"},
            {"field": "employees", "op": "between", "value": [11, 17]},
            {"field": "nace_code", "op": "starts_with", "value": "62"},
        ]
    },
}


def demo_owners(customers: pa.Table) -> OwnersSettings:
    """Owner settings for the B2B demo, capacity sized to its number of accounts."""
    employees = customers["employees"]
    is_account = pc.and_(
        pc.and_(pc.greater_equal(employees, 11), pc.less_equal(employees, 17)),
        pc.starts_with(customers["nace_code"], "62"),
    )
    accounts = int(pc.sum(pc.fill_null(is_account, False)).as_py() or 0)
    people = [(name, country, regions) for country, own in OWNERS.items() for name, regions in own]
    capacity = max(2, math.ceil(1.2 * accounts / len(people)))
    return OwnersSettings(
        enabled=True,
        accounts=str(ACCOUNT_SEGMENT["name"]),
        order_by="lead_score",
        salespeople=[Salesperson(name=name, capacity=capacity) for name, _, _ in people],
        territories=[
            Territory(
                name=f"{country} {regions[0] if regions else 'all'}".lower().replace(" ", "-"),
                owners=[name],
                countries=[country],
                regions=list(regions),
            )
            for name, country, regions in people
        ],
    )


def demo_actions(b2b: bool) -> NextBestActionSettings:
    """Next best actions of the demo projects (``segmint actions plan``)."""
    if b2b:
        actions = [
            {"name": "it-invite", "kind": "invitation", "channel": "email", "priority": 1,
             "when": {"in_segment": "it_11_17"}, "offer": "Frokostmøde om IT-indkøb",
             "control_share": 0.2},
            {"name": "hot-discount", "kind": "discount", "channel": "email", "priority": 2,
             "when": {"field": "lead_score", "op": ">=", "value": 0.5}, "offer": "10 % rabat",
             "control_share": 0.1},
            {"name": "referral", "kind": "referral", "channel": "email", "priority": 3,
             "when": {"in_segment": "won_recently"}, "offer": "Anbefal os: 1.000 kr.",
             "control_share": 0.1},
        ]  # fmt: skip
    else:
        actions = [
            {"name": "win-back", "kind": "win-back", "channel": "email", "priority": 1,
             "when": {"any": [{"in_segment": "lapsing_valuable"},
                              {"in_segment": "rfm-cant_lose_them"}]},
             "offer": "Vi savner dig: 20 % på næste køb", "control_share": 0.1},
            {"name": "vip-event", "kind": "invitation", "channel": "email", "priority": 2,
             "when": {"in_segment": "vip"}, "offer": "Invitation til VIP-aften",
             "control_share": 0.1},
            {"name": "wake-up-discount", "kind": "discount", "channel": "sms", "priority": 3,
             "when": {"all": [{"in_segment": "rfm-about_to_sleep"},
                              {"field": "clv", "op": ">=", "value": 200}]},
             "offer": "15 % rabat i 14 dage", "control_share": 0.1},
            {"name": "referral", "kind": "referral", "channel": "email", "priority": 4,
             "when": {"in_segment": "rfm-champions"}, "offer": "Giv en ven 100 kr.",
             "control_share": 0.1},
        ]  # fmt: skip
    return NextBestActionSettings.model_validate(
        {
            "actions": actions,
            "frequency_caps": [{"max_contacts": 2, "days": 30}],
        }
    )
