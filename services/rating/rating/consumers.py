"""What the rating service consumes.

Each consumer group is listed in `consumer_specs`; each event is parsed into its contract and
handed to one handler with a unit of work on the consumer's transaction, so its effects, the
inbox entry and the outbox rows of the events it causes commit together (a redelivered event
changes nothing twice); an event older than the state it would replace changes nothing either.

- `rating.read_model` (`provisioning.events`, `catalog.events`): accounts and subscriptions,
  prices and cost books — what rating needs to guide and price usage.
- `rating.balances` (`provisioning.events`): `subscription.cancelled` refunds the unused prepaid
  part of the subscription's balances (`rating.handlers.balances_settlement`).
- `rating.support` (`catalog.events`): support-contract templates (seed 004).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from sqlmodel.ext.asyncio.session import AsyncSession

from libs.contracts import catalog, provisioning
from libs.contracts.catalog import ContractTemplateChanged
from libs.contracts.envelope import Envelope, EventPayload
from libs.contracts.provisioning import SubscriptionCancelled
from libs.contracts.registry import spec_of
from libs.contracts.topics import CATALOG_EVENTS, PROVISIONING_EVENTS
from libs.platform.inbox import EventHandler
from libs.platform.service import ConsumerSpec
from rating.handlers import prices, subscriptions, support_contracts
from rating.handlers.balances_settlement import refund_cancelled_subscription
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

SUPPORT_GROUP = "rating.support"
"""Support-contract templates from the catalog (seed 004)."""
BALANCES_GROUP = "rating.balances"


def _balances_consumer(runtime: ServiceRuntime) -> ConsumerSpec:
    """Refunds of cancelled subscriptions' prepaid balances."""

    async def on_cancelled(session: AsyncSession, envelope: Envelope) -> None:
        uow = SqlRatingUnitOfWork(
            runtime.db,
            producer=runtime.settings.service_name,
            actor="provisioning",
            session=session,
            clock=runtime.clock,
        )
        cancellation = envelope.payload_as(SubscriptionCancelled)
        await refund_cancelled_subscription(uow, cancellation=cancellation, event_id=str(envelope.event_id))

    return ConsumerSpec(
        group_id=BALANCES_GROUP,
        topics=[PROVISIONING_EVENTS],
        handlers={spec_of(SubscriptionCancelled).type: on_cancelled},
    )


def consumer_specs(runtime: ServiceRuntime) -> list[ConsumerSpec]:
    """The consumer groups of the rating service, bound to its runtime."""
    return [_read_model_consumer(runtime), _balances_consumer(runtime), support_consumer_spec(runtime)]


def _read_model_consumer(runtime: ServiceRuntime) -> ConsumerSpec:
    """`rating.read_model`: accounts, subscriptions, prices and cost books, each as of its latest event."""

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
    return ConsumerSpec(
        group_id=READ_MODEL_GROUP, topics=[PROVISIONING_EVENTS, CATALOG_EVENTS], handlers=handlers
    )


def support_consumer_spec(runtime: ServiceRuntime) -> ConsumerSpec:
    """`rating.support`: keeps the catalog's support-contract templates, each as of its latest event."""

    async def on_template_changed(session: AsyncSession, envelope: Envelope) -> None:
        uow = SqlRatingUnitOfWork(
            runtime.db,
            producer=runtime.settings.service_name,
            actor="catalog",
            session=session,
            clock=runtime.clock,
        )
        async with uow:
            await support_contracts.apply_contract_template(
                uow=uow,
                template=envelope.payload_as(ContractTemplateChanged),
                occurred_at=envelope.occurred_at,
            )

    return ConsumerSpec(
        group_id=SUPPORT_GROUP,
        topics=[CATALOG_EVENTS],
        handlers={spec_of(ContractTemplateChanged).type: on_template_changed},
    )
