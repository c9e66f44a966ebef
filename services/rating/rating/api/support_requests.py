"""`/v1/support-requests`: service requests validated against support contracts, and their time."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from libs.platform.openapi import created_links
from libs.platform.pagination import Page, PageParams
from rating.api.deps import ID_PATTERN, ReadUow, UsageUow, id_path
from rating.domain.support_requests import RequestState
from rating.handlers import support_requests as handlers
from rating.schemas.support_requests import (
    SupportRequestClose,
    SupportRequestCreate,
    SupportRequestPublic,
    TimeEntryCreate,
    TimeEntryPublic,
)

router = APIRouter(prefix="/v1/support-requests", tags=["support requests"])
RequestId = Annotated[str, id_path("Support request id (srq_…).")]
Filter = Annotated[str | None, Query(pattern=ID_PATTERN)]


@router.post(
    "",
    status_code=201,
    response_model=SupportRequestPublic,
    summary="Open a support request (validated against the item's, customer's and org unit's contracts)",
    responses=created_links(
        "request_id", "get_support_request", "log_support_time", "list_support_time", "close_support_request"
    ),
)
async def open_support_request(body: SupportRequestCreate, uow: UsageUow) -> SupportRequestPublic:
    return await handlers.open_support_request(uow=uow, command=body)


@router.get("", response_model=Page[SupportRequestPublic], summary="List support requests")
async def list_support_requests(
    uow: ReadUow,
    page: PageParams,
    subscription_id: Filter = None,
    account_id: Filter = None,
    state: Annotated[RequestState | None, Query()] = None,
) -> Page[SupportRequestPublic]:
    filters = handlers.SupportRequestFilters(
        subscription_id=subscription_id, account_id=account_id, state=state
    )
    return await handlers.list_support_requests(uow=uow, filters=filters, page=page)


@router.get("/{request_id}", response_model=SupportRequestPublic, summary="Get a support request")
async def get_support_request(request_id: RequestId, uow: ReadUow) -> SupportRequestPublic:
    return await handlers.get_support_request(uow=uow, request_id=request_id)


@router.post(
    "/{request_id}/time",
    status_code=201,
    response_model=TimeEntryPublic,
    summary="Log time on a support request",
)
async def log_support_time(request_id: RequestId, body: TimeEntryCreate, uow: UsageUow) -> TimeEntryPublic:
    return await handlers.log_time(uow=uow, request_id=request_id, command=body)


@router.get(
    "/{request_id}/time", response_model=Page[TimeEntryPublic], summary="List the time logged on a request"
)
async def list_support_time(request_id: RequestId, uow: ReadUow, page: PageParams) -> Page[TimeEntryPublic]:
    return await handlers.list_time_entries(uow=uow, request_id=request_id, page=page)


@router.post("/{request_id}/close", response_model=SupportRequestPublic, summary="Close a support request")
async def close_support_request(
    request_id: RequestId, uow: UsageUow, body: SupportRequestClose | None = None
) -> SupportRequestPublic:
    return await handlers.close_support_request(
        uow=uow, request_id=request_id, command=body or SupportRequestClose()
    )
