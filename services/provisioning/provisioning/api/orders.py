"""`/v1/orders`: sales orders priced by the catalog, submitted, approved, cancelled."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from libs.platform.auth import Reader
from libs.platform.openapi import created_links
from libs.platform.pagination import Page, PageParams
from provisioning.api.deps import (
    NO_NUL,
    Approver,
    CatalogDep,
    Id,
    ReadUow,
    RuntimeDep,
    Seller,
    in_unit_of_work,
)
from provisioning.domain.orders import OrderStatus
from provisioning.handlers import orders as handlers
from provisioning.schemas.orders import (
    CancelRequest,
    CommitmentsPublic,
    OrderCreate,
    OrderLinesAdd,
    OrderPublic,
)

router = APIRouter(tags=["orders"])


@router.post(
    "/v1/orders",
    status_code=201,
    response_model=OrderPublic,
    summary="Draft an order",
    responses=created_links(
        "order_id",
        "get_order",
        "add_order_lines",
        "submit_order",
        "approve_order",
        "cancel_order",
        "get_order_commitments",
    ),
)
async def create_order(body: OrderCreate, caller: Seller, rt: RuntimeDep, catalog: CatalogDep) -> OrderPublic:
    return await in_unit_of_work(rt, caller, handlers.create_order, catalog=catalog, command=body)


@router.get("/v1/orders", response_model=Page[OrderPublic], summary="List orders")
async def list_orders(
    _: Reader,
    uow: ReadUow,
    page: PageParams,
    account_id: Annotated[str | None, Query(max_length=60, pattern=NO_NUL)] = None,
    status: OrderStatus | None = None,
) -> Page[OrderPublic]:
    return await handlers.list_orders(uow=uow, page=page, account_id=account_id, status=status)


@router.get("/v1/orders/{order_id}", response_model=OrderPublic, summary="Get an order")
async def get_order(order_id: Id, _: Reader, uow: ReadUow) -> OrderPublic:
    return await handlers.get_order(uow=uow, order_id=order_id)


@router.post("/v1/orders/{order_id}/lines", response_model=OrderPublic, summary="Add lines to a draft order")
async def add_order_lines(
    order_id: Id, body: OrderLinesAdd, caller: Seller, rt: RuntimeDep, catalog: CatalogDep
) -> OrderPublic:
    return await in_unit_of_work(
        rt, caller, handlers.add_order_lines, catalog=catalog, order_id=order_id, command=body
    )


@router.delete(
    "/v1/orders/{order_id}/lines/{line_id}",
    response_model=OrderPublic,
    summary="Remove a draft order's line",
)
async def remove_order_line(order_id: Id, line_id: Id, caller: Seller, rt: RuntimeDep) -> OrderPublic:
    return await in_unit_of_work(rt, caller, handlers.remove_order_line, order_id=order_id, line_id=line_id)


@router.post(
    "/v1/orders/{order_id}/submit",
    response_model=OrderPublic,
    summary="Submit to contracts (approved at once unless a discount exceeds its threshold)",
)
async def submit_order(order_id: Id, caller: Seller, rt: RuntimeDep, catalog: CatalogDep) -> OrderPublic:
    return await in_unit_of_work(rt, caller, handlers.submit_order, catalog=catalog, order_id=order_id)


@router.post(
    "/v1/orders/{order_id}/approve",
    response_model=OrderPublic,
    summary="Approve an order waiting for a discount approval (finance or admin)",
)
async def approve_order(order_id: Id, caller: Approver, rt: RuntimeDep) -> OrderPublic:
    return await in_unit_of_work(
        rt, caller, handlers.approve_order, order_id=order_id, role=caller.role.value
    )


@router.post("/v1/orders/{order_id}/cancel", response_model=OrderPublic, summary="Cancel an order")
async def cancel_order(order_id: Id, body: CancelRequest, caller: Seller, rt: RuntimeDep) -> OrderPublic:
    return await in_unit_of_work(rt, caller, handlers.cancel_order, order_id=order_id, reason=body.reason)


@router.get(
    "/v1/orders/{order_id}/commitments",
    response_model=CommitmentsPublic,
    summary="Committed-license balances: committed, launched and remaining per line",
)
async def get_order_commitments(order_id: Id, _: Reader, uow: ReadUow) -> CommitmentsPublic:
    return await handlers.order_commitments(uow=uow, order_id=order_id)
