"""Use cases of products."""

from __future__ import annotations

from catalog.handlers.common import public_page, record_created, record_update
from catalog.handlers.unit_of_work import CatalogUnitOfWork
from catalog.models import (
    Product,
)
from catalog.schemas.products import ProductCreate, ProductPublic, ProductUpdate
from libs.contracts.catalog import (
    ProductChanged,
)
from libs.platform.db import utcnow
from libs.platform.errors import Conflict
from libs.platform.ids import new_id
from libs.platform.pagination import Page, PageRequest


def product_public(row: Product) -> ProductPublic:
    """The public view of a product row."""
    return ProductPublic.model_validate(row, from_attributes=True)


def _product_changed(row: Product, change: str) -> ProductChanged:
    return ProductChanged(
        product_id=row.id,
        change=change,
        sku=row.sku,
        name=row.name,
        kind=row.kind,
        unit_of_measure=row.unit_of_measure,
        license_type=row.license_type,
        revenue_rule=row.revenue_rule,
        tax_code=row.tax_code,
        vendor_id=row.vendor_id,
        active=row.active,
    )


async def create_product(*, uow: CatalogUnitOfWork, command: ProductCreate) -> ProductPublic:
    """Add a product; its SKU must be new (409 otherwise)."""
    if await uow.catalog.exists(Product, sku=command.sku):
        raise Conflict(f"a product with SKU {command.sku!r} already exists")
    now = utcnow()
    row = Product(id=new_id("prod"), **command.model_dump(), active=True, created_at=now, updated_at=now)
    public = product_public(row)
    await record_created(uow, row, "product", public, _product_changed(row, "created"))
    return public


async def update_product(*, uow: CatalogUnitOfWork, product_id: str, command: ProductUpdate) -> ProductPublic:
    """Change a product's descriptive fields (the SKU and kind stay)."""
    row = await uow.catalog.get(Product, product_id)
    changes = command.model_dump(exclude_unset=True)
    await record_update(
        uow,
        row,
        changes,
        entity_type="product",
        changed=_product_changed,
        nullable=("description", "vendor_id"),
    )
    return product_public(row)


async def get_product(*, uow: CatalogUnitOfWork, product_id: str) -> ProductPublic:
    """One product."""
    return product_public(await uow.catalog.get(Product, product_id))


async def list_products(
    *, uow: CatalogUnitOfWork, page: PageRequest, kind: str | None, active: bool | None
) -> Page[ProductPublic]:
    """A page of products, optionally of one kind or activity."""
    return public_page(await uow.catalog.page(Product, page, kind=kind, active=active), product_public)
