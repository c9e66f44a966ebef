"""`/v1/tax-rates`: publish, end, read and list tax rates."""

from __future__ import annotations

from typing import Annotated, NoReturn

from fastapi import APIRouter, HTTPException, Query

from invoicing.api.deps import ReadUow, WriteUow, id_path
from invoicing.handlers import tax_rates as handlers
from invoicing.schemas.tax_rates import CountryCode, Region, TaxCode, TaxRateCreate, TaxRateEnd, TaxRatePublic
from libs.contracts.types import IsoDate
from libs.platform.openapi import created_links
from libs.platform.pagination import Page, PageParams

router = APIRouter(prefix="/v1/tax-rates", tags=["tax"])
TaxRateId = Annotated[str, id_path("Tax rate id (txr_…).")]


@router.post(
    "",
    status_code=201,
    response_model=TaxRatePublic,
    summary="Publish a tax rate",
    description="A rate for a country (and optionally a region and a product tax code) from a date. "
    "A rate overlapping another of the same country, region and tax code is refused (422).",
    responses=created_links("rate_id", "get_tax_rate", "end_tax_rate"),
)
async def create_tax_rate(body: TaxRateCreate, uow: WriteUow) -> TaxRatePublic:
    return await handlers.create_tax_rate(uow=uow, command=body)


@router.get("", response_model=Page[TaxRatePublic], summary="List tax rates")
async def list_tax_rates(
    uow: ReadUow,
    page: PageParams,
    country: Annotated[CountryCode | None, Query(description="Only this country's rates.")] = None,
    region: Annotated[
        Region | None, Query(description="Only rates of this region (ignoring case and surrounding spaces).")
    ] = None,
    tax_code: Annotated[
        TaxCode | None, Query(description="Only rates of exactly this tax code (not those for every code).")
    ] = None,
    as_of: Annotated[
        IsoDate | None, Query(description="Only rates in force on this day (YYYY-MM-DD).")
    ] = None,
) -> Page[TaxRatePublic]:
    return await handlers.list_tax_rates(
        uow=uow, page=page, country=country, region=region, tax_code=tax_code, as_of=as_of
    )


@router.get("/{rate_id}", response_model=TaxRatePublic, summary="Get a tax rate")
async def get_tax_rate(rate_id: TaxRateId, uow: ReadUow) -> TaxRatePublic:
    return await handlers.get_tax_rate(uow=uow, rate_id=rate_id)


@router.api_route(
    "/{rate_id}", methods=["PATCH", "PUT", "DELETE"], include_in_schema=False, response_model=None
)
async def refuse_tax_rate_edit(rate_id: TaxRateId) -> NoReturn:
    """A published rate is never edited (as catalog prices): say how to change it instead of a bare 405."""
    raise HTTPException(
        status_code=405,
        detail=(
            "A published tax rate is never edited: end it through "
            f"POST /v1/tax-rates/{rate_id}/end and publish a new rate from that date"
        ),
    )


@router.post(
    "/{rate_id}/end",
    response_model=TaxRatePublic,
    summary="End a tax rate",
    description="Sets the first day the rate is no longer in force; a rate is only ever shortened.",
)
async def end_tax_rate(rate_id: TaxRateId, body: TaxRateEnd, uow: WriteUow) -> TaxRatePublic:
    return await handlers.end_rate(uow=uow, rate_id=rate_id, command=body)
