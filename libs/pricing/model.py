"""Value objects of a price: pricing models, tiers, vendor cost books and the price spec.

Plain frozen dataclasses so that catalog, provisioning, rating and invoicing can build them
from their own storage without this package knowing about any of it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from libs.contracts.vocabulary import PricingModel, TierMode, TierPeriod

ZERO = Decimal("0")


@dataclass(frozen=True)
class Tier:
    """One price band; `up_to` is inclusive and None only on the last (open-ended) tier."""

    up_to: Decimal | None
    unit_price: Decimal
    flat_fee: Decimal = ZERO


@dataclass(frozen=True)
class CostBook:
    """A vendor's tiered cost per unit per `period` and the markup (in percent) we add on top of it."""

    tiers: tuple[Tier, ...]
    mode: TierMode
    markup_percent: Decimal
    period: TierPeriod = TierPeriod.MONTHLY

    def __post_init__(self) -> None:
        object.__setattr__(self, "tiers", tuple(self.tiers))


@dataclass(frozen=True)
class PriceSpec:
    """Everything needed to price a quantity.

    Fields used per model:
    - flat: `amount` (a fixed amount per period or occurrence);
    - per_unit: `unit_price`;
    - tiered_graduated / tiered_volume: `tiers`;
    - package: `unit_price` (the price of one package) and `package_size`;
    - cost_plus: `cost_book`.
    `included_quantity` (free first units, counted against total usage) applies to every model
    but flat; `minimum_commitment` (a per-period floor, in money) to every model.
    `billing_period` (monthly, quarterly, annual or term, with `term_months` for term) is the
    period the price's amounts are for; a cost-plus price converts its book's period to it
    (`libs.pricing.periods.period_factor`). None keeps the book's own period.
    """

    model: PricingModel
    currency: str
    unit_price: Decimal | None = None
    amount: Decimal | None = None
    tiers: tuple[Tier, ...] = field(default=())
    package_size: Decimal | None = None
    included_quantity: Decimal = ZERO
    minimum_commitment: Decimal | None = None
    cost_book: CostBook | None = None
    billing_period: str | None = None
    term_months: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "tiers", tuple(self.tiers))


@dataclass(frozen=True)
class PriceTerms:
    """The pricing fields of one price version, which of them are used depending on `model`.

    The catalog stores them and the services that price with a catalog price keep a copy (rating
    from `catalog.price_published`); `spec` is the engine's view of them.
    """

    model: PricingModel
    unit_price: Decimal | None = None
    amount: Decimal | None = None
    tiers: tuple[Tier, ...] = field(default=())
    package_size: Decimal | None = None
    included_quantity: Decimal = ZERO
    minimum_commitment: Decimal | None = None
    cost_book_id: str | None = None

    def spec(
        self,
        currency: str,
        cost_book: CostBook | None = None,
        billing_period: str | None = None,
        term_months: int | None = None,
    ) -> PriceSpec:
        """The engine's view of these terms in `currency` (with the cost book of a cost-plus price)."""
        return PriceSpec(
            model=self.model,
            currency=currency,
            unit_price=self.unit_price,
            amount=self.amount,
            tiers=self.tiers,
            package_size=self.package_size,
            included_quantity=self.included_quantity,
            minimum_commitment=self.minimum_commitment,
            cost_book=cost_book,
            billing_period=billing_period,
            term_months=term_months,
        )
