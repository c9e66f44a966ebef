"""Requests and views of quotes."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import (
    BaseModel,
    Field,
    model_validator,
)

from catalog.schemas.common import (
    REQUEST,
    DecimalText,
    EntityId,
    PromoCode,
)
from libs.contracts.types import (
    CurrencyCode,
    IsoDate,
    NonNegativeAmount,
    Percent,
    Quantity,
    UnitPrice,
)


class QuoteItemIn(BaseModel):
    """A price and quantity to quote, or a bundle (priced through its components)."""

    model_config = REQUEST
    price_id: EntityId | None = None
    bundle_id: EntityId | None = None
    quantity: Quantity
    discount_ids: list[EntityId] = Field(default_factory=list, max_length=20)

    @model_validator(mode="after")
    def _one_of_price_or_bundle(self) -> QuoteItemIn:
        if (self.price_id is None) == (self.bundle_id is None):
            raise ValueError("give exactly one of price_id and bundle_id")
        return self


class QuoteCreate(BaseModel):
    """Items to price in one currency, as of a date."""

    model_config = REQUEST
    currency: CurrencyCode
    as_of: IsoDate | None = Field(default=None, description="Defaults to today (UTC).")
    items: list[QuoteItemIn] = Field(min_length=1, max_length=100)
    discount_ids: list[EntityId] = Field(
        default_factory=list, max_length=20, description="Quote-level: applied to every line."
    )
    promo_codes: list[PromoCode] = Field(
        default_factory=list,
        max_length=20,
        description="Promotion codes valid on `as_of`; each applies to the lines of the products it covers.",
        examples=[["SPRING26"]],
    )


class LineDiscountPublic(BaseModel):
    """What one discount took off a line."""

    discount_id: str
    name: str
    amount: NonNegativeAmount


class TierLinePublic(BaseModel):
    """One band of a line's price; informational and unrounded (band_from exclusive)."""

    band_from: DecimalText
    band_to: DecimalText | None
    quantity: DecimalText
    unit_price: DecimalText
    flat_fee: DecimalText
    amount: DecimalText


class QuoteLinePublic(BaseModel):
    """A priced line: list amount, discounts and net, each rounded once to the currency."""

    line_number: int
    product_id: str
    price_id: str
    price_version: int
    bundle_id: str | None = None
    description: str
    quantity: Quantity
    unit_price: UnitPrice = Field(description="Effective unit price (list amount / quantity).")
    list_amount: NonNegativeAmount
    discounts: list[LineDiscountPublic]
    discount_amount: NonNegativeAmount
    net_amount: NonNegativeAmount
    effective_percent_off: Percent
    needs_approval: bool
    tier_breakdown: list[TierLinePublic]
    minimum_shortfall: NonNegativeAmount


class QuotePublic(BaseModel):
    """A quote: lines and totals (sums of the rounded lines)."""

    id: str
    currency: str
    as_of: date
    lines: list[QuoteLinePublic]
    subtotal: NonNegativeAmount
    discount_total: NonNegativeAmount
    total: NonNegativeAmount
    needs_approval: bool
    approval_reasons: list[str]
    created_at: datetime
