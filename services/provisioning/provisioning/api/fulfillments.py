"""`/v1/fulfillments`: licenses launched and services delivered against sales orders."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from libs.platform.auth import Reader
from libs.platform.openapi import created_links
from libs.platform.pagination import Page, PageParams
from provisioning.api.deps import NO_NUL, Id, ReadUow, RuntimeDep, Seller, in_unit_of_work
from provisioning.domain.fulfillments import FulfillmentStatus
from provisioning.handlers import fulfillments as handlers
from provisioning.schemas.fulfillments import FulfillmentCreate, FulfillmentPublic, FulfillmentUpdate
from provisioning.schemas.workflows import TaskComplete

router = APIRouter(tags=["fulfillments"])


@router.post(
    "/v1/fulfillments",
    status_code=201,
    response_model=FulfillmentPublic,
    summary="Record a fulfillment",
    responses=created_links(
        "fulfillment_id",
        "get_fulfillment",
        "update_fulfillment",
        "complete_fulfillment",
        "cancel_fulfillment",
    ),
)
async def record_fulfillment(body: FulfillmentCreate, caller: Seller, rt: RuntimeDep) -> FulfillmentPublic:
    return await in_unit_of_work(rt, caller, handlers.record_fulfillment, command=body)


@router.get("/v1/fulfillments", response_model=Page[FulfillmentPublic], summary="List fulfillments")
async def list_fulfillments(
    _: Reader,
    uow: ReadUow,
    page: PageParams,
    order_id: Annotated[str | None, Query(max_length=60, pattern=NO_NUL)] = None,
    status: FulfillmentStatus | None = None,
) -> Page[FulfillmentPublic]:
    return await handlers.list_fulfillments(uow=uow, page=page, order_id=order_id, status=status)


@router.get(
    "/v1/fulfillments/{fulfillment_id}", response_model=FulfillmentPublic, summary="Get a fulfillment"
)
async def get_fulfillment(fulfillment_id: Id, _: Reader, uow: ReadUow) -> FulfillmentPublic:
    return await handlers.get_fulfillment(uow=uow, fulfillment_id=fulfillment_id)


@router.patch(
    "/v1/fulfillments/{fulfillment_id}",
    response_model=FulfillmentPublic,
    summary="Update quantities while scheduled",
)
async def update_fulfillment(
    fulfillment_id: Id, body: FulfillmentUpdate, caller: Seller, rt: RuntimeDep
) -> FulfillmentPublic:
    return await in_unit_of_work(
        rt, caller, handlers.update_fulfillment, fulfillment_id=fulfillment_id, command=body
    )


@router.post(
    "/v1/fulfillments/{fulfillment_id}/complete",
    response_model=FulfillmentPublic,
    summary="Complete: emits one fulfillment.completed with every line's billable quantity",
)
async def complete_fulfillment(
    fulfillment_id: Id, body: TaskComplete, caller: Seller, rt: RuntimeDep
) -> FulfillmentPublic:
    return await in_unit_of_work(
        rt,
        caller,
        handlers.complete_fulfillment,
        fulfillment_id=fulfillment_id,
        completed_on=body.completed_on,
    )


@router.post(
    "/v1/fulfillments/{fulfillment_id}/cancel",
    response_model=FulfillmentPublic,
    summary="Cancel while scheduled",
)
async def cancel_fulfillment(fulfillment_id: Id, caller: Seller, rt: RuntimeDep) -> FulfillmentPublic:
    return await in_unit_of_work(rt, caller, handlers.cancel_fulfillment, fulfillment_id=fulfillment_id)
