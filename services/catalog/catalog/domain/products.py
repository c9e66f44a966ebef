"""What a product is, in the words finance and sales use."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from libs.contracts.vocabulary import LicenseType, ProductKind, RevenueRule

from .common import apply_patch


@dataclass
class Product:
    """Something we sell; records `ProductChanged` when it is created or changed."""

    id: str
    sku: str
    name: str
    description: str | None
    kind: ProductKind
    unit_of_measure: str
    license_type: LicenseType
    revenue_rule: RevenueRule
    tax_code: str
    vendor_id: str | None
    active: bool
    created_at: datetime
    updated_at: datetime
    events: list[Any] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def create(cls, *, id: str, now: datetime, **fields: Any) -> Product:
        """A new, active product (its fields as the request gave them)."""
        product = cls(id=id, active=True, created_at=now, updated_at=now, **fields)
        product.events.append(ProductChanged(replace(product, events=[]), "created"))
        return product

    def update(self, changes: Mapping[str, Any], *, now: datetime) -> dict[str, Any]:
        """Change descriptive fields (the SKU and kind stay); returns the audit diff."""
        diff = apply_patch(self, changes, nullable=("description", "vendor_id"))
        if diff:
            self.updated_at = now
            self.events.append(ProductChanged(replace(self, events=[]), "updated"))
        return diff


@dataclass(frozen=True)
class ProductChanged:
    """A product was created or changed (`change`)."""

    product: Product
    change: str
