"""Requests and views of products."""

from __future__ import annotations

from datetime import datetime

from pydantic import (
    BaseModel,
    Field,
)

from catalog.domain.products import Product
from catalog.schemas.common import (
    REQUEST,
    Code,
    Description,
    Name,
    Sku,
    VendorId,
    patch_body,
)
from libs.contracts.types import (
    StrictBool,
)
from libs.contracts.vocabulary import LicenseType, ProductKind, RevenueRule


class ProductBase(BaseModel):
    """Fields of a product a client sets."""

    name: Name
    description: Description | None = None
    kind: ProductKind
    unit_of_measure: Code = Field(examples=["seat"])
    license_type: LicenseType = LicenseType.NONE
    revenue_rule: RevenueRule
    tax_code: Code = Field(examples=["SW050000"])
    vendor_id: VendorId | None = Field(default=None, description="Vendor of a resold product.")


class ProductCreate(ProductBase):
    """A new product; the SKU is unique in the catalog."""

    model_config = REQUEST
    sku: Sku = Field(examples=["WFM-SEAT"])


class ProductUpdate(BaseModel):
    """Fields to change on a product (absent = unchanged)."""

    model_config = patch_body("description", "vendor_id")
    name: Name | None = None
    description: Description | None = None
    unit_of_measure: Code | None = None
    license_type: LicenseType | None = None
    revenue_rule: RevenueRule | None = None
    tax_code: Code | None = None
    vendor_id: VendorId | None = None
    active: StrictBool | None = None


class ProductPublic(ProductBase):
    """A product as the catalog shows it."""

    id: str
    sku: str
    active: bool
    created_at: datetime
    updated_at: datetime


def product_public(product: Product) -> ProductPublic:
    """The public view of a product."""
    return ProductPublic.model_validate(product, from_attributes=True)
