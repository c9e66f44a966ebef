"""The payables read model in SQL: `payables_*` rows <-> domain objects."""

from __future__ import annotations

import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from libs.contracts.vocabulary import PricingModel, TierMode, TierPeriod
from libs.pricing import Tier
from overage.domain.resold_subscriptions import (
    CostBookVersion,
    PriceVersion,
    ResoldProduct,
    ResoldSubscription,
)
from overage.handlers.resold_subscriptions_port import ResaleReadModel
from overage.models.resold_subscriptions import (
    PayablesCostBookRow,
    PayablesPriceRow,
    PayablesProductRow,
    PayablesSubscriptionRow,
)
from overage.models.vendor_payables import VendorCommitmentRow


def tiers_json(tiers: tuple[Tier, ...]) -> str:
    """Tiers as JSON with exact decimal strings."""
    return json.dumps(
        [
            {
                "up_to": None if t.up_to is None else str(t.up_to),
                "unit_price": str(t.unit_price),
                "flat_fee": str(t.flat_fee),
            }
            for t in tiers
        ]
    )


def tiers_of(text: str) -> tuple[Tier, ...]:
    """Tiers back from their JSON."""
    data: list[dict[str, Any]] = json.loads(text)
    return tuple(
        Tier(
            None if t["up_to"] is None else Decimal(t["up_to"]),
            Decimal(t["unit_price"]),
            Decimal(t["flat_fee"]),
        )
        for t in data
    )


