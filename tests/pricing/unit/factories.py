"""Builders for price specs used across the pricing tests."""

from __future__ import annotations

from decimal import Decimal

from libs.contracts.vocabulary import PricingModel, TierMode
from libs.pricing import CostBook, PriceSpec, Tier

D = Decimal


def tiers(*bands: tuple[str | None, str]) -> tuple[Tier, ...]:
    """Tiers from (up_to, unit_price) string pairs; None for the open last band."""
    return tuple(Tier(None if up is None else D(up), D(price)) for up, price in bands)


def graduated(*bands: tuple[str | None, str], included: str = "0", currency: str = "USD") -> PriceSpec:
    """A graduated tiered price."""
    return PriceSpec(
        PricingModel.TIERED_GRADUATED, currency, tiers=tiers(*bands), included_quantity=D(included)
    )


def volume(*bands: tuple[str | None, str], included: str = "0", currency: str = "USD") -> PriceSpec:
    """A volume tiered price."""
    return PriceSpec(PricingModel.TIERED_VOLUME, currency, tiers=tiers(*bands), included_quantity=D(included))


def per_unit(price: str, included: str = "0", currency: str = "USD") -> PriceSpec:
    """A per-unit price."""
    return PriceSpec(PricingModel.PER_UNIT, currency, unit_price=D(price), included_quantity=D(included))


def wfm_book(mode: TierMode = TierMode.VOLUME) -> CostBook:
    """EXAMPLES case 1: 1-100 12.00, 101-500 10.00, 501+ 8.50, markup 20%."""
    return CostBook(tiers(("100", "12.00"), ("500", "10.00"), (None, "8.50")), mode, D("20"))


def case7_graduated() -> PriceSpec:
    """EXAMPLES case 7: 1,000 included; to 10,000 at 0.0100; above at 0.0075."""
    return graduated(("10000", "0.0100"), (None, "0.0075"), included="1000")


def case7_volume() -> PriceSpec:
    """EXAMPLES case 7, volume without included units."""
    return volume(("10000", "0.0100"), (None, "0.0075"))
