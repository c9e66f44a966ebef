"""Requests and views of quotes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    model_validator,
)

from catalog.domain.quotes import Quote, QuoteLine
from catalog.schemas.common import (
    REQUEST,
    DecimalText,
    EntityId,
    PromoCode,
)
from libs.contracts.types import (
    CurrencyCode,
    IntegerRange,
    IsoDate,
    NonNegativeAmount,
    Percent,
    Quantity,
    UnitPrice,
)
from libs.platform.money import amount_out, decimal_out, percent_out, unit_price_out

# Exactly one of price_id and bundle_id is a string (the other absent or null), as JSON Schema.
_PRICE_OR_BUNDLE: dict[str, Any] = {
    "oneOf": [
        {"required": [name], "properties": {name: {"type": "string"}}} for name in ("price_id", "bundle_id")
    ]
}


class QuoteItemIn(BaseModel):
    """A price and quantity to quote, or a bundle (priced through its components)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_PRICE_OR_BUNDLE)
    price_id: EntityId | None = None
    bundle_id: EntityId | None = None
    quantity: Quantity
    discount_ids: list[EntityId] = Field(default_factory=list, max_length=20)
    term_months: Annotated[int, IntegerRange(1, 600)] | None = Field(
        default=None,
        description="The term a price billed per term is quoted for: its amounts are for the "
        "whole term (a cost-plus price converts its cost book's period to it).",
    )

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


def quote_line_public(line: QuoteLine, currency: str, bundle_id: str | None) -> QuoteLinePublic:
    """The public view of a priced line, in the wire format of money (`_in_wire_format`)."""
    public = QuoteLinePublic(
        line_number=line.line_number,
        product_id=line.product_id,
        price_id=line.price_id,
        price_version=line.price_version,
        bundle_id=bundle_id,
        description=line.description,
        quantity=line.quantity,
        unit_price=line.unit_price,
        list_amount=line.list_amount,
        discounts=[
            LineDiscountPublic(discount_id=d.discount_id, name=d.name, amount=d.amount)
            for d in line.discounts
        ],
        discount_amount=line.discount_amount,
        net_amount=line.net_amount,
        effective_percent_off=line.effective_percent_off,
        needs_approval=line.needs_approval,
        tier_breakdown=[
            TierLinePublic(
                band_from=t.band_from,
                band_to=t.band_to,
                quantity=t.quantity,
                unit_price=t.unit_price,
                flat_fee=t.flat_fee,
                amount=t.amount,
            )
            for t in line.tier_breakdown
        ],
        minimum_shortfall=line.minimum_shortfall,
    )
    return _in_wire_format(public, currency)


def _in_wire_format(line: QuoteLinePublic, currency: str) -> QuoteLinePublic:
    """A line in the wire format of money (libs/platform/money.py), new or saved.

    Billed amounts (list, discounts, net, the minimum shortfall) have exactly the currency's
    minor units; the unit price, the quantity and the tier breakdown, informational and
    unrounded (DESIGN §7), are in their shortest exact form. A saved line goes through it
    too: a quote saved before the rule holds "150.000000".
    """
    return line.model_copy(
        update={
            "quantity": decimal_out(line.quantity),
            "unit_price": unit_price_out(line.unit_price),
            "list_amount": amount_out(line.list_amount, currency),
            "discounts": [
                d.model_copy(update={"amount": amount_out(d.amount, currency)}) for d in line.discounts
            ],
            "discount_amount": amount_out(line.discount_amount, currency),
            "net_amount": amount_out(line.net_amount, currency),
            "effective_percent_off": percent_out(line.effective_percent_off),
            "tier_breakdown": [
                t.model_copy(
                    update={
                        "band_from": decimal_out(t.band_from),
                        "band_to": decimal_out(t.band_to),
                        "quantity": decimal_out(t.quantity),
                        "unit_price": unit_price_out(t.unit_price),
                        "flat_fee": decimal_out(t.flat_fee),
                        "amount": decimal_out(t.amount),
                    }
                )
                for t in line.tier_breakdown
            ],
            "minimum_shortfall": amount_out(line.minimum_shortfall, currency),
        }
    )


def quote_public(quote: Quote) -> QuotePublic:
    """The public view of a saved quote (amounts and totals to the currency's minor units)."""
    return QuotePublic(
        id=quote.id,
        currency=quote.currency,
        as_of=quote.as_of,
        lines=[_in_wire_format(QuoteLinePublic.model_validate(line), quote.currency) for line in quote.lines],
        subtotal=amount_out(quote.subtotal, quote.currency),
        discount_total=amount_out(quote.discount_total, quote.currency),
        total=amount_out(quote.total, quote.currency),
        needs_approval=quote.needs_approval,
        approval_reasons=list(quote.approval_reasons),
        created_at=quote.created_at,
    )
