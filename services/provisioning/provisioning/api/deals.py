"""`/v1/partners` and `/v1/deal-registrations`: partners register, convert and submit deals."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from libs.platform.auth import Reader
from libs.platform.openapi import created_links, response_links
from libs.platform.pagination import Page, PageParams
from provisioning import handlers
from provisioning import schemas as s
from provisioning.api.deps import CatalogDep, Id, RuntimeDep, Seller, SessionDep, in_unit_of_work
from provisioning.domain.deals import DealStatus

router = APIRouter(tags=["partners and deals"])


@router.post(
    "/v1/partners",
    status_code=201,
    response_model=s.PartnerPublic,
    summary="Enrol a partner",
    responses=created_links("partner_id", "get_partner"),
)
async def enrol_partner(body: s.PartnerCreate, caller: Seller, rt: RuntimeDep) -> s.PartnerPublic:
    return await in_unit_of_work(rt, caller, handlers.enrol_partner, command=body)


@router.get("/v1/partners", response_model=Page[s.PartnerPublic], summary="List partners")
async def list_partners(_: Reader, session: SessionDep, page: PageParams) -> Page[s.PartnerPublic]:
    return await handlers.list_partners(session=session, page=page)


@router.get("/v1/partners/{partner_id}", response_model=s.PartnerPublic, summary="Get a partner")
async def get_partner(partner_id: Id, _: Reader, session: SessionDep) -> s.PartnerPublic:
    return await handlers.get_partner(session=session, partner_id=partner_id)


@router.post(
    "/v1/deal-registrations",
    status_code=201,
    response_model=s.DealRegistrationPublic,
    summary="Register a deal",
    responses=created_links("deal_id", "get_deal", "update_deal", "submit_deal", "convert_deal"),
)
async def register_deal(
    body: s.DealRegistrationCreate, caller: Seller, rt: RuntimeDep
) -> s.DealRegistrationPublic:
    return await in_unit_of_work(rt, caller, handlers.register_deal, command=body)


@router.get("/v1/deal-registrations", response_model=Page[s.DealRegistrationPublic], summary="List deals")
async def list_deals(
    _: Reader,
    session: SessionDep,
    page: PageParams,
    partner_id: Annotated[str | None, Query(max_length=60)] = None,
    status: DealStatus | None = None,
) -> Page[s.DealRegistrationPublic]:
    return await handlers.list_deals(
        session=session, page=page, partner_id=partner_id, status=status.value if status else None
    )


@router.get(
    "/v1/deal-registrations/{deal_id}",
    response_model=s.DealRegistrationPublic,
    summary="Get a deal with the checklist of missing fields",
)
async def get_deal(deal_id: Id, _: Reader, session: SessionDep) -> s.DealRegistrationPublic:
    return await handlers.get_deal(session=session, deal_id=deal_id)


@router.patch(
    "/v1/deal-registrations/{deal_id}", response_model=s.DealRegistrationPublic, summary="Update a deal"
)
async def update_deal(
    deal_id: Id, body: s.DealRegistrationUpdate, caller: Seller, rt: RuntimeDep
) -> s.DealRegistrationPublic:
    return await in_unit_of_work(rt, caller, handlers.update_deal, deal_id=deal_id, command=body)


@router.post(
    "/v1/deal-registrations/{deal_id}/convert",
    status_code=201,
    response_model=s.DealConversionPublic,
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
    deal_id: Id, body: s.DealConvert, caller: Seller, rt: RuntimeDep, catalog: CatalogDep
) -> s.DealConversionPublic:
    return await in_unit_of_work(
        rt, caller, handlers.convert_deal, catalog=catalog, deal_id=deal_id, command=body
    )


@router.post(
    "/v1/deal-registrations/{deal_id}/submit",
    response_model=s.OrderPublic,
    summary="Submit to contracts: submit the deal's order",
)
async def submit_deal(deal_id: Id, caller: Seller, rt: RuntimeDep, catalog: CatalogDep) -> s.OrderPublic:
    return await in_unit_of_work(rt, caller, handlers.submit_deal, catalog=catalog, deal_id=deal_id)
