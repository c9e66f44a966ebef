"""`/v1/rated-usage`: closed periods, priced (what usage.rated carried), and the period close.

The running charge of the open periods is on the usage view (`GET /v1/subscriptions/{id}/usage`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from libs.contracts.types import IsoDate
from libs.platform.auth import Principal, require_roles
from libs.platform.idempotent_requests import detached_from_request
from libs.platform.pagination import Page, PageParams
from libs.platform.settings import Role
from rating.api.deps import ID_PATTERN, ReadUow, id_path, runtime_from
from rating.config import RatingSettings
from rating.handlers import rated_usage as handlers
from rating.schemas.rated_usage import (
    CloseRequest,
    CloseResult,
    RatedUsagePublic,
    close_result,
    rated_usage_public,
)

router = APIRouter(tags=["rated usage"])
RatedUsageId = Annotated[str, id_path("Rated usage id (ru_…).")]
Finance = Annotated[Principal, Depends(require_roles(Role.FINANCE))]


@router.post(
    "/v1/rated-usage/close",
    response_model=CloseResult,
    summary="Close the ended periods now: rate each once and publish usage.rated",
)
async def close_periods(
    request: Request, principal: Finance, body: CloseRequest | None = None
) -> CloseResult:
    runtime = runtime_from(request)
    settings = runtime.settings
    assert isinstance(settings, RatingSettings)
    with detached_from_request():  # many transactions, idempotent by itself
        report = await handlers.close_periods(
            units_of_work=lambda: runtime.rating_unit_of_work(principal),
            as_of=None if body is None else body.as_of,
            chunk_size=settings.period_close_chunk_size,
        )
    return close_result(report)


@router.get("/v1/rated-usage", response_model=Page[RatedUsagePublic], summary="List rated usage")
async def list_rated_usage(
    uow: ReadUow,
    page: PageParams,
    subscription_id: Annotated[str | None, Query(pattern=ID_PATTERN)] = None,
    account_id: Annotated[str | None, Query(pattern=ID_PATTERN)] = None,
    period_start: Annotated[
        IsoDate | None, Query(description="First day of the period (YYYY-MM-DD).")
    ] = None,
) -> Page[RatedUsagePublic]:
    found = await handlers.list_rated_usage(
        uow=uow, page=page, subscription_id=subscription_id, account_id=account_id, period_start=period_start
    )
    return Page[RatedUsagePublic](
        data=[rated_usage_public(r) for r in found.data],
        next_cursor=found.next_cursor,
        has_more=found.has_more,
    )


@router.get("/v1/rated-usage/{rated_usage_id}", response_model=RatedUsagePublic, summary="Get rated usage")
async def get_rated_usage(rated_usage_id: RatedUsageId, uow: ReadUow) -> RatedUsagePublic:
    return rated_usage_public(await handlers.get_rated_usage(uow=uow, rated_usage_id=rated_usage_id))
