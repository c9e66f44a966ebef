"""`/v1/overage-notices`: stored notices, the review queue and its reprocessing; refused webhook calls."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from libs.platform.pagination import Page, PageParams
from overage.api.deps import ID_PATTERN, FinanceUow, ReadUow
from overage.domain.notices import NoticeStatus
from overage.handlers import notices as handlers
from overage.schemas.notices import NoticePublic, RejectionPublic, ReprocessResult

router = APIRouter(tags=["notices"])


@router.get(
    "/v1/overage-notices",
    response_model=Page[NoticePublic],
    summary="List stored overage notices",
    description="Every notice the vendors posted, with its status: received (not worked yet), "
    "applied (on its case) or review (waiting, with the reason).",
)
async def list_overage_notices(
    uow: ReadUow,
    page: PageParams,
    status: Annotated[NoticeStatus | None, Query()] = None,
    vendor_id: Annotated[str | None, Query(pattern=ID_PATTERN)] = None,
) -> Page[NoticePublic]:
    return await handlers.list_notices(uow=uow, page=page, status=status, vendor_id=vendor_id)


@router.get(
    "/v1/overage-notices/review",
    response_model=Page[NoticePublic],
    summary="The review queue",
    description="Notices kept until someone acts: a tenant not mapped (`unknown_tenant`), a vendor "
    "cost book the catalog has not published (`unknown_cost_book`). Never dropped.",
)
async def list_overage_review(uow: ReadUow, page: PageParams) -> Page[NoticePublic]:
    return await handlers.list_notices(uow=uow, page=page, status=NoticeStatus.REVIEW, vendor_id=None)


@router.post(
    "/v1/overage-notices/review/reprocess",
    response_model=ReprocessResult,
    summary="Work the review queue again",
    description="After mapping a tenant (or once the cost book is known): each waiting notice is worked "
    "as if it had just arrived; those still missing something stay in the queue.",
)
async def reprocess_overage_review(uow: FinanceUow) -> ReprocessResult:
    return await handlers.reprocess_review(uow=uow)


@router.get(
    "/v1/webhook-rejections",
    response_model=Page[RejectionPublic],
    summary="Refused webhook calls",
    description="Each refused call with its reason (bad_signature, stale_timestamp, future_timestamp, "
    "missing_signature, malformed_signature, unknown_vendor, malformed_body, body_too_large), its size "
    "and SHA-256 — never its body or signature.",
)
async def list_webhook_rejections(uow: ReadUow, page: PageParams) -> Page[RejectionPublic]:
    return await handlers.list_rejections(uow=uow, page=page)
