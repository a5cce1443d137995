"""Session, project status, runs, tables, load reports and model cards."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from segmint import _server_service as views
from segmint import service
from segmint.api._auth import Principal
from segmint.api._deps import SESSION_COOKIE, ApiError, Ctx, Viewer, principal
from segmint.api._schemas import (
    LoadOut,
    RunDetail,
    RunOut,
    SessionIn,
    StatusOut,
    TableOut,
    WhoAmI,
    finite,
)
from segmint.runs import model_cards, runs

router = APIRouter()


# -- session ------------------------------------------------------------------------------
@router.post("/session", response_model=WhoAmI, tags=["session"])
def login(body: SessionIn, ctx: Ctx, response: Response) -> Any:
    """Log in with a token or a user name and password; sets the ``segmint_session``
    cookie (HttpOnly, SameSite=Strict) that the web UI sends."""
    who: Principal | None = None
    if body.token:
        who = ctx.auth.token_principal(body.token)
    elif body.username and body.password:
        who = ctx.auth.check_password(body.username, body.password)
    else:
        raise ApiError(422, "invalid_request", "send a token, or a username and password")
    if who is None:
        raise ApiError(401, "unauthorized", "wrong token, or wrong user name or password")
    sid = ctx.auth.open_session(who)
    response.set_cookie(
        SESSION_COOKIE, sid, httponly=True, samesite="strict", max_age=12 * 3600, path="/"
    )
    ctx.auth.audit(who, "login")
    return WhoAmI(name=who.name, role=who.role, kind=who.kind)


@router.get("/session", response_model=WhoAmI, tags=["session"])
async def whoami(who: Annotated[Principal, Depends(principal)]) -> Any:
    """Who is logged in (or whose token this is), and their role."""
    return WhoAmI(name=who.name, role=who.role, kind=who.kind)


@router.delete("/session", status_code=204, tags=["session"])
def logout(ctx: Ctx, request: Request, response: Response) -> None:
    """Log out: the session ends and its cookie is removed."""
    sid = request.cookies.get(SESSION_COOKIE)
    if sid:
        ctx.auth.close_session(sid)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")


# -- project ------------------------------------------------------------------------------
@router.get("/status", response_model=StatusOut, tags=["project"])
def status(ctx: Ctx, _who: Viewer) -> Any:
    """Customers, their revenue, the latest run, and which replica the server reads."""
    info = ctx.store.info()
    with ctx.project() as project:
        st = views.project_status(project)
    return {**st.to_dict(), "replica": info.__dict__}


@router.get("/runs", response_model=list[RunOut], tags=["project"])
def list_runs(ctx: Ctx, _who: Viewer, limit: Annotated[int, Query(ge=1, le=1000)] = 20) -> Any:
    """The latest runs, newest first."""
    with ctx.project() as project:
        return runs(project.engine, limit=limit)


@router.get("/runs/{run_id}", response_model=RunDetail, tags=["project"])
def get_run(run_id: str, ctx: Ctx, _who: Viewer) -> Any:
    """One run: its record, the size of every segment and the models it fitted."""
    with ctx.project() as project:
        return views.run_detail(project, run_id)


@router.get("/tables", response_model=list[TableOut], tags=["project"])
def tables(ctx: Ctx, _who: Viewer) -> Any:
    """Row counts of the data tables."""
    with ctx.project() as project:
        return [t.__dict__ for t in service.status(project)]


@router.get("/loads", response_model=list[LoadOut], tags=["project"])
def loads(ctx: Ctx, _who: Viewer, limit: Annotated[int, Query(ge=1, le=1000)] = 50) -> Any:
    """The latest load reports (rows in, loaded, quarantined by reason), newest first."""
    with ctx.project() as project:
        return views.load_reports(project, limit=limit)


@router.get("/models", response_model=list[dict[str, Any]], tags=["models"])
def models(ctx: Ctx, _who: Viewer, run_id: str | None = None) -> Any:
    """The model cards of the last run (or of ``run_id``): metrics, drivers, calibration."""
    with ctx.project() as project:
        return finite(model_cards(project.engine, run_id))
