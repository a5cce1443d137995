"""Schemathesis: requests generated from the OpenAPI spec (with an admin token, so every
route is reached) never get a server error.

Driven through schemathesis' Python API (one Hypothesis test per operation) rather than
its pytest plugin, whose fixture integration does not run under pytest 9.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings

from segmint.api import create_app

from .conftest import Served

EXAMPLES = 12


def _fuzz(operation: Any, headers: dict[str, str], failures: list[str]) -> Callable[[], None]:
    """A Hypothesis test of one operation; returns it with the statuses it saw."""

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(case: schemathesis.Case) -> None:
        response = case.call(headers=headers)
        if response.status_code >= 500:
            failures.append(f"{case.method} {case.formatted_path}: {response.text[:300]}")
        elif response.status_code >= 400 and "json" in response.headers.get("content-type", ""):
            assert response.json()["error"]["message"]

    return check  # type: ignore[no-any-return]


def test_no_server_errors(served_copy: Served) -> None:
    app = create_app(served_copy.root)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    headers = {"Authorization": f"Bearer {served_copy.tokens['admin']}"}
    failures: list[str] = []
    labels = []
    for result in schema.get_all_operations():
        operation = result.ok()
        labels.append(operation.label)
        _fuzz(operation, headers, failures)()
    assert len(labels) == len([1 for p in app.openapi()["paths"].values() for _ in p])
    assert not failures, "\n".join(failures)
