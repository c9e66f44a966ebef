"""`/v1/meters`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from libs.platform.openapi import created_links
from libs.platform.pagination import Page, PageParams
from rating.api.deps import ID_PATTERN, ReadUow, WriteUow, id_path
from rating.handlers import meters as handlers
from rating.schemas.meters import MeterCreate, MeterPublic, MeterUpdate

router = APIRouter(prefix="/v1/meters", tags=["meters"])
MeterId = Annotated[str, id_path("Meter id (mtr_…).")]


@router.post(
    "",
    status_code=201,
    response_model=MeterPublic,
    summary="Create a meter",
    responses=created_links("meter_id", "get_meter", "update_meter"),
)
async def create_meter(body: MeterCreate, uow: WriteUow) -> MeterPublic:
    return await handlers.create_meter(uow=uow, command=body)


@router.get("", response_model=Page[MeterPublic], summary="List meters")
async def list_meters(
    uow: ReadUow,
    page: PageParams,
    active: Annotated[bool | None, Query()] = None,
    product_id: Annotated[str | None, Query(pattern=ID_PATTERN)] = None,
) -> Page[MeterPublic]:
    return await handlers.list_meters(uow=uow, page=page, active=active, product_id=product_id)


@router.get("/{meter_id}", response_model=MeterPublic, summary="Get a meter")
async def get_meter(meter_id: MeterId, uow: ReadUow) -> MeterPublic:
    return await handlers.get_meter(uow=uow, meter_id=meter_id)


@router.patch("/{meter_id}", response_model=MeterPublic, summary="Change a meter's name, filter or activity")
async def update_meter(meter_id: MeterId, body: MeterUpdate, uow: WriteUow) -> MeterPublic:
    return await handlers.update_meter(uow=uow, meter_id=meter_id, command=body)
