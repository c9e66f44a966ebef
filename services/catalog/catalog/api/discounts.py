"""`/v1/discounts`: discounts and promotions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from catalog.api.deps import ReadUow, WriteUow, id_path
from catalog.handlers import discounts as handlers
from catalog.schemas.common import PromoCode
from catalog.schemas.discounts import DiscountCreate, DiscountPublic, DiscountUpdate
from libs.platform.openapi import created_links
from libs.platform.pagination import Page, PageParams

router = APIRouter(prefix="/v1/discounts", tags=["discounts"])
DiscountId = Annotated[str, id_path("Discount id (disc_…).")]


@router.post(
    "",
    status_code=201,
    response_model=DiscountPublic,
    summary="Create a discount or promotion",
    responses=created_links("discount_id", "get_discount", "update_discount"),
)
async def create_discount(body: DiscountCreate, uow: WriteUow) -> DiscountPublic:
    return await handlers.create_discount(uow=uow, command=body)


@router.get("", response_model=Page[DiscountPublic], summary="List discounts")
async def list_discounts(
    uow: ReadUow,
    page: PageParams,
    promo_code: Annotated[PromoCode | None, Query()] = None,
    active: Annotated[bool | None, Query()] = None,
) -> Page[DiscountPublic]:
    return await handlers.list_discounts(uow=uow, page=page, promo_code=promo_code, active=active)


@router.get("/{discount_id}", response_model=DiscountPublic, summary="Get a discount")
async def get_discount(discount_id: DiscountId, uow: ReadUow) -> DiscountPublic:
    return await handlers.get_discount(uow=uow, discount_id=discount_id)


@router.patch("/{discount_id}", response_model=DiscountPublic, summary="Change a discount")
async def update_discount(discount_id: DiscountId, body: DiscountUpdate, uow: WriteUow) -> DiscountPublic:
    return await handlers.update_discount(uow=uow, discount_id=discount_id, command=body)
