"""`/v1/partners` and `/v1/deal-registrations`: partners register, convert and submit deals."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from libs.platform.auth import Reader
from libs.platform.openapi import created_links, response_links
from libs.platform.pagination import Page, PageParams
from provisioning.api.deps import NO_NUL, CatalogDep, Id, ReadUow, RuntimeDep, Seller, in_unit_of_work
from provisioning.domain.deals import DealStatus
from provisioning.handlers import deals as handlers
from provisioning.schemas.deals import (
    DealConversionPublic,
    DealConvert,
    DealRegistrationCreate,
    DealRegistrationPublic,
    DealRegistrationUpdate,
    PartnerCreate,
    PartnerPublic,
)
from provisioning.schemas.orders import OrderPublic

router = APIRouter(tags=["partners and deals"])


@router.post(
    "/v1/partners",
    status_code=201,
    response_model=PartnerPublic,
    summary="Enrol a partner",
    responses=created_links("partner_id", "get_partner"),
)
async def enrol_partner(body: PartnerCreate, caller: Seller, rt: RuntimeDep) -> PartnerPublic:
    return await in_unit_of_work(rt, caller, handlers.enrol_partner, command=body)


@router.get("/v1/partners", response_model=Page[PartnerPublic], summary="List partners")
async def list_partners(_: Reader, uow: ReadUow, page: PageParams) -> Page[PartnerPublic]:
    return await handlers.list_partners(uow=uow, page=page)


@router.get("/v1/partners/{partner_id}", response_model=PartnerPublic, summary="Get a partner")
async def get_partner(partner_id: Id, _: Reader, uow: ReadUow) -> PartnerPublic:
    return await handlers.get_partner(uow=uow, partner_id=partner_id)


@router.post(
    "/v1/deal-registrations",
    status_code=201,
    response_model=DealRegistrationPublic,
    summary="Register a deal",
    responses=created_links("deal_id", "get_deal", "update_deal", "submit_deal", "convert_deal"),
)
async def register_deal(
    body: DealRegistrationCreate, caller: Seller, rt: RuntimeDep
) -> DealRegistrationPublic:
    return await in_unit_of_work(rt, caller, handlers.register_deal, command=body)


@router.get("/v1/deal-registrations", response_model=Page[DealRegistrationPublic], summary="List deals")
async def list_deals(
    _: Reader,
    uow: ReadUow,
    page: PageParams,
    partner_id: Annotated[str | None, Query(max_length=60, pattern=NO_NUL)] = None,
    status: DealStatus | None = None,
) -> Page[DealRegistrationPublic]:
    return await handlers.list_deals(uow=uow, page=page, partner_id=partner_id, status=status)


@router.get(
    "/v1/deal-registrations/{deal_id}",
    response_model=DealRegistrationPublic,
    summary="Get a deal with the checklist of missing fields",
)
async def get_deal(deal_id: Id, _: Reader, uow: ReadUow) -> DealRegistrationPublic:
    return await handlers.get_deal(uow=uow, deal_id=deal_id)


@router.patch(
    "/v1/deal-registrations/{deal_id}", response_model=DealRegistrationPublic, summary="Update a deal"
)
async def update_deal(
    deal_id: Id, body: DealRegistrationUpdate, caller: Seller, rt: RuntimeDep
) -> DealRegistrationPublic:
    return await in_unit_of_work(rt, caller, handlers.update_deal, deal_id=deal_id, command=body)


@router.post(
    "/v1/deal-registrations/{deal_id}/convert",
    status_code=201,
    response_model=DealConversionPublic,
    summary="Convert a deal to a customer, an account and a draft order (all missing fields in one 422)",
    responses=response_links(
        201,
        {
            "get_customer": {"customer_id": "/customer/id"},
            "get_account": {"account_id": "/account/id"},
            "get_order": {"order_id": "/order/id"},
            "submit_order": {"order_id": "/order/id"},
        },
    ),
)
async def convert_deal(
    deal_id: Id, body: DealConvert, caller: Seller, rt: RuntimeDep, catalog: CatalogDep
) -> DealConversionPublic:
    return await in_unit_of_work(
        rt, caller, handlers.convert_deal, catalog=catalog, deal_id=deal_id, command=body
    )


@router.post(
    "/v1/deal-registrations/{deal_id}/submit",
    response_model=OrderPublic,
    summary="Submit to contracts: submit the deal's order",
)
async def submit_deal(deal_id: Id, caller: Seller, rt: RuntimeDep, catalog: CatalogDep) -> OrderPublic:
    return await in_unit_of_work(rt, caller, handlers.submit_deal, catalog=catalog, deal_id=deal_id)
