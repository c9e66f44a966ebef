"""`/v1/products`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from catalog.api.deps import ReadUow, WriteUow, id_path
from catalog.handlers import products as handlers
from catalog.schemas.products import ProductCreate, ProductPublic, ProductUpdate
from libs.contracts.vocabulary import ProductKind
from libs.platform.openapi import created_links
from libs.platform.pagination import Page, PageParams

router = APIRouter(prefix="/v1/products", tags=["products"])
ProductId = Annotated[str, id_path("Product id (prod_…).")]


@router.post(
    "",
    status_code=201,
    response_model=ProductPublic,
    summary="Create a product",
    responses=created_links("product_id", "get_product", "update_product"),
)
async def create_product(body: ProductCreate, uow: WriteUow) -> ProductPublic:
    return await handlers.create_product(uow=uow, command=body)


@router.get("", response_model=Page[ProductPublic], summary="List products")
async def list_products(
    uow: ReadUow,
    page: PageParams,
    kind: ProductKind | None = None,
    active: Annotated[bool | None, Query()] = None,
) -> Page[ProductPublic]:
    return await handlers.list_products(uow=uow, page=page, kind=kind, active=active)


@router.get("/{product_id}", response_model=ProductPublic, summary="Get a product")
async def get_product(product_id: ProductId, uow: ReadUow) -> ProductPublic:
    return await handlers.get_product(uow=uow, product_id=product_id)


@router.patch("/{product_id}", response_model=ProductPublic, summary="Change a product's descriptive fields")
async def update_product(product_id: ProductId, body: ProductUpdate, uow: WriteUow) -> ProductPublic:
    return await handlers.update_product(uow=uow, product_id=product_id, command=body)
