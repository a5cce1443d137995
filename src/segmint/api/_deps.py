"""Dependencies shared by the routers: the server context, who is asking, and roles."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer

from segmint.api._auth import Principal, Role
from segmint.api._context import ServerContext

SESSION_COOKIE = "segmint_session"

_bearer = HTTPBearer(auto_error=False, description="An API token: segmint token create")
_cookie = APIKeyCookie(
    name=SESSION_COOKIE, auto_error=False, description="Set by POST /api/v1/session"
)


class ApiError(Exception):
    """An error the API answers with ``{"error": {"code", "message", "field"}}``."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        field: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.headers = headers


def context(request: Request) -> ServerContext:
    ctx: ServerContext = request.app.state.ctx
    return ctx


Ctx = Annotated[ServerContext, Depends(context)]


async def principal(
    request: Request,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
    session: Annotated[str | None, Security(_cookie)],
) -> Principal:
    """The token's or the session's principal; 401 without valid credentials.

    An ``async`` dependency on purpose: credentials are cached in memory, so the check is
    cheap and needs no thread of the pool.
    """
    ctx: ServerContext = request.app.state.ctx
    found = None
    if bearer is not None:
        found = ctx.auth.token_principal(bearer.credentials)
    elif session:
        found = ctx.auth.session_principal(session)
    if found is None:
        what = "invalid or revoked token" if bearer is not None else "not logged in"
        raise ApiError(
            401,
            "unauthorized",
            f"{what}: send 'Authorization: Bearer TOKEN' (segmint token create) "
            "or log in with POST /api/v1/session",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return found


def require(role: Role) -> object:
    async def check(who: Annotated[Principal, Depends(principal)]) -> Principal:
        if not who.allows(role):
            raise ApiError(
                403,
                "forbidden",
                f"this needs the {role} role; {who.kind} {who.name!r} has the {who.role} role",
            )
        return who

    return Depends(check)


Viewer = Annotated[Principal, require("viewer")]
Analyst = Annotated[Principal, require("analyst")]
Admin = Annotated[Principal, require("admin")]
