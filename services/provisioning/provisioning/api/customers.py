"""`/v1/customers` and `/v1/accounts`: customers, the account hierarchy and billing profiles."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from libs.platform.auth import Reader
from libs.platform.openapi import created_links
from libs.platform.pagination import Page, PageParams
from provisioning import handlers
from provisioning import schemas as s
from provisioning.api.deps import Id, RuntimeDep, Seller, SessionDep, in_unit_of_work

router = APIRouter(tags=["customers and accounts"])
Filter = Annotated[str | None, Query(max_length=60)]


@router.post(
    "/v1/customers",
    status_code=201,
    response_model=s.CustomerPublic,
    summary="Register a customer",
    responses=created_links("customer_id", "get_customer"),
)
async def register_customer(body: s.CustomerCreate, caller: Seller, rt: RuntimeDep) -> s.CustomerPublic:
    return await in_unit_of_work(rt, caller, handlers.register_customer, command=body)


@router.get("/v1/customers", response_model=Page[s.CustomerPublic], summary="List customers")
async def list_customers(
    _: Reader, session: SessionDep, page: PageParams, partner_id: Filter = None
) -> Page[s.CustomerPublic]:
    return await handlers.list_customers(session=session, page=page, partner_id=partner_id)


@router.get("/v1/customers/{customer_id}", response_model=s.CustomerPublic, summary="Get a customer")
async def get_customer(customer_id: Id, _: Reader, session: SessionDep) -> s.CustomerPublic:
    return await handlers.get_customer(session=session, customer_id=customer_id)


@router.post(
    "/v1/accounts",
    status_code=201,
    response_model=s.AccountPublic,
    summary="Open a billing account (a child billing to its parent must share its currency)",
    responses=created_links("account_id", "get_account", "update_account"),
)
async def open_account(body: s.AccountCreate, caller: Seller, rt: RuntimeDep) -> s.AccountPublic:
    return await in_unit_of_work(rt, caller, handlers.open_account, command=body)


@router.get("/v1/accounts", response_model=Page[s.AccountPublic], summary="List accounts")
async def list_accounts(
    _: Reader,
    session: SessionDep,
    page: PageParams,
    customer_id: Filter = None,
    parent_account_id: Filter = None,
) -> Page[s.AccountPublic]:
    return await handlers.list_accounts(
        session=session, page=page, customer_id=customer_id, parent_account_id=parent_account_id
    )


@router.get("/v1/accounts/{account_id}", response_model=s.AccountPublic, summary="Get an account")
async def get_account(account_id: Id, _: Reader, session: SessionDep) -> s.AccountPublic:
    return await handlers.get_account(session=session, account_id=account_id)


@router.patch(
    "/v1/accounts/{account_id}",
    response_model=s.AccountPublic,
    summary="Change an account's billing profile or parent",
)
async def update_account(
    account_id: Id, body: s.AccountUpdate, caller: Seller, rt: RuntimeDep
) -> s.AccountPublic:
    return await in_unit_of_work(rt, caller, handlers.update_account, account_id=account_id, command=body)
