"""`/v1/named-users`: named-user pools, assignments and seat transfers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from libs.platform.auth import Reader
from libs.platform.openapi import created_links
from libs.platform.pagination import Page, PageParams
from provisioning.api.deps import NO_NUL, Id, ReadUow, RuntimeDep, Seller, in_unit_of_work
from provisioning.handlers import named_users as handlers
from provisioning.schemas.named_users import (
    AssignmentCreate,
    AssignmentPublic,
    PoolCreate,
    PoolPublic,
    TransferCreate,
    TransferPublic,
)

router = APIRouter(tags=["named users"])


@router.post(
    "/v1/named-users/pools",
    status_code=201,
    response_model=PoolPublic,
    summary="Create a pool",
    responses=created_links(
        "pool_id", "get_pool", "assign_named_user", "list_assignments", "transfer_named_user"
    ),
)
async def create_pool(body: PoolCreate, caller: Seller, rt: RuntimeDep) -> PoolPublic:
    return await in_unit_of_work(rt, caller, handlers.create_pool, command=body)


@router.get("/v1/named-users/pools", response_model=Page[PoolPublic], summary="List pools")
async def list_pools(
    _: Reader,
    uow: ReadUow,
    page: PageParams,
    account_id: Annotated[str | None, Query(max_length=60, pattern=NO_NUL)] = None,
) -> Page[PoolPublic]:
    return await handlers.list_pools(uow=uow, page=page, account_id=account_id)


@router.get("/v1/named-users/pools/{pool_id}", response_model=PoolPublic, summary="Get a pool and its usage")
async def get_pool(pool_id: Id, _: Reader, uow: ReadUow) -> PoolPublic:
    return await handlers.get_pool(uow=uow, pool_id=pool_id)


@router.post(
    "/v1/named-users/pools/{pool_id}/assignments",
    status_code=201,
    response_model=AssignmentPublic,
    responses={
        200: {
            "model": AssignmentPublic,
            "description": "The user already held these programs: nothing changed.",
        }
    },
    summary="Give a user programs (pool size and per-user program limit enforced)",
)
async def assign_named_user(
    pool_id: Id, body: AssignmentCreate, caller: Seller, rt: RuntimeDep, response: Response
) -> AssignmentPublic:
    assignment, changed = await in_unit_of_work(
        rt, caller, handlers.assign_named_user, pool_id=pool_id, command=body
    )
    if not changed:
        response.status_code = 200
    return assignment


@router.get(
    "/v1/named-users/pools/{pool_id}/assignments",
    response_model=Page[AssignmentPublic],
    summary="List a pool's named users",
)
async def list_assignments(pool_id: Id, _: Reader, uow: ReadUow, page: PageParams) -> Page[AssignmentPublic]:
    return await handlers.list_assignments(uow=uow, pool_id=pool_id, page=page)


@router.post(
    "/v1/named-users/pools/{pool_id}/transfers",
    status_code=201,
    response_model=TransferPublic,
    summary="Transfer a seat (yearly allowance enforced)",
)
async def transfer_named_user(
    pool_id: Id, body: TransferCreate, caller: Seller, rt: RuntimeDep
) -> TransferPublic:
    return await in_unit_of_work(rt, caller, handlers.transfer_named_user, pool_id=pool_id, command=body)
