"""The read model of catalog prices and cost books: its port, and the handlers of `catalog.events`.

`catalog.price_published` stores the version (and ends its predecessor where the catalog said);
`catalog.cost_book_published` stores the cost book version. Versions never change but for their
end, so a replayed event stores the same row; an event older than the row's changes nothing.
Every change also drops the process's price cache once the change is committed.
"""

from __future__ import annotations

import abc
from collections.abc import Collection
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from libs.contracts.catalog import CostBookPublished, PricePublished, TierTerms
from libs.pricing import Tier
from rating.domain.prices import CostBookVersion, PriceTerms, PriceVersion

if TYPE_CHECKING:
    from rating.handlers.unit_of_work import RatingUnitOfWork


class PriceReadModel(abc.ABC):
    """Stored price and cost book versions (the port; SQL in `rating.repository.prices`)."""

    @abc.abstractmethod
    async def price_versions(self, keys: Collection[tuple[str, int]]) -> dict[tuple[str, int], PriceVersion]:
        """The stored versions of these (price id, version) pairs (unknown ones left out)."""

    @abc.abstractmethod
    async def usage_prices_of(self, product_ids: Collection[str]) -> list[PriceVersion]:
        """Every stored version of the usage prices of these products, all currencies."""

    @abc.abstractmethod
    async def cost_book_versions(self, cost_book_ids: Collection[str]) -> list[CostBookVersion]:
        """Every stored version of these cost books."""

    @abc.abstractmethod
    async def save_price_version(self, version: PriceVersion, event_at: datetime) -> bool:
        """Store a version unless the stored one comes from a newer event; True when stored."""

    @abc.abstractmethod
    async def end_price_version(self, price_id: str, version: int, effective_to: date) -> None:
        """Set the end of a stored version (nothing when it is not stored yet)."""

    @abc.abstractmethod
    async def save_cost_book_version(self, version: CostBookVersion, event_at: datetime) -> bool:
        """Store a cost book version unless the stored one comes from a newer event; True when stored."""


def _tiers(tiers: list[TierTerms]) -> tuple[Tier, ...]:
    return tuple(Tier(t.up_to, t.unit_price, t.flat_fee) for t in tiers)


def price_version_of(event: PricePublished) -> PriceVersion:
    """The stored form of a published price version."""
    return PriceVersion(
        price_id=event.price_id,
        version=event.version,
        product_id=event.product_id,
        currency=event.currency,
        charge_type=event.charge_type,
        billing_period=event.billing_period,
        terms=PriceTerms(
            model=event.model,
            unit_price=event.unit_price,
            amount=event.amount,
            tiers=_tiers(event.tiers),
            package_size=event.package_size,
            included_quantity=Decimal(event.included_quantity),
            minimum_commitment=event.minimum_commitment,
            cost_book_id=event.cost_book_id,
        ),
        effective_from=event.effective_from,
        effective_to=event.effective_to,
    )


def cost_book_version_of(event: CostBookPublished) -> CostBookVersion:
    """The stored form of a published cost book version."""
    return CostBookVersion(
        cost_book_id=event.cost_book_id,
        version=event.version,
        vendor_id=event.vendor_id,
        currency=event.currency,
        mode=event.mode,
        tier_period=event.tier_period,
        markup_percent=event.markup_percent,
        tiers=_tiers(event.tiers),
        effective_from=event.effective_from,
        effective_to=event.effective_to,
    )


async def apply_price_published(
    *, uow: RatingUnitOfWork, event: PricePublished, occurred_at: datetime
) -> bool:
    """Keep a published price version (and the end it gave its predecessor); True when stored."""
    stored = await uow.prices.save_price_version(price_version_of(event), occurred_at)
    if stored and event.previous_version_effective_to is not None and event.version > 1:
        await uow.prices.end_price_version(
            event.price_id, event.version - 1, event.previous_version_effective_to
        )
    uow.after_commit(uow.price_cache.invalidate)
    await uow.commit()
    return stored


async def apply_cost_book_published(
    *, uow: RatingUnitOfWork, event: CostBookPublished, occurred_at: datetime
) -> bool:
    """Keep a published cost book version; True when stored."""
    stored = await uow.prices.save_cost_book_version(cost_book_version_of(event), occurred_at)
    uow.after_commit(uow.price_cache.invalidate)
    await uow.commit()
    return stored
