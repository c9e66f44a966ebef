"""What the rating service consumes: the read model of provisioning's accounts and subscriptions
and of the catalog's prices and cost books (group `rating.read_model`).

Each handler runs in the consumer's transaction: its effects and the inbox entry commit
together, so a redelivered event changes nothing twice; an event older than the state it
would replace changes nothing either.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from sqlmodel.ext.asyncio.session import AsyncSession

from libs.contracts import catalog, provisioning
from libs.contracts.envelope import Envelope, EventPayload
from libs.contracts.registry import spec_of
from libs.contracts.topics import CATALOG_EVENTS, PROVISIONING_EVENTS
from libs.platform.inbox import EventHandler
from libs.platform.service import ConsumerSpec
from rating.handlers import prices, subscriptions
from rating.repository.unit_of_work import SqlRatingUnitOfWork

if TYPE_CHECKING:
    from libs.platform.service import ServiceRuntime

READ_MODEL_GROUP = "rating.read_model"

SUBSCRIPTION_EVENTS: tuple[type[provisioning.SubscriptionEvent], ...] = (
    provisioning.SubscriptionActivated,
    provisioning.SubscriptionChanged,
    provisioning.SubscriptionSuspended,
    provisioning.SubscriptionResumed,
    provisioning.SubscriptionCancelled,
    provisioning.SubscriptionExpired,
    provisioning.SubscriptionRenewed,
)
ACCOUNT_EVENTS: tuple[type[provisioning.AccountProfile], ...] = (
    provisioning.AccountOpened,
    provisioning.AccountChanged,
)


def consumer_specs(runtime: ServiceRuntime) -> list[ConsumerSpec]:
    """The consumer groups of the rating service, bound to its runtime."""

    def unit_of_work(session: AsyncSession) -> SqlRatingUnitOfWork:
        return SqlRatingUnitOfWork(
            runtime.db,
            producer=runtime.settings.service_name,
            actor="read_model",
            session=session,
            clock=runtime.clock,
            price_cache=getattr(runtime, "price_cache", None),
        )

    def on(
        model: type[EventPayload], apply: Callable[[SqlRatingUnitOfWork, Envelope], Awaitable[object]]
    ) -> tuple[str, EventHandler]:
        async def handler(session: AsyncSession, envelope: Envelope) -> None:
            await apply(unit_of_work(session), envelope)

        return spec_of(model).type, handler

    async def account_event(uow: SqlRatingUnitOfWork, envelope: Envelope) -> None:
        model = next(m for m in ACCOUNT_EVENTS if spec_of(m).type == envelope.type)
        profile = envelope.payload_as(model)
        await subscriptions.apply_account_event(uow=uow, profile=profile, occurred_at=envelope.occurred_at)

    async def subscription_event(uow: SqlRatingUnitOfWork, envelope: Envelope) -> None:
        model = next(m for m in SUBSCRIPTION_EVENTS if spec_of(m).type == envelope.type)
        await subscriptions.apply_subscription_event(
            uow=uow,
            event=envelope.payload_as(model),
            occurred_at=envelope.occurred_at,
            event_kind=envelope.type,
        )

    async def price_published(uow: SqlRatingUnitOfWork, envelope: Envelope) -> None:
        event = envelope.payload_as(catalog.PricePublished)
        await prices.apply_price_published(uow=uow, event=event, occurred_at=envelope.occurred_at)

    async def cost_book_published(uow: SqlRatingUnitOfWork, envelope: Envelope) -> None:
        event = envelope.payload_as(catalog.CostBookPublished)
        await prices.apply_cost_book_published(uow=uow, event=event, occurred_at=envelope.occurred_at)

    handlers = dict(
        [
            *(on(model, account_event) for model in ACCOUNT_EVENTS),
            *(on(model, subscription_event) for model in SUBSCRIPTION_EVENTS),
            on(catalog.PricePublished, price_published),
            on(catalog.CostBookPublished, cost_book_published),
        ]
    )
    return [
        ConsumerSpec(
            group_id=READ_MODEL_GROUP, topics=[PROVISIONING_EVENTS, CATALOG_EVENTS], handlers=handlers
        )
    ]
