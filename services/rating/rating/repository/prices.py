"""The read model of catalog prices and cost books in SQL: `rating_prices`, `rating_cost_books`.

Terms and tiers are JSON with decimals as strings, so they come back exactly on both backends.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import tuple_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from libs.contracts.vocabulary import BillingFrequency, ChargeType, PricingModel, TierMode, TierPeriod
from libs.pricing import Tier
from rating.domain.prices import CostBookVersion, PriceTerms, PriceVersion
from rating.handlers.prices import PriceReadModel
from rating.models import RatedCostBook, RatedPrice


def _text(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


def _decimal(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def tiers_json(tiers: tuple[Tier, ...]) -> list[dict[str, str | None]]:
    """Tiers as JSON-ready dicts of decimal strings."""
    return [
        {"up_to": _text(t.up_to), "unit_price": _text(t.unit_price), "flat_fee": _text(t.flat_fee)}
        for t in tiers
    ]


def tiers_of(data: list[dict[str, Any]]) -> tuple[Tier, ...]:
    """Tiers from their JSON form."""
    return tuple(
        Tier(_decimal(t["up_to"]), Decimal(t["unit_price"]), Decimal(t.get("flat_fee") or "0")) for t in data
    )


def terms_json(terms: PriceTerms) -> str:
    """A price version's terms as stored."""
    return json.dumps(
        {
            "unit_price": _text(terms.unit_price),
            "amount": _text(terms.amount),
            "tiers": tiers_json(terms.tiers),
            "package_size": _text(terms.package_size),
            "included_quantity": _text(terms.included_quantity),
            "minimum_commitment": _text(terms.minimum_commitment),
            "cost_book_id": terms.cost_book_id,
        }
    )


def price_version_of(row: RatedPrice) -> PriceVersion:
    """The price version of a row."""
    terms = json.loads(row.terms)
    return PriceVersion(
        price_id=row.price_id,
        version=row.version,
        product_id=row.product_id,
        currency=row.currency,
        charge_type=ChargeType(row.charge_type),
        billing_period=None if row.billing_period is None else BillingFrequency(row.billing_period),
        terms=PriceTerms(
            model=PricingModel(row.model),
            unit_price=_decimal(terms["unit_price"]),
            amount=_decimal(terms["amount"]),
            tiers=tiers_of(terms["tiers"]),
            package_size=_decimal(terms["package_size"]),
            included_quantity=Decimal(terms["included_quantity"] or "0"),
            minimum_commitment=_decimal(terms["minimum_commitment"]),
            cost_book_id=terms["cost_book_id"],
        ),
        effective_from=row.effective_from,
        effective_to=row.effective_to,
    )


def cost_book_version_of(row: RatedCostBook) -> CostBookVersion:
    """The cost book version of a row."""
    return CostBookVersion(
        cost_book_id=row.cost_book_id,
        version=row.version,
        vendor_id=row.vendor_id,
        currency=row.currency,
        mode=TierMode(row.mode),
        tier_period=TierPeriod(row.tier_period),
        markup_percent=row.markup_percent,
        tiers=tiers_of(json.loads(row.tiers)),
        effective_from=row.effective_from,
        effective_to=row.effective_to,
    )


class SqlPriceReadModel(PriceReadModel):
    """Price and cost book versions over their two tables."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def price_versions(self, keys: Collection[tuple[str, int]]) -> dict[tuple[str, int], PriceVersion]:
        """The stored versions of these (price id, version) pairs."""
        if not keys:
            return {}
        stmt = select(RatedPrice).where(
            tuple_(col(RatedPrice.price_id), col(RatedPrice.version)).in_(list(set(keys)))
        )
        rows = (await self.session.exec(stmt)).all()
        return {(row.price_id, row.version): price_version_of(row) for row in rows}

    async def usage_prices_of(self, product_ids: Collection[str]) -> list[PriceVersion]:
        """Every stored version of these products' usage prices."""
        if not product_ids:
            return []
        stmt = select(RatedPrice).where(
            col(RatedPrice.product_id).in_(set(product_ids)),
            col(RatedPrice.charge_type) == ChargeType.USAGE.value,
        )
        return [price_version_of(row) for row in (await self.session.exec(stmt)).all()]

    async def cost_book_versions(self, cost_book_ids: Collection[str]) -> list[CostBookVersion]:
        """Every stored version of these cost books."""
        if not cost_book_ids:
            return []
        stmt = select(RatedCostBook).where(col(RatedCostBook.cost_book_id).in_(set(cost_book_ids)))
        return [cost_book_version_of(row) for row in (await self.session.exec(stmt)).all()]

    async def save_price_version(self, version: PriceVersion, event_at: datetime) -> bool:
        """Store the version unless the stored row comes from a newer event."""
        stored = await self.session.get(RatedPrice, (version.price_id, version.version))
        if stored is not None and stored.event_at > event_at:
            return False
        row = RatedPrice(
            price_id=version.price_id,
            version=version.version,
            product_id=version.product_id,
            currency=version.currency,
            charge_type=version.charge_type.value,
            billing_period=None if version.billing_period is None else version.billing_period.value,
            model=version.terms.model.value,
            terms=terms_json(version.terms),
            effective_from=version.effective_from,
            # A successor may have ended this version already (its event came first): keep that end.
            effective_to=version.effective_to
            if stored is None or stored.effective_to is None
            else stored.effective_to,
            event_at=event_at,
        )
        await self.session.merge(row)
        return True

    async def end_price_version(self, price_id: str, version: int, effective_to: date) -> None:
        """Set the end of a stored version."""
        await self.session.exec(
            update(RatedPrice)
            .where(col(RatedPrice.price_id) == price_id, col(RatedPrice.version) == version)
            .values(effective_to=effective_to)
        )

    async def save_cost_book_version(self, version: CostBookVersion, event_at: datetime) -> bool:
        """Store the cost book version unless the stored row comes from a newer event."""
        stored = await self.session.get(RatedCostBook, (version.cost_book_id, version.version))
        if stored is not None and stored.event_at > event_at:
            return False
        await self.session.merge(
            RatedCostBook(
                cost_book_id=version.cost_book_id,
                version=version.version,
                vendor_id=version.vendor_id,
                currency=version.currency,
                mode=version.mode.value,
                tier_period=version.tier_period.value,
                markup_percent=version.markup_percent,
                tiers=json.dumps(tiers_json(version.tiers)),
                effective_from=version.effective_from,
                effective_to=version.effective_to,
                event_at=event_at,
            )
        )
        return True
