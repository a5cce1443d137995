"""The application factory: ``create_app(project_dir)`` combines the routers, the error
handlers and the web UI, around one :class:`ServerContext`."""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from segmint.api import _routes_admin, _routes_customers, _routes_project, _routes_segments
from segmint.api._context import ServerContext
from segmint.api._deps import ApiError
from segmint.api._lookup import CustomerLookup
from segmint.api._schemas import ErrorOut
from segmint.exceptions import (
    ConfigError,
    CustomerNotFoundError,
    EngineError,
    InputError,
    SegmentNotFoundError,
    SegmintError,
)
from segmint.serving import NoReplicaError

API = "/api/v1"
#: the environment variable ``segmint serve`` passes the project in to worker processes
PROJECT_ENV = "SEGMINT_PROJECT"


def _error(
    status: int, code: str, message: str, field: str | None = None, **kw: Any
) -> JSONResponse:
    body = {"error": {"code": code, "message": message, "field": field}}
    return JSONResponse(body, status_code=status, **kw)


def _segmint_error(_request: Request, e: Exception) -> JSONResponse:
    from segmint._server_service import field_of

    message = str(e)
    field = getattr(e, "field", None) or field_of(message)
    if isinstance(e, CustomerNotFoundError | SegmentNotFoundError):
        return _error(404, "not_found", message, field)
    if isinstance(e, ConfigError | InputError):
        return _error(422, "invalid", message, field)
    if isinstance(e, EngineError):
        return _error(503, "engine", message)
    return _error(400, "error", message, field)


def _validation_error(_request: Request, e: Exception) -> JSONResponse:
    assert isinstance(e, RequestValidationError)
    errors = e.errors()
    lines, first = [], None
    for err in errors:
        loc = [str(x) for x in err.get("loc", ())]
        path = ".".join(loc[1:] if loc and loc[0] in ("body", "query", "path") else loc)
        first = first or path
        lines.append(f"{err.get('msg', 'invalid')} at {path or 'the request'}")
    return _error(422, "invalid_request", "; ".join(lines) or "invalid request", first)


def _http_error(_request: Request, e: Exception) -> JSONResponse:
    assert isinstance(e, StarletteHTTPException)
    codes = {404: "not_found", 405: "method_not_allowed", 400: "bad_request"}
    return _error(
        e.status_code,
        codes.get(e.status_code, "http_error"),
        str(e.detail),
        headers=getattr(e, "headers", None),
    )


def _api_error(_request: Request, e: Exception) -> JSONResponse:
    assert isinstance(e, ApiError)
    return _error(e.status, e.code, e.message, e.field, headers=e.headers)


def _no_replica(_request: Request, e: Exception) -> JSONResponse:
    return _error(503, "no_replica", str(e), headers={"Retry-After": "5"})


def create_app(project_dir: Path | str, *, cors_origins: list[str] | None = None) -> FastAPI:
    """The segmint server of the project in ``project_dir``: the JSON API under
    ``/api/v1`` (OpenAPI at ``/docs``) and the web UI.

    CORS is closed unless origins are given here or in ``server.cors_origins`` of
    ``segmint.yaml``.
    """
    ctx = ServerContext(project_dir)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        ctx.close()

    from fastapi_offline import FastAPIOffline

    # /docs and /redoc with Swagger UI and ReDoc from the installed package, not a CDN
    app = FastAPIOffline(
        title="segmint",
        summary="Customer segments and scores: the REST API of one segmint project.",
        version="1",
        lifespan=lifespan,
        responses={
            401: {"model": ErrorOut, "description": "No or invalid credentials"},
            403: {"model": ErrorOut, "description": "The role is too low"},
            422: {"model": ErrorOut, "description": "Invalid input"},
        },
    )
    app.state.ctx = ctx
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(NoReplicaError, _no_replica)
    app.add_exception_handler(SegmintError, _segmint_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    for module in (_routes_project, _routes_segments, _routes_customers, _routes_admin):
        app.include_router(module.router, prefix=API)
    app.add_middleware(CustomerLookup, ctx=ctx)  # the hot path, below routing
    origins = cors_origins if cors_origins is not None else ctx.config().server.cors_origins
    if origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_credentials=True,
            allow_methods=["*"],
            allow_headers=["Authorization", "Content-Type"],
        )
    from segmint.web import mount

    mount(app)
    return app


def app_from_env() -> FastAPI:
    """The app of the project named by ``$SEGMINT_PROJECT`` (uvicorn ``--factory``, used by
    ``segmint serve --workers N``: each worker process builds its own app)."""
    return create_app(os.environ.get(PROJECT_ENV, "."))
