"""`/v1/prices`: publish, version and look up prices as of a date."""

from __future__ import annotations

from typing import Annotated, NoReturn

from fastapi import APIRouter, HTTPException, Query

from catalog.api.deps import ID_PATTERN, ReadUow, WriteUow, id_path
from catalog.handlers import prices as handlers
from catalog.schemas.prices import PriceCreate, PricePublic, PriceVersionCreate
from libs.contracts.types import CurrencyCode, IsoDate
from libs.platform.openapi import created_links
from libs.platform.pagination import Page, PageParams

router = APIRouter(prefix="/v1/prices", tags=["prices"])
PriceId = Annotated[str, id_path("Price id (price_…).")]
_PRICE_LINKS = created_links("price_id", "get_price", "list_price_versions", "publish_price_version")


@router.post(
    "",
    status_code=201,
    response_model=PricePublic,
    summary="Publish a new price (version 1)",
    responses=_PRICE_LINKS,
)
async def create_price(body: PriceCreate, uow: WriteUow) -> PricePublic:
    return await handlers.create_price(uow=uow, command=body)


@router.get("", response_model=Page[PricePublic], summary="List prices (latest versions)")
async def list_prices(
    uow: ReadUow,
    page: PageParams,
    product_id: Annotated[str | None, Query(pattern=ID_PATTERN)] = None,
    currency: Annotated[CurrencyCode | None, Query()] = None,
) -> Page[PricePublic]:
    return await handlers.list_prices(uow=uow, page=page, product_id=product_id, currency=currency)


@router.get(
    "/{price_id}",
    response_model=PricePublic,
    summary="Get a price, optionally the version in force on a date",
)
async def get_price(
    price_id: PriceId,
    uow: ReadUow,
    as_of: Annotated[
        IsoDate | None, Query(description="YYYY-MM-DD; 404 when no version is in force.")
    ] = None,
) -> PricePublic:
    return await handlers.get_price(uow=uow, price_id=price_id, as_of=as_of)


@router.api_route(
    "/{price_id}", methods=["PATCH", "PUT", "DELETE"], include_in_schema=False, response_model=None
)
async def refuse_price_edit(price_id: PriceId) -> NoReturn:
    """A published price is immutable (DESIGN §6): say how to change it instead of a bare 405."""
    raise HTTPException(
        status_code=405,
        detail=(
            "A published price is never edited: publish a new version with an effective date "
            f"through POST /v1/prices/{price_id}/versions"
        ),
    )


@router.post(
    "/{price_id}/versions",
    status_code=201,
    response_model=PricePublic,
    summary="Publish a new version of a price from an effective date",
    responses=_PRICE_LINKS,
)
async def publish_price_version(price_id: PriceId, body: PriceVersionCreate, uow: WriteUow) -> PricePublic:
    return await handlers.publish_price_version(uow=uow, price_id=price_id, command=body)


@router.get("/{price_id}/versions", response_model=Page[PricePublic], summary="List a price's versions")
async def list_price_versions(price_id: PriceId, uow: ReadUow, page: PageParams) -> Page[PricePublic]:
    return await handlers.list_price_versions(uow=uow, price_id=price_id, page=page)
