"""`/v1/vendor-cost-books`: vendor cost tiers and our markup, versioned like prices."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from catalog.api.deps import ReadUow, WriteUow, id_path
from catalog.handlers import cost_books as handlers
from catalog.schemas.common import VendorId
from catalog.schemas.cost_books import CostBookCreate, CostBookPublic, CostBookVersionCreate
from libs.contracts.types import IsoDate
from libs.platform.openapi import created_links
from libs.platform.pagination import Page, PageParams

router = APIRouter(prefix="/v1/vendor-cost-books", tags=["vendor cost books"])
CostBookId = Annotated[str, id_path("Cost book id (cb_…).")]
_COST_BOOK_LINKS = created_links(
    "cost_book_id", "get_cost_book", "list_cost_book_versions", "publish_cost_book_version"
)


@router.post(
    "",
    status_code=201,
    response_model=CostBookPublic,
    summary="Publish a vendor cost book",
    responses=_COST_BOOK_LINKS,
)
async def create_cost_book(body: CostBookCreate, uow: WriteUow) -> CostBookPublic:
    return await handlers.create_cost_book(uow=uow, command=body)


@router.get("", response_model=Page[CostBookPublic], summary="List cost books (latest versions)")
async def list_cost_books(
    uow: ReadUow, page: PageParams, vendor_id: Annotated[VendorId | None, Query()] = None
) -> Page[CostBookPublic]:
    return await handlers.list_cost_books(uow=uow, page=page, vendor_id=vendor_id)


@router.get(
    "/{cost_book_id}", response_model=CostBookPublic, summary="Get a cost book, optionally as of a date"
)
async def get_cost_book(
    cost_book_id: CostBookId, uow: ReadUow, as_of: Annotated[IsoDate | None, Query()] = None
) -> CostBookPublic:
    return await handlers.get_cost_book(uow=uow, cost_book_id=cost_book_id, as_of=as_of)


@router.post(
    "/{cost_book_id}/versions",
    status_code=201,
    response_model=CostBookPublic,
    summary="Publish a new version of a cost book from an effective date",
    responses=_COST_BOOK_LINKS,
)
async def publish_cost_book_version(
    cost_book_id: CostBookId, body: CostBookVersionCreate, uow: WriteUow
) -> CostBookPublic:
    return await handlers.publish_cost_book_version(uow=uow, cost_book_id=cost_book_id, command=body)


@router.get(
    "/{cost_book_id}/versions", response_model=Page[CostBookPublic], summary="List a cost book's versions"
)
async def list_cost_book_versions(
    cost_book_id: CostBookId, uow: ReadUow, page: PageParams
) -> Page[CostBookPublic]:
    return await handlers.list_cost_book_versions(uow=uow, cost_book_id=cost_book_id, page=page)