class SqlResaleReadModel(ResaleReadModel):
    """The payables read model over the overage database."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def apply_product(self, product: ResoldProduct) -> bool:
        """Keep the product unless a newer event is stored."""
        stored = await self.session.get(PayablesProductRow, product.product_id)
        if stored is not None and stored.event_at > product.event_at:
            return False
        await self.session.merge(
            PayablesProductRow(
                product_id=product.product_id, vendor_id=product.vendor_id, event_at=product.event_at
            )
        )
        await self.session.flush()
        return True

    async def apply_price(self, price: PriceVersion) -> None:
        """Keep a price version."""
        await self.session.merge(
            PayablesPriceRow(
                price_id=price.price_id,
                version=price.version,
                product_id=price.product_id,
                model=price.model.value,
                currency=price.currency,
                billing_period=price.billing_period,
                cost_book_id=price.cost_book_id,
                effective_from=price.effective_from,
                effective_to=price.effective_to,
            )
        )
        await self.session.flush()

    async def apply_cost_book(self, book: CostBookVersion) -> None:
        """Keep a cost book version."""
        await self.session.merge(
            PayablesCostBookRow(
                cost_book_id=book.cost_book_id,
                version=book.version,
                vendor_id=book.vendor_id,
                currency=book.currency,
                mode=book.mode.value,
                tier_period=book.tier_period.value,
                markup_percent=book.markup_percent,
                tiers=tiers_json(book.tiers),
                effective_from=book.effective_from,
                effective_to=book.effective_to,
            )
        )
        await self.session.flush()

    async def apply_subscription(self, subscription: ResoldSubscription) -> bool:
        """Keep the subscription unless a newer event is stored."""
        stored = await self.session.get(PayablesSubscriptionRow, subscription.subscription_id)
        if stored is not None and stored.event_at > subscription.event_at:
            return False
        await self.session.merge(
            PayablesSubscriptionRow(
                subscription_id=subscription.subscription_id,
                account_id=subscription.account_id,
                product_id=subscription.product_id,
                price_id=subscription.price_id,
                price_version=subscription.price_version,
                currency=subscription.currency,
                quantity=subscription.quantity,
                commitment_quantity=subscription.commitment_quantity,
                term_start=subscription.term_start,
                term_end=subscription.term_end,
                billing_period=subscription.billing_period,
                state=subscription.state,
                event_at=subscription.event_at,
            )
        )
        await self.session.flush()
        return True

    async def subscription(self, subscription_id: str) -> ResoldSubscription | None:
        """A subscription, if known."""
        row = await self.session.get(PayablesSubscriptionRow, subscription_id)
        return None if row is None else _subscription(row)

    async def product(self, product_id: str) -> ResoldProduct | None:
        """A product, if known."""
        row = await self.session.get(PayablesProductRow, product_id)
        return None if row is None else ResoldProduct(row.product_id, row.vendor_id, row.event_at)

    async def price(self, price_id: str, version: int) -> PriceVersion | None:
        """A price version, if known."""
        row = await self.session.get(PayablesPriceRow, (price_id, version))
        if row is None:
            return None
        return PriceVersion(
            price_id=row.price_id,
            version=row.version,
            product_id=row.product_id,
            model=PricingModel(row.model),
            currency=row.currency,
            billing_period=row.billing_period,
            cost_book_id=row.cost_book_id,
            effective_from=row.effective_from,
            effective_to=row.effective_to,
        )

    async def cost_book_versions(self, cost_book_id: str) -> list[CostBookVersion]:
        """Every version of a cost book."""
        stmt = select(PayablesCostBookRow).where(col(PayablesCostBookRow.cost_book_id) == cost_book_id)
        return [_cost_book(row) for row in (await self.session.exec(stmt)).all()]

    async def vendor_cost_books(self, vendor_id: str) -> list[CostBookVersion]:
        """Every version of a vendor's cost books."""
        stmt = select(PayablesCostBookRow).where(col(PayablesCostBookRow.vendor_id) == vendor_id)
        return [_cost_book(row) for row in (await self.session.exec(stmt)).all()]

    async def uncommitted_subscriptions(
        self,
        *,
        product_ids: Sequence[str] = (),
        price_ids: Sequence[str] = (),
        subscription_ids: Sequence[str] = (),
    ) -> list[ResoldSubscription]:
        """Active subscriptions of these products, prices or ids with no commitment (one query)."""
        Row = PayablesSubscriptionRow
        which = [
            col(column).in_(set(ids))
            for column, ids in (
                (Row.product_id, product_ids),
                (Row.price_id, price_ids),
                (Row.subscription_id, subscription_ids),
            )
            if ids
        ]
        if not which:
            return []
        committed = select(VendorCommitmentRow.subscription_id)
        stmt = (
            select(Row)
            .where(or_(*which), col(Row.state) == "active", col(Row.subscription_id).not_in(committed))
            .order_by(col(Row.subscription_id))
        )
        return [_subscription(row) for row in (await self.session.exec(stmt)).all()]

    async def products_of_vendor(self, vendor_id: str) -> list[str]:
        """Ids of a vendor's products."""
        stmt = select(PayablesProductRow.product_id).where(col(PayablesProductRow.vendor_id) == vendor_id)
        return list((await self.session.exec(stmt)).all())

    async def prices_of_cost_book(self, cost_book_id: str) -> list[str]:
        """Ids of the prices on a cost book."""
        stmt = (
            select(PayablesPriceRow.price_id)
            .where(col(PayablesPriceRow.cost_book_id) == cost_book_id)
            .distinct()
        )
        return list((await self.session.exec(stmt)).all())


def _subscription(row: PayablesSubscriptionRow) -> ResoldSubscription:
    return ResoldSubscription(
        subscription_id=row.subscription_id,
        account_id=row.account_id,
        product_id=row.product_id,
        price_id=row.price_id,
        price_version=row.price_version,
        currency=row.currency,
        quantity=row.quantity,
        commitment_quantity=row.commitment_quantity,
        term_start=row.term_start,
        term_end=row.term_end,
        billing_period=row.billing_period,
        state=row.state,
        event_at=row.event_at,
    )


def _cost_book(row: PayablesCostBookRow) -> CostBookVersion:
    return CostBookVersion(
        cost_book_id=row.cost_book_id,
        version=row.version,
        vendor_id=row.vendor_id,
        currency=row.currency,
        mode=TierMode(row.mode),
        tier_period=TierPeriod(row.tier_period),
        markup_percent=row.markup_percent,
        tiers=tiers_of(row.tiers),
        effective_from=row.effective_from,
        effective_to=row.effective_to,
    )
