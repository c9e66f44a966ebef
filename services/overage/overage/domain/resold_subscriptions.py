"""What a vendor commitment is built from, as the catalog and provisioning published it.

Kept from their events (the `overage.payables_read_model` consumer): products (the vendor of a
resold product), price versions (the cost book of a cost-plus price), vendor cost book versions
(tiers, mode, the period the tiers are priced for, markup) and subscriptions (account, product,
committed seats, term, pinned price version). A subscription is *resold* when its product names a
vendor or its pinned price is cost-plus; its commitment is priced from the cost book in force at
the term's start.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from libs.contracts.vocabulary import PricingModel, TierMode, TierPeriod
from libs.pricing import CostBook, Tier


@dataclass(frozen=True)
class ResoldProduct:
    """A catalog product and the vendor we buy it from (None: our own product)."""

    product_id: str
    vendor_id: str | None
    event_at: datetime


@dataclass(frozen=True)
class PriceVersion:
    """One published version of a catalog price: enough to find a cost-plus price's cost book."""

    price_id: str
    version: int
    product_id: str
    model: PricingModel
    currency: str
    billing_period: str | None
    cost_book_id: str | None
    effective_from: date
    effective_to: date | None


@dataclass(frozen=True)
class CostBookVersion:
    """One published version of a vendor cost book."""

    cost_book_id: str
    version: int
    vendor_id: str
    currency: str
    mode: TierMode
    tier_period: TierPeriod
    markup_percent: Decimal
    tiers: tuple[Tier, ...]
    effective_from: date
    effective_to: date | None

    def in_force_on(self, day: date) -> bool:
        """True when `day` falls in [effective_from, effective_to)."""
        return self.effective_from <= day and (self.effective_to is None or day < self.effective_to)

    def book(self) -> CostBook:
        """The pricing engine's view of this version."""
        return CostBook(
            tiers=self.tiers, mode=self.mode, markup_percent=self.markup_percent, period=self.tier_period
        )


@dataclass(frozen=True)
class ResoldSubscription:
    """A subscription as of its latest event (resold or not: the catalog may tell us later)."""

    subscription_id: str
    account_id: str
    product_id: str
    price_id: str
    price_version: int
    currency: str
    quantity: Decimal
    commitment_quantity: Decimal
    term_start: date
    term_end: date
    billing_period: str | None
    state: str
    event_at: datetime

    @property
    def committed_seats(self) -> Decimal:
        """Seats the customer committed to for the term (the quantity when nothing more is said)."""
        return self.commitment_quantity if self.commitment_quantity > 0 else self.quantity


@dataclass(frozen=True)
class ResaleTerms:
    """Who we buy a subscription's seats from and at what cost: the vendor and its cost book."""

    vendor_id: str
    cost_book: CostBookVersion


def cost_book_in_force(versions: list[CostBookVersion], day: date) -> CostBookVersion | None:
    """The latest version in force on `day` (the highest version when several overlap)."""
    candidates = [v for v in versions if v.in_force_on(day)]
    return max(candidates, key=lambda v: v.version) if candidates else None


def resale_terms(
    *,
    subscription: ResoldSubscription,
    product: ResoldProduct | None,
    price: PriceVersion | None,
    books_by_id: list[CostBookVersion],
    books_by_vendor: list[CostBookVersion],
) -> ResaleTerms | None:
    """The vendor and cost book of a resold subscription, or None (not resold, or not known yet).

    A cost-plus price names its book; otherwise a product with a vendor uses that vendor's book in
    the subscription's currency. Either way the version in force at the term's start prices it.
    """
    day = subscription.term_start
    if price is not None and price.model is PricingModel.COST_PLUS and price.cost_book_id:
        book = cost_book_in_force(books_by_id, day)
        if book is None:
            return None
        return ResaleTerms(product.vendor_id if product and product.vendor_id else book.vendor_id, book)
    if product is None or product.vendor_id is None:
        return None
    same_currency = [b for b in books_by_vendor if b.currency == subscription.currency]
    book = cost_book_in_force(same_currency, day)
    return None if book is None else ResaleTerms(product.vendor_id, book)
