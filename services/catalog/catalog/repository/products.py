"""Products in SQL: `products` rows <-> `Product`."""

from __future__ import annotations

from typing import Any

from catalog.domain.products import Product
from catalog.handlers.unit_of_work import ProductRepository
from catalog.models import Product as ProductRow
from catalog.repository.common import SqlRepository
from libs.contracts.vocabulary import LicenseType, ProductKind, RevenueRule
from libs.platform.pagination import Page, PageRequest


class SqlProductRepository(SqlRepository[Product], ProductRepository):
    """Products over the `products` table."""

    model = ProductRow

    def to_domain(self, row: ProductRow) -> Product:
        """The product of a row."""
        return Product(
            id=row.id,
            sku=row.sku,
            name=row.name,
            description=row.description,
            kind=ProductKind(row.kind),
            unit_of_measure=row.unit_of_measure,
            license_type=LicenseType(row.license_type),
            revenue_rule=RevenueRule(row.revenue_rule),
            tax_code=row.tax_code,
            vendor_id=row.vendor_id,
            active=row.active,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )

    def to_row(self, product: Product) -> dict[str, Any]:
        """The columns of a product."""
        return {
            "id": product.id,
            "sku": product.sku,
            "name": product.name,
            "description": product.description,
            "kind": product.kind.value,
            "unit_of_measure": product.unit_of_measure,
            "license_type": product.license_type.value,
            "revenue_rule": product.revenue_rule.value,
            "tax_code": product.tax_code,
            "vendor_id": product.vendor_id,
            "active": product.active,
            "created_at": product.created_at,
            "updated_at": product.updated_at,
        }

    async def sku_taken(self, sku: str) -> bool:
        """True when a product has this SKU."""
        return await self._exists(sku=sku)

    async def page(self, page: PageRequest, *, kind: str | None, active: bool | None) -> Page[Product]:
        """A page of products ordered by id, optionally of one kind or activity."""
        return await self._page(page, kind=kind, active=active)
