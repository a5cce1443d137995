"""The segments a demo project starts with: the seeds' examples, as a user would write them."""

from __future__ import annotations

from typing import Any

from segmint.demo._activation import ACCOUNT_SEGMENT

#: the demo's data ends on 2026-09-30 (included): it is evaluated as of the next midnight
DEMO_AS_OF = "2026-10-01"

B2C_SEGMENTS: list[dict[str, Any]] = [
    {
        "name": "vip",
        "description": "Spent 15,000 DKK or more in the last year",
        "rule": {"field": "spend_365d", "op": ">=", "value": 15000},
    },
    {
        "name": "active_danes",
        "description": (
            "Danish customers with 3+ orders in the last 90 days, over 1,000 DKK, who opened "
            "an email in the last 30 days, and are not VIP"
        ),
        "rule": {
            "all": [
                {"field": "country", "op": "=", "value": "DK"},
                {
                    "performed": "transactions",
                    "within": "90d",
                    "count_distinct": {"of": "order_id", ">=": 3},
                },
                {"performed": "transactions", "within": "90d", "sum": {"of": "amount", ">": 1000}},
                {
                    "performed": "events",
                    "where": [{"field": "event_type", "op": "=", "value": "email_open"}],
                    "within": "30d",
                },
                {"not": {"in_segment": "vip"}},
            ]
        },
    },
    {
        "name": "lapsing_valuable",
        "description": "Spent over 5,000 DKK in all, but nothing in the last 180 days",
        "rule": {
            "all": [
                {"field": "monetary", "op": ">", "value": 5000},
                {"not_performed": "transactions", "within": "180d"},
            ]
        },
    },
    {
        "name": "browse_then_buy",
        "description": "Visited the webshop and bought within 7 days, in the last 90 days",
        "rule": {
            "sequence": [
                {
                    "performed": "events",
                    "where": [{"field": "event_type", "op": "=", "value": "web_visit"}],
                },
                {"performed": "transactions"},
            ],
            "within": "7d",
            "during": {"within": "90d"},
        },
    },
    {
        "name": "service_strained",
        "description": "Two or more service tickets in the last year (a churn driver)",
        "rule": {
            "performed": "events",
            "where": [{"field": "event_type", "op": "=", "value": "service_ticket"}],
            "within": "365d",
            "count": {">=": 2},
        },
    },
    {
        "name": "young_mobile",
        "description": "Under 30, mostly on mobile",
        "rule": {
            "all": [
                {"field": "age", "op": "<", "value": 30},
                {"field": "top_device", "op": "=", "value": "mobile"},
            ]
        },
    },
]

B2B_SEGMENTS: list[dict[str, Any]] = [
    {
        "name": "it_small_no_deal",
        "description": "Companies with 11-17 employees in NACE 62, with no deal in the last year",
        "rule": {
            "all": [
                {"field": "customer_type", "op": "=", "value": "company"},
                {"field": "employees", "op": "between", "value": [11, 17]},
                {"field": "nace_code", "op": "starts_with", "value": "62"},
                {"not_performed": "deals", "within": "365d"},
            ]
        },
    },
    ACCOUNT_SEGMENT,
    {
        "name": "won_recently",
        "description": "Won a deal in the last 180 days",
        "rule": {
            "performed": "deals",
            "where": [{"field": "stage", "op": "=", "value": "won"}],
            "within": "180d",
        },
    },
    {
        "name": "large_danish",
        "description": "Danish companies with 50 or more employees",
        "rule": {
            "all": [
                {"field": "country", "op": "=", "value": "DK"},
                {"field": "employees", "op": ">=", "value": 50},
            ]
        },
    },
]
