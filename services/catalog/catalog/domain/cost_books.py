"""Vendor cost books: tiers of vendor cost by quantity band, and our markup on top."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from libs.contracts.vocabulary import TierMode, TierPeriod
from libs.platform.errors import FieldErrors, ValidationFailed
from libs.pricing import CostBook as PricingCostBook
from libs.pricing import Tier, validate_cost_book

from .versions import supersede


def cost_book(
    tiers: tuple[Tier, ...],
    mode: TierMode,
    markup_percent: Decimal,
    tier_period: TierPeriod = TierPeriod.MONTHLY,
) -> PricingCostBook:
    """The pricing engine's cost book, validated; field paths name the request's fields."""
    book = PricingCostBook(tiers=tiers, mode=mode, markup_percent=markup_percent, period=tier_period)
    try:
        validate_cost_book(book)
    except ValidationFailed as exc:
        errors = FieldErrors()
        for problem in exc.errors:
            errors.add(problem.field.removeprefix("cost_book."), problem.message, problem.code)
        errors.raise_if_any(exc.detail)
    return book


@dataclass
class CostBookVersion:
    """One published version of a vendor cost book: tiers of vendor cost and our markup."""

    id: str
    cost_book_id: str
    version: int
    vendor_id: str
    name: str
    currency: str
    mode: TierMode
    markup_percent: Decimal
    tiers: tuple[Tier, ...]
    effective_from: date
    effective_to: date | None
    published_at: datetime
    published_by: str
    tier_period: TierPeriod = TierPeriod.MONTHLY
    """The period the tier prices are for: the vendor's list is per unit per month."""

    def pricing_cost_book(self) -> PricingCostBook:
        """The pricing engine's cost book of this version."""
        return PricingCostBook(self.tiers, self.mode, self.markup_percent, self.tier_period)


@dataclass
class CostBook:
    """A vendor's cost book in a currency; tiers and markup live in versions. Records `CostBookPublished`."""

    id: str
    vendor_id: str
    currency: str
    latest_version: int
    created_at: datetime
    events: list[Any] = field(default_factory=list, repr=False, compare=False)

    def publish(self, version: CostBookVersion, latest: CostBookVersion | None = None) -> None:
        """Make `version` the latest; the version it succeeds (if any) ends where it starts."""
        supersede(latest, version)
        self.latest_version = version.version
        self.events.append(CostBookPublished(version))


@dataclass(frozen=True)
class CostBookPublished:
    """A cost book version was published."""

    version: CostBookVersion
