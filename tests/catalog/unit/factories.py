"""Builders for catalog domain values: defaults that price, override what a test is about."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from catalog.domain.discounts import DiscountTerms
from catalog.domain.quotes import QuoteItem, RequestedDiscount
from libs.contracts.vocabulary import PricingModel
from libs.pricing import DiscountKind, PriceSpec, Tier

D = Decimal


def per_unit(price: str, currency: str = "USD", **overrides: Any) -> PriceSpec:
    """A per-unit price spec."""
    return PriceSpec(PricingModel.PER_UNIT, currency, unit_price=D(price), **overrides)


def volume(*bands: tuple[str | None, str], currency: str = "USD") -> PriceSpec:
    """A volume-tiered price spec from (up_to, unit_price) pairs."""
    return PriceSpec(
        PricingModel.TIERED_VOLUME,
        currency,
        tiers=tuple(Tier(None if up is None else D(up), D(price)) for up, price in bands),
    )


def discount(value: str = "10", kind: DiscountKind = DiscountKind.PERCENT, **overrides: Any) -> DiscountTerms:
    """A discount on every product, approval above 15%."""
    values: dict[str, Any] = {
        "id": f"disc_{value}_{kind.value}",
        "name": f"{value} {kind.value}",
        "kind": kind,
        "value": D(value),
        "approval_threshold_percent": D("15"),
    }
    values.update(overrides)
    return DiscountTerms(**values)


def item(spec: PriceSpec, quantity: str, *discounts: DiscountTerms, product_id: str = "prod_a") -> QuoteItem:
    """One quote item on a price spec."""
    return QuoteItem(
        field="items.0",
        product_id=product_id,
        description="Seat",
        price_id="price_a",
        price_version=1,
        spec=spec,
        quantity=D(quantity),
        discounts=tuple(RequestedDiscount(d, f"discount_ids.{i}") for i, d in enumerate(discounts)),
    )


AS_OF = date(2026, 3, 1)
