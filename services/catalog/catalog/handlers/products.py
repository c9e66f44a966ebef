"""Use cases of products: create, change, read, list."""

from __future__ import annotations

from catalog.domain.products import Product
from catalog.handlers.common import commit_created, commit_updated, public_page
from catalog.handlers.unit_of_work import CatalogUnitOfWork
from catalog.schemas.products import ProductCreate, ProductPublic, ProductUpdate, product_public
from libs.platform.db import utcnow
from libs.platform.errors import Conflict
from libs.platform.ids import new_id
from libs.platform.pagination import Page, PageRequest


async def create_product(*, uow: CatalogUnitOfWork, command: ProductCreate) -> ProductPublic:
    """Add a product; its SKU must be new (409 otherwise)."""
    if await uow.products.sku_taken(command.sku):
        raise Conflict(f"a product with SKU {command.sku!r} already exists")
    product = Product.create(id=new_id("prod"), now=utcnow(), **command.model_dump())
    uow.products.add(product)
    public = product_public(product)
    await commit_created(uow, "product", product, public)
    return public


async def update_product(*, uow: CatalogUnitOfWork, product_id: str, command: ProductUpdate) -> ProductPublic:
    """Change a product's descriptive fields (the SKU and kind stay)."""
    product = await uow.products.get(product_id)
    diff = product.update(command.model_dump(exclude_unset=True), now=utcnow())
    uow.products.add(product)
    await commit_updated(uow, "product", product, diff)
    return product_public(product)


async def get_product(*, uow: CatalogUnitOfWork, product_id: str) -> ProductPublic:
    """One product."""
    return product_public(await uow.products.get(product_id))


async def list_products(
    *, uow: CatalogUnitOfWork, page: PageRequest, kind: str | None, active: bool | None
) -> Page[ProductPublic]:
    """A page of products, optionally of one kind or activity."""
    return public_page(await uow.products.page(page, kind=kind, active=active), product_public)
