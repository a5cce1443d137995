"""Customer lookup (from the replica's lookup files) and segment profiles."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response

from segmint.api._deps import Analyst, ApiError, Ctx, Viewer
from segmint.api._schemas import CustomerOut, ErrorOut, finite

router = APIRouter()


@router.get(
    "/customers/{customer_id}",
    response_model=CustomerOut,
    responses={404: {"model": ErrorOut, "description": "No such customer"}},
    tags=["customers"],
)
async def customer(
    customer_id: Annotated[str, Path(max_length=200)], request: Request, _who: Analyst
) -> Any:
    """Everything about one person: records, traits and scores, segments, history.

    Answered from the replica's lookup files (a few binary searches over memory-mapped
    Arrow files written when the replica was published): the hot path of CRMs and apps.
    Any of the person's customer ids finds them.
    """
    ctx = request.app.state.ctx
    doc = ctx.store.customer_json(customer_id)
    if doc is None:
        raise ApiError(404, "not_found", f"no customer {customer_id!r} in this project")
    return Response(content=doc, media_type="application/json")


@router.get("/profiles/{segment}", response_model=dict[str, Any], tags=["profiles"])
def profile(
    segment: Annotated[str, Path(max_length=200)],
    ctx: Ctx,
    _who: Viewer,
    versus: Annotated[str | None, Query(max_length=200)] = None,
) -> Any:
    """The segment's card (size, value, FACTS / SALES / VALUE canvas, index vs the base);
    with ``versus`` (another segment or FIELD=VALUE) both cards and the comparison."""
    from segmint.profiles import profile as make_profile

    with ctx.project() as project:
        return finite(make_profile(project, segment, versus=versus).to_dict())
