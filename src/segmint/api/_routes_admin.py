"""Destinations and exports (background jobs), the audit log, and API tokens."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import FileResponse

from segmint.api._deps import Admin, Analyst, ApiError, Ctx, Viewer
from segmint.api._schemas import (
    AuditEntry,
    DestinationOut,
    ExportIn,
    ExportJob,
    NewToken,
    TokenIn,
    TokenOut,
)

router = APIRouter()


@router.get("/destinations", response_model=list[DestinationOut], tags=["exports"])
def destinations(ctx: Ctx, _who: Viewer) -> Any:
    """The destinations of ``segmint.yaml`` (where segments go)."""
    return [d.model_dump(mode="json") for d in ctx.config().destinations]


@router.post("/exports", response_model=ExportJob, status_code=202, tags=["exports"])
def start_export(body: ExportIn, ctx: Ctx, who: Analyst) -> Any:
    """Export a segment (consent and suppression enforced) in the background; the job
    waits while a run holds the store. Poll ``GET /exports/{job}``. Audited."""
    if (body.destination is None) == (body.format is None):
        raise ApiError(422, "invalid_request", "give a destination, or a format", "destination")
    config = ctx.config()
    if body.destination is not None and body.destination not in {
        d.name for d in config.destinations
    }:
        from segmint.segments._parse import did_you_mean

        known = [d.name for d in config.destinations]
        raise ApiError(
            404,
            "not_found",
            f"no destination {body.destination!r}{did_you_mean(body.destination, known)}",
            "destination",
        )
    job = ctx.jobs.submit(
        segment=body.segment,
        destination=body.destination,
        format=body.format,
        mode=body.mode,
        channels=body.channels,
        actor=f"{who.kind}:{who.name}",
    )
    ctx.auth.audit(
        who,
        "export",
        body.segment,
        detail={"job": job.job_id, "destination": body.destination, "format": body.format},
    )
    return job.to_dict()


@router.get("/exports", response_model=list[ExportJob], tags=["exports"])
def list_exports(ctx: Ctx, _who: Analyst) -> Any:
    """The export jobs started on this server, newest first."""
    return [j.to_dict() for j in ctx.jobs.all()]


JobId = Annotated[str, Path(max_length=64)]


@router.get("/exports/{job_id}", response_model=ExportJob, tags=["exports"])
def get_export(job_id: JobId, ctx: Ctx, _who: Analyst) -> Any:
    """One export job: queued, waiting for the store, running, done (with its report) or
    failed (with the error)."""
    job = ctx.jobs.get(job_id)
    if job is None:
        raise ApiError(404, "not_found", f"no export job {job_id!r}")
    return job.to_dict()


@router.get(
    "/exports/{job_id}/file",
    response_class=FileResponse,
    responses={200: {"content": {"application/octet-stream": {}}}},
    tags=["exports"],
)
def export_file(job_id: JobId, ctx: Ctx, who: Analyst) -> Any:
    """Download the file an export job produced. Audited."""
    job = ctx.jobs.get(job_id)
    if job is None or job.file is None or not job.file.exists():
        raise ApiError(404, "not_found", f"export job {job_id!r} has no file (yet)")
    ctx.auth.audit(who, "export.download", job.segment, detail={"job": job_id})
    return FileResponse(job.file, filename=job.file.name)


@router.get("/audit", response_model=list[AuditEntry], tags=["admin"])
def audit(
    ctx: Ctx,
    _who: Admin,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> Any:
    """Every write and export through the server (and logins), newest first."""
    return ctx.auth.audit_log(limit=limit, offset=offset)


@router.get("/tokens", response_model=list[TokenOut], tags=["admin"])
def tokens(ctx: Ctx, _who: Admin) -> Any:
    """API tokens (names and roles; the tokens themselves are never kept)."""
    return ctx.auth.tokens()


@router.post("/tokens", response_model=NewToken, status_code=201, tags=["admin"])
def create_token(body: TokenIn, ctx: Ctx, who: Admin) -> Any:
    """A new token; the response is the only time it is shown."""
    token = ctx.auth.create_token(body.name, body.role, created_by=f"{who.kind}:{who.name}")
    ctx.auth.audit(who, "token.create", body.name, detail={"role": body.role})
    return {"name": body.name, "role": body.role, "token": token}


@router.delete("/tokens/{name}", status_code=204, tags=["admin"])
def revoke_token(name: Annotated[str, Path(max_length=100)], ctx: Ctx, who: Admin) -> None:
    """Revoke a token (requests with it are refused within seconds)."""
    ctx.auth.revoke_token(name)
    ctx.auth.audit(who, "token.revoke", name)
