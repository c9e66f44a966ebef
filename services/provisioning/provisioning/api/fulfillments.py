"""`/v1/fulfillments`: licenses launched and services delivered against sales orders."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from libs.platform.auth import Reader
from libs.platform.openapi import created_links
from libs.platform.pagination import Page, PageParams
from provisioning import handlers
from provisioning import schemas as s
from provisioning.api.deps import Id, RuntimeDep, Seller, SessionDep, in_unit_of_work
from provisioning.domain.fulfillments import FulfillmentStatus

router = APIRouter(tags=["fulfillments"])


@router.post(
    "/v1/fulfillments",
    status_code=201,
    response_model=s.FulfillmentPublic,
    summary="Record a fulfillment",
    responses=created_links(
        "fulfillment_id",
        "get_fulfillment",
        "update_fulfillment",
        "complete_fulfillment",
        "cancel_fulfillment",
    ),
)
async def record_fulfillment(
    body: s.FulfillmentCreate, caller: Seller, rt: RuntimeDep
) -> s.FulfillmentPublic:
    return await in_unit_of_work(rt, caller, handlers.record_fulfillment, command=body)


@router.get("/v1/fulfillments", response_model=Page[s.FulfillmentPublic], summary="List fulfillments")
async def list_fulfillments(
    _: Reader,
    session: SessionDep,
    page: PageParams,
    order_id: Annotated[str | None, Query(max_length=60)] = None,
    status: FulfillmentStatus | None = None,
) -> Page[s.FulfillmentPublic]:
    return await handlers.list_fulfillments(
        session=session, page=page, order_id=order_id, status=status.value if status else None
    )


@router.get(
    "/v1/fulfillments/{fulfillment_id}", response_model=s.FulfillmentPublic, summary="Get a fulfillment"
)
async def get_fulfillment(fulfillment_id: Id, _: Reader, session: SessionDep) -> s.FulfillmentPublic:
    return await handlers.get_fulfillment(session=session, fulfillment_id=fulfillment_id)


@router.patch(
    "/v1/fulfillments/{fulfillment_id}",
    response_model=s.FulfillmentPublic,
    summary="Update quantities while scheduled",
)
async def update_fulfillment(
    fulfillment_id: Id, body: s.FulfillmentUpdate, caller: Seller, rt: RuntimeDep
) -> s.FulfillmentPublic:
    return await in_unit_of_work(
        rt, caller, handlers.update_fulfillment, fulfillment_id=fulfillment_id, command=body
    )


@router.post(
    "/v1/fulfillments/{fulfillment_id}/complete",
    response_model=s.FulfillmentPublic,
    summary="Complete: emits one fulfillment.completed with every line's billable quantity",
)
async def complete_fulfillment(
    fulfillment_id: Id, body: s.TaskComplete, caller: Seller, rt: RuntimeDep
) -> s.FulfillmentPublic:
    return await in_unit_of_work(
        rt,
        caller,
        handlers.complete_fulfillment,
        fulfillment_id=fulfillment_id,
        completed_on=body.completed_on,
    )


@router.post(
    "/v1/fulfillments/{fulfillment_id}/cancel",
    response_model=s.FulfillmentPublic,
    summary="Cancel while scheduled",
)
async def cancel_fulfillment(fulfillment_id: Id, caller: Seller, rt: RuntimeDep) -> s.FulfillmentPublic:
    return await in_unit_of_work(rt, caller, handlers.cancel_fulfillment, fulfillment_id=fulfillment_id)
