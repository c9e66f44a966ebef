"""The payables read model, kept from the catalog's and provisioning's events, and the commitments
it lets us make: a resold subscription is committed as soon as its activation and the catalog data
it is priced from (product, price version, cost book) are all here, in whichever order they came.
The consumer's unit of work commits (with the inbox entry)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from libs.contracts import catalog, provisioning
from libs.contracts.vocabulary import PricingModel
from libs.pricing import Tier
from overage.domain.resold_subscriptions import (
    CostBookVersion,
    PriceVersion,
    ResoldProduct,
    ResoldSubscription,
)
from overage.handlers.vendor_commitments import commit_subscriptions, follow_seat_change

if TYPE_CHECKING:
    from overage.handlers.unit_of_work import OverageUnitOfWork


async def apply_product_changed(
    uow: OverageUnitOfWork, event: catalog.ProductChanged, occurred_at: datetime
) -> None:
    """Keep a product's vendor; commit its waiting subscriptions."""
    changed = await uow.resale.apply_product(ResoldProduct(event.product_id, event.vendor_id, occurred_at))
    if changed and event.vendor_id:
        waiting = await uow.resale.uncommitted_subscriptions(product_ids=[event.product_id])
        await commit_subscriptions(uow, waiting)


async def apply_price_published(uow: OverageUnitOfWork, event: catalog.PricePublished) -> None:
    """Keep a price version; commit its waiting subscriptions when it is cost-plus."""
    await uow.resale.apply_price(
        PriceVersion(
            price_id=event.price_id,
            version=event.version,
            product_id=event.product_id,
            model=PricingModel(event.model),
            currency=event.currency,
            billing_period=event.billing_period.value if event.billing_period else None,
            cost_book_id=event.cost_book_id,
            effective_from=event.effective_from,
            effective_to=event.effective_to,
        )
    )
    if event.model == PricingModel.COST_PLUS:
        waiting = await uow.resale.uncommitted_subscriptions(price_ids=[event.price_id])
        await commit_subscriptions(uow, waiting)


async def apply_cost_book_published(uow: OverageUnitOfWork, event: catalog.CostBookPublished) -> None:
    """Keep a cost book version; commit the waiting subscriptions it prices."""
    await uow.resale.apply_cost_book(
        CostBookVersion(
            cost_book_id=event.cost_book_id,
            version=event.version,
            vendor_id=event.vendor_id,
            currency=event.currency,
            mode=event.mode,
            tier_period=event.tier_period,
            markup_percent=event.markup_percent,
            tiers=tuple(Tier(t.up_to, t.unit_price, t.flat_fee) for t in event.tiers),
            effective_from=event.effective_from,
            effective_to=event.effective_to,
        )
    )
    waiting = await uow.resale.uncommitted_subscriptions(
        product_ids=await uow.resale.products_of_vendor(event.vendor_id),
        price_ids=await uow.resale.prices_of_cost_book(event.cost_book_id),
    )
    await commit_subscriptions(uow, waiting)


async def apply_subscription_event(
    uow: OverageUnitOfWork, event: provisioning.SubscriptionEvent, occurred_at: datetime
) -> None:
    """Keep a subscription as of its latest event; commit it when it is an active resold one."""
    subscription = ResoldSubscription(
        subscription_id=event.subscription_id,
        account_id=event.account_id,
        product_id=event.product_id,
        price_id=event.price_id,
        price_version=event.price_version,
        currency=event.currency,
        quantity=event.quantity,
        commitment_quantity=event.commitment_quantity,
        term_start=event.term_start,
        term_end=event.term_end,
        billing_period=event.billing_period.value if event.billing_period else None,
        state=event.state,
        event_at=occurred_at,
    )
    if await uow.resale.apply_subscription(subscription):
        await commit_subscriptions(uow, [subscription])
        if isinstance(event, provisioning.SubscriptionChanged) and subscription.state == "active":
            await follow_seat_change(uow, subscription, event.effective_date)
