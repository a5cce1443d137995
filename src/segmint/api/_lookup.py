"""The customer lookup's fast path: ``GET /api/v1/customers/{id}`` answered below FastAPI.

CRMs and apps call this route on every page view, so it is answered by a small ASGI
middleware in front of the app: the same credentials and role check as every route
(:class:`~segmint.api._auth.AuthStore`, cached), the answer read from the replica's
lookup files (:mod:`segmint._serving_lookup`) and sent as JSON text. It skips routing,
dependency resolution and response models, which cost more than the lookup itself
(docs/benchmarks.md has the numbers). The FastAPI route of the same path stays: it
documents the response model in the OpenAPI spec, and answers what this path hands on
(ids over 200 characters).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.requests import cookie_parser

from segmint.api._context import ServerContext
from segmint.serving import NoReplicaError

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

PREFIX = "/api/v1/customers/"
COOKIE = "segmint_session"
_JSON = (b"content-type", b"application/json")


class CustomerLookup:
    """ASGI middleware answering the customer lookup (see the module docstring)."""

    def __init__(self, app: ASGIApp, ctx: ServerContext) -> None:
        self.app = app
        self.ctx = ctx

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        cid = path[len(PREFIX) :] if path.startswith(PREFIX) else ""
        if not cid or "/" in cid or len(cid) > 200:
            await self.app(scope, receive, send)
            return
        auth = cookie = None
        for key, value in scope["headers"]:
            if key == b"authorization":
                auth = value.decode("latin-1")
            elif key == b"cookie":
                cookie = value.decode("latin-1")
        who = None
        scheme, _, token = (auth or "").partition(" ")
        bearer = scheme.lower() == "bearer" and bool(token.strip())
        if bearer:
            who = self.ctx.auth.token_principal(token.strip())
        elif cookie:
            sid = cookie_parser(cookie).get(COOKIE)
            who = self.ctx.auth.session_principal(sid) if sid else None
        if who is None:
            what = "invalid or revoked token" if bearer else "not logged in"
            await _error(
                send,
                401,
                "unauthorized",
                f"{what}: send 'Authorization: Bearer TOKEN' (segmint token create) "
                "or log in with POST /api/v1/session",
                [(b"www-authenticate", b"Bearer")],
            )
            return
        if not who.allows("analyst"):
            await _error(
                send,
                403,
                "forbidden",
                f"this needs the analyst role; {who.kind} {who.name!r} has the {who.role} role",
            )
            return
        try:
            doc = self.ctx.store.customer_json(cid)
        except NoReplicaError as e:
            await _error(send, 503, "no_replica", str(e), [(b"retry-after", b"5")])
            return
        if doc is None:
            await _error(send, 404, "not_found", f"no customer {cid!r} in this project")
            return
        body = doc.encode("utf-8")
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [_JSON, (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})


async def _error(
    send: Send,
    status: int,
    code: str,
    message: str,
    headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    body = json.dumps({"error": {"code": code, "message": message, "field": None}}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [_JSON, (b"content-length", str(len(body)).encode()), *(headers or [])],
        }
    )
    await send({"type": "http.response.body", "body": body})
