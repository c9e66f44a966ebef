"""`/v1/customers` and `/v1/accounts`: customers, the account hierarchy and billing profiles."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from libs.platform.auth import Reader
from libs.platform.openapi import created_links
from libs.platform.pagination import Page, PageParams
from provisioning.api.deps import NO_NUL, Id, ReadUow, RuntimeDep, Seller, in_unit_of_work
from provisioning.handlers import customers as handlers
from provisioning.schemas.customers import (
    AccountCreate,
    AccountPublic,
    AccountUpdate,
    CustomerCreate,
    CustomerPublic,
)

router = APIRouter(tags=["customers and accounts"])
Filter = Annotated[str | None, Query(max_length=60, pattern=NO_NUL)]


@router.post(
    "/v1/customers",
    status_code=201,
    response_model=CustomerPublic,
    summary="Register a customer",
    responses=created_links("customer_id", "get_customer"),
)
async def register_customer(body: CustomerCreate, caller: Seller, rt: RuntimeDep) -> CustomerPublic:
    return await in_unit_of_work(rt, caller, handlers.register_customer, command=body)


@router.get("/v1/customers", response_model=Page[CustomerPublic], summary="List customers")
async def list_customers(
    _: Reader, uow: ReadUow, page: PageParams, partner_id: Filter = None
) -> Page[CustomerPublic]:
    return await handlers.list_customers(uow=uow, page=page, partner_id=partner_id)


@router.get("/v1/customers/{customer_id}", response_model=CustomerPublic, summary="Get a customer")
async def get_customer(customer_id: Id, _: Reader, uow: ReadUow) -> CustomerPublic:
    return await handlers.get_customer(uow=uow, customer_id=customer_id)


@router.post(
    "/v1/accounts",
    status_code=201,
    response_model=AccountPublic,
    summary="Open a billing account (a child billing to its parent must share its currency)",
    responses=created_links("account_id", "get_account", "update_account"),
)
async def open_account(body: AccountCreate, caller: Seller, rt: RuntimeDep) -> AccountPublic:
    return await in_unit_of_work(rt, caller, handlers.open_account, command=body)


@router.get("/v1/accounts", response_model=Page[AccountPublic], summary="List accounts")
async def list_accounts(
    _: Reader,
    uow: ReadUow,
    page: PageParams,
    customer_id: Filter = None,
    parent_account_id: Filter = None,
) -> Page[AccountPublic]:
    return await handlers.list_accounts(
        uow=uow, page=page, customer_id=customer_id, parent_account_id=parent_account_id
    )


@router.get("/v1/accounts/{account_id}", response_model=AccountPublic, summary="Get an account")
async def get_account(account_id: Id, _: Reader, uow: ReadUow) -> AccountPublic:
    return await handlers.get_account(uow=uow, account_id=account_id)


@router.patch(
    "/v1/accounts/{account_id}",
    response_model=AccountPublic,
    summary="Change an account's billing profile or parent",
)
async def update_account(
    account_id: Id, body: AccountUpdate, caller: Seller, rt: RuntimeDep
) -> AccountPublic:
    return await in_unit_of_work(rt, caller, handlers.update_account, account_id=account_id, command=body)
