"""`/v1/adjustments`: credits and debits for an account's next invoice (service credits too).

Creating takes an `Idempotency-Key` (the platform's middleware): the same key and body answer the
first response again. An adjustment becomes applied when a bill run bills it; until then it can
be cancelled.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Query

from invoicing.api.deps import ID_PATTERN, ReadUow, WriteUow, id_path
from invoicing.domain.adjustments import AdjustmentDirection, AdjustmentKind, AdjustmentState
from invoicing.handlers import adjustments as handlers
from invoicing.handlers.adjustments_port import AdjustmentFilters
from invoicing.schemas.adjustments import (
    AdjustmentCancel,
    AdjustmentCreate,
    AdjustmentPublic,
    adjustment_public,
)
from libs.platform.openapi import created_links, response_links
from libs.platform.pagination import Page, PageParams

router = APIRouter(prefix="/v1/adjustments", tags=["adjustments"])
AdjustmentId = Annotated[str, id_path("Adjustment id (adj_…).")]
_FOLLOW_UP = ("get_adjustment", "cancel_adjustment")


@router.post(
    "",
    status_code=201,
    response_model=AdjustmentPublic,
    summary="Create an adjustment",
    description="A credit or debit billed on the account's next invoice (a line keyed "
    "`adjustment:{id}`). A service credit reduces one subscription's coming period. The account's "
    "currency only (422 otherwise); a debit correcting an issued invoice names it.",
    responses=created_links("adjustment_id", *_FOLLOW_UP),
)
async def create_adjustment(body: AdjustmentCreate, uow: WriteUow) -> AdjustmentPublic:
    return adjustment_public(await handlers.create_adjustment(uow=uow, command=body.command()))


@router.get(
    "",
    response_model=Page[AdjustmentPublic],
    summary="List adjustments",
    responses=response_links(200, {name: {"adjustment_id": "/data/0/id"} for name in _FOLLOW_UP}),
)
async def list_adjustments(
    uow: ReadUow,
    page: PageParams,
    account_id: Annotated[str | None, Query(pattern=ID_PATTERN, description="The adjusted account.")] = None,
    state: Annotated[AdjustmentState | None, Query(description="pending, applied or cancelled.")] = None,
    kind: Annotated[AdjustmentKind | None, Query(description="adjustment or service_credit.")] = None,
    direction: Annotated[AdjustmentDirection | None, Query(description="credit or debit.")] = None,
    subscription_id: Annotated[str | None, Query(pattern=ID_PATTERN, description="The subscription.")] = None,
) -> Page[AdjustmentPublic]:
    filters = AdjustmentFilters(account_id, state, kind, direction, subscription_id)
    found = await handlers.list_adjustments(uow=uow, filters=filters, page=page)
    return Page[AdjustmentPublic](
        data=[adjustment_public(a) for a in found.data],
        next_cursor=found.next_cursor,
        has_more=found.has_more,
    )


@router.get("/{adjustment_id}", response_model=AdjustmentPublic, summary="Get an adjustment")
async def get_adjustment(adjustment_id: AdjustmentId, uow: ReadUow) -> AdjustmentPublic:
    return adjustment_public(await handlers.get_adjustment(uow=uow, adjustment_id=adjustment_id))


@router.post(
    "/{adjustment_id}/cancel",
    response_model=AdjustmentPublic,
    summary="Cancel a pending adjustment",
    description="An applied (billed) or cancelled adjustment is a 409: correct an issued invoice "
    "with a credit note.",
)
async def cancel_adjustment(
    adjustment_id: AdjustmentId, uow: WriteUow, body: Annotated[AdjustmentCancel | None, Body()] = None
) -> AdjustmentPublic:
    reason = None if body is None else body.reason
    return adjustment_public(
        await handlers.cancel_adjustment(uow=uow, adjustment_id=adjustment_id, reason=reason)
    )
