"""The read model of the catalog's prices and cost books, and how a stored version becomes a `PriceSpec`.

Kept from `catalog.events` (catalog.price_published, catalog.cost_book_published). A version is
in force on [effective_from, effective_to); publishing a successor ends its predecessor where the
successor starts. The version in force on a day is the latest version started by that day,
unless it had its own end before it: so a successor that arrives before its predecessor's end
was recorded still wins. The math stays in `libs.pricing`; this module only maps data onto it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Protocol, TypeVar

from libs.contracts.vocabulary import BillingFrequency, ChargeType, PricingModel, TierMode, TierPeriod
from libs.pricing import CostBook, PriceSpec, Tier

ZERO = Decimal(0)


class Versioned(Protocol):
    """Anything published in effective-dated versions."""

    @property
    def version(self) -> int: ...

    @property
    def effective_from(self) -> date: ...

    @property
    def effective_to(self) -> date | None: ...


V = TypeVar("V", bound=Versioned)


@dataclass(frozen=True)
class PriceTerms:
    """The pricing fields of a price version (which are used depends on `model`)."""

    model: PricingModel
    unit_price: Decimal | None = None
    amount: Decimal | None = None
    tiers: tuple[Tier, ...] = field(default=())
    package_size: Decimal | None = None
    included_quantity: Decimal = ZERO
    minimum_commitment: Decimal | None = None
    cost_book_id: str | None = None


@dataclass(frozen=True)
class PriceVersion:
    """One published version of a catalog price, in force on [effective_from, effective_to)."""

    price_id: str
    version: int
    product_id: str
    currency: str
    charge_type: ChargeType
    billing_period: BillingFrequency | None
    terms: PriceTerms
    effective_from: date
    effective_to: date | None = None

    @property
    def is_usage(self) -> bool:
        """True for a usage price (one that rates metered quantities)."""
        return self.charge_type == ChargeType.USAGE


@dataclass(frozen=True)
class CostBookVersion:
    """One published version of a vendor cost book: tiers of vendor cost and our markup."""

    cost_book_id: str
    version: int
    vendor_id: str
    currency: str
    mode: TierMode
    tier_period: TierPeriod
    markup_percent: Decimal
    tiers: tuple[Tier, ...]
    effective_from: date
    effective_to: date | None = None

    def pricing_cost_book(self) -> CostBook:
        """The pricing engine's cost book of this version."""
        return CostBook(self.tiers, self.mode, self.markup_percent, self.tier_period)


def version_in_force(versions: Iterable[V], on: date) -> V | None:
    """The version in force on `on`: the latest one started by then, unless it had ended; else None."""
    latest: V | None = None
    for candidate in versions:
        if candidate.effective_from <= on and (latest is None or candidate.version > latest.version):
            latest = candidate
    if latest is None or (latest.effective_to is not None and on >= latest.effective_to):
        return None
    return latest


def term_months(term_start: date, term_end: date) -> int | None:
    """Whole months from `term_start` to `term_end` (None when the term is not whole months)."""
    months = (term_end.year - term_start.year) * 12 + (term_end.month - term_start.month)
    return months if months > 0 and term_end.day == term_start.day else None


def price_spec(
    price: PriceVersion, cost_book: CostBookVersion | None, months: int | None = None
) -> PriceSpec:
    """The pricing engine's view of a price version (with its cost book for cost-plus).

    `months` is the subscription's term length, used only by a price billed per term.
    """
    terms = price.terms
    return PriceSpec(
        model=terms.model,
        currency=price.currency,
        unit_price=terms.unit_price,
        amount=terms.amount,
        tiers=terms.tiers,
        package_size=terms.package_size,
        included_quantity=terms.included_quantity,
        minimum_commitment=terms.minimum_commitment,
        cost_book=None if cost_book is None else cost_book.pricing_cost_book(),
        billing_period=None if price.billing_period is None else price.billing_period.value,
        term_months=months if price.billing_period == BillingFrequency.TERM else None,
    )
