"""Segments: list, definition and sizes, create/update/delete (in ``segmint.yaml``),
validate, preview, members (paged, filtered, CSV), and the builder's fields and schema."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Path, Query
from fastapi.responses import StreamingResponse

from segmint import _server_service as views
from segmint import service
from segmint.api._deps import Admin, Analyst, Ctx, Viewer
from segmint.api._schemas import (
    ErrorDetail,
    FieldOut,
    MembersPage,
    PreviewOut,
    RuleIn,
    SegmentDetail,
    SegmentIn,
    SegmentOut,
    ValidationOut,
)

router = APIRouter(tags=["segments"])
Name = Annotated[str, Path(max_length=200)]


@router.get("/segments", response_model=list[SegmentOut])
def list_segments(ctx: Ctx, _who: Viewer) -> Any:
    """Every segment (rule segments, then family cells) with its size at the last run."""
    with ctx.project() as project:
        return views.segment_list(project)


@router.post("/segments/preview", response_model=PreviewOut)
def preview(body: RuleIn, ctx: Ctx, _who: Viewer) -> Any:
    """Count a rule without saving it, and a few of its members (the builder's live
    count). Errors name the path of the problem (``rule.all[1].op``)."""
    with ctx.project() as project:
        result = service.preview(project, {"rule": body.rule}, as_of=body.as_of)
    return result.to_dict()


@router.post("/segments/validate", response_model=ValidationOut)
def validate(body: SegmentIn, ctx: Ctx, _who: Viewer) -> Any:
    """Check a definition (syntax, fields, tables, segments it uses) without saving it."""
    try:
        definition = views.parse_definition(body.model_dump())
        with ctx.project() as project:
            views.check_definition(project, definition)
    except views.DefinitionError as e:
        errors = [ErrorDetail(code="invalid", message=line, field=views.field_of(line))
                  for line in str(e).splitlines()]  # fmt: skip
        return ValidationOut(valid=False, errors=errors)
    return ValidationOut(valid=True, errors=[])


@router.get("/segments/{name}", response_model=SegmentDetail)
def get_segment(name: Name, ctx: Ctx, _who: Viewer) -> Any:
    """A segment's definition (rule segments) and its size at every run."""
    with ctx.project() as project:
        return service.segment(project, name)


def _save(ctx: Ctx, body: SegmentIn, replace: str | None) -> dict[str, Any]:
    definition = views.parse_definition(body.model_dump())
    with ctx.project() as project:
        views.check_definition(project, definition)
    with ctx.live_config() as live:
        views.save_segment(live, definition, replace=replace)
    return {
        "name": definition.name,
        "definition": definition.model_dump(mode="json", by_alias=True, exclude_defaults=True),
        "sizes": [],
    }


@router.post("/segments", response_model=SegmentDetail, status_code=201)
def create_segment(body: SegmentIn, ctx: Ctx, who: Admin) -> Any:
    """Add a rule segment to ``segmint.yaml``; the next run evaluates it."""
    out = _save(ctx, body, None)
    ctx.auth.audit(who, "segment.create", body.name)
    return out


@router.put("/segments/{name}", response_model=SegmentDetail)
def update_segment(name: Name, body: SegmentIn, ctx: Ctx, who: Admin) -> Any:
    """Replace a rule segment's definition (a new ``name`` renames it)."""
    out = _save(ctx, body, name)
    ctx.auth.audit(who, "segment.update", name, detail={"name": body.name})
    return out


@router.delete("/segments/{name}", status_code=204)
def delete_segment(name: Name, ctx: Ctx, who: Admin) -> None:
    """Remove a rule segment from ``segmint.yaml`` (refused while another uses it)."""
    with ctx.live_config() as live:
        views.delete_segment(live, name)
    ctx.auth.audit(who, "segment.delete", name)


@router.get("/segments/{name}/members", response_model=MembersPage)
def members(
    name: Name,
    ctx: Ctx,
    _who: Analyst,
    offset: Annotated[int, Query(ge=0, le=100_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    q: Annotated[str | None, Query(max_length=200)] = None,
) -> Any:
    """A page of the segment's members at the last run, sorted by customer id; ``q``
    keeps ids starting with it and names containing it."""
    with ctx.project() as project:
        return views.members_page(project, name, offset=offset, limit=limit, q=q)


@router.get(
    "/segments/{name}/members.csv",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}, "description": "customer_id, traits"}},
)
def members_csv(name: Name, ctx: Ctx, who: Analyst) -> Any:
    """The segment's members as CSV: ids and value traits, no contact details (those
    leave through an export, with consent enforced). Audited."""
    with ctx.project() as project:
        lines = list(views.members_csv(project, name))
    ctx.auth.audit(who, "members.csv", name, detail={"rows": len(lines) - 1})
    return StreamingResponse(
        iter(lines),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}-members.csv"},
    )


@router.get("/fields", response_model=list[FieldOut])
def fields(ctx: Ctx, _who: Viewer) -> Any:
    """What a rule's ``field`` may name, with its type and the operators that fit it."""
    with ctx.project() as project:
        return views.rule_fields(project)


@router.get("/schema/segment", response_model=dict[str, Any])
def segment_schema(_who: Viewer) -> Any:
    """JSON Schema of one segment definition (name, description, rule)."""
    from pydantic import TypeAdapter

    from segmint.segments import SegmentDefinition

    return TypeAdapter(SegmentDefinition).json_schema()
