"""The read model: subscriptions' licensed quantities (provisioning) and cost books' markups (catalog).

Each event carries the whole state after the change; an event older (by `occurred_at`) than the
one applied changes nothing, so a replayed outbox changes nothing twice.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from libs.contracts.catalog import CostBookPublished
from libs.contracts.provisioning import SubscriptionEvent
from overage.domain.vendors import CostBookTerms, LicensedSubscription

if TYPE_CHECKING:
    from overage.handlers.unit_of_work import OverageUnitOfWork


async def apply_subscription_event(
    *, uow: OverageUnitOfWork, event: SubscriptionEvent, occurred_at: datetime
) -> bool:
    """Keep the subscription's quantity and state unless a newer event was applied; True when applied."""
    stored = await uow.read_model.subscription(event.subscription_id)
    if stored is not None and occurred_at < stored.event_at:
        return False
    await uow.read_model.save_subscription(
        LicensedSubscription(
            subscription_id=event.subscription_id,
            account_id=event.account_id,
            quantity=Decimal(event.quantity),
            currency=event.currency,
            state=event.state,
            event_at=occurred_at,
        )
    )
    await uow.commit()
    return True


async def apply_cost_book_published(
    *, uow: OverageUnitOfWork, event: CostBookPublished, occurred_at: datetime
) -> bool:
    """Keep the cost book's latest version's markup and currency; True when applied."""
    stored = await uow.read_model.cost_book(event.cost_book_id)
    if stored is not None and (stored.version, stored.event_at) > (event.version, occurred_at):
        return False
    await uow.read_model.save_cost_book(
        CostBookTerms(
            cost_book_id=event.cost_book_id,
            version=event.version,
            vendor_id=event.vendor_id,
            currency=event.currency,
            markup_percent=Decimal(event.markup_percent),
            event_at=occurred_at,
        )
    )
    await uow.commit()
    return True
