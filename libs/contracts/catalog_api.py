"""The catalog's REST answers other services read: product, price, discount and quote.

These are the consumer's side of the catalog's responses (`GET /v1/products/{id}`,
`GET /v1/prices/{id}`, `GET /v1/discounts/{id}`, `POST /v1/quotes`): only the fields a
consumer relies on, each required unless the catalog may leave it out. A client validates the
JSON against them, so a malformed answer fails loudly instead of turning into a default.
Unknown fields are ignored so the catalog can add some. Amounts are read as decimals from the
catalog's decimal strings whatever their number of places (the wire format is the catalog's).
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from libs.contracts.vocabulary import BillingFrequency, BillingTiming, ChargeType, LicenseType, ProductKind


class _CatalogAnswer(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class CatalogProductAnswer(_CatalogAnswer):
    """`GET /v1/products/{id}`: what a consumer needs of a product."""

    id: str
    sku: str
    name: str
    kind: ProductKind
    license_type: LicenseType
    vendor_id: str | None = None


class CatalogPriceAnswer(_CatalogAnswer):
    """`GET /v1/prices/{id}?as_of=`: the price version in force on a date."""

    id: str
    product_id: str
    currency: str
    version: int = Field(ge=1)
    charge_type: ChargeType
    billing_period: BillingFrequency | None = Field(description="The billing frequency; null for one_time.")
    timing: BillingTiming


class CatalogDiscountAnswer(_CatalogAnswer):
    """`GET /v1/discounts/{id}`: a discount and the percent off above which it needs approval."""

    id: str
    name: str
    kind: str = Field(description="percent or amount.")
    value: Decimal
    approval_threshold_percent: Decimal | None = Field(
        default=None, description="None: the discount is pre-approved."
    )
    product_ids: list[str] = Field(default_factory=list, description="Products it applies to; empty = all.")


class CatalogQuotedDiscount(_CatalogAnswer):
    """What one discount took off a quoted line."""

    discount_id: str
    name: str
    amount: Decimal


class CatalogQuotedLine(_CatalogAnswer):
    """A priced line of a quote."""

    line_number: int = Field(ge=1)
    product_id: str
    price_id: str
    price_version: int = Field(ge=1)
    quantity: Decimal
    unit_price: Decimal
    list_amount: Decimal
    discounts: list[CatalogQuotedDiscount]
    discount_amount: Decimal
    net_amount: Decimal
    effective_percent_off: Decimal
    needs_approval: bool


class CatalogQuoteAnswer(_CatalogAnswer):
    """`POST /v1/quotes`: lines and totals (sums of the rounded lines)."""

    id: str
    currency: str
    lines: list[CatalogQuotedLine]
    subtotal: Decimal
    discount_total: Decimal
    total: Decimal
    needs_approval: bool


__all__ = [
    "CatalogDiscountAnswer",
    "CatalogPriceAnswer",
    "CatalogProductAnswer",
    "CatalogQuoteAnswer",
    "CatalogQuotedDiscount",
    "CatalogQuotedLine",
]
