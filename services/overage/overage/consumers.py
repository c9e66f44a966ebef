"""What the overage service consumes.

Each event is parsed into its contract and handed to one handler with a unit of work on the
consumer's transaction, so its effect and the inbox entry commit together (a redelivered event
changes nothing twice); an event older than the state it would replace changes nothing either.

- `overage.read_model` (`provisioning.events`, `catalog.events`): each subscription's licensed
  quantity (subscription.activated / changed / renewed / ...) — a notice whose licensed count
  differs from it is flagged on its case — and each vendor cost book's markup and currency
  (`catalog.cost_book_published`), which re-bills are priced with.

Notices are worked by the service's background worker from the stored notices (bootstrap's
periodic job), not from a topic: the webhook's acknowledgement needs only the database.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlmodel.ext.asyncio.session import AsyncSession

from libs.contracts import provisioning
from libs.contracts.catalog import CostBookPublished
from libs.contracts.envelope import Envelope
from libs.contracts.registry import spec_of
from libs.contracts.topics import CATALOG_EVENTS, PROVISIONING_EVENTS
from libs.platform.inbox import EventHandler
from libs.platform.service import ConsumerSpec
from overage.handlers import read_model
from overage.repository.unit_of_work import SqlOverageUnitOfWork

if TYPE_CHECKING:
    from libs.platform.service import ServiceRuntime

READ_MODEL_GROUP = "overage.read_model"

SUBSCRIPTION_EVENTS: tuple[type[provisioning.SubscriptionEvent], ...] = (
    provisioning.SubscriptionActivated,
    provisioning.SubscriptionChanged,
    provisioning.SubscriptionSuspended,
    provisioning.SubscriptionResumed,
    provisioning.SubscriptionCancelled,
    provisioning.SubscriptionExpired,
    provisioning.SubscriptionRenewed,
)


def consumer_specs(runtime: ServiceRuntime) -> list[ConsumerSpec]:
    """The consumer groups of the overage service, bound to its runtime."""
    return [read_model_consumer(runtime)]


def read_model_consumer(runtime: ServiceRuntime) -> ConsumerSpec:
    """`overage.read_model`: subscriptions' quantities and cost books' markups, as of their latest event."""

    def unit_of_work(session: AsyncSession) -> SqlOverageUnitOfWork:
        return SqlOverageUnitOfWork(
            runtime.db,
            producer=runtime.settings.service_name,
            actor=READ_MODEL_GROUP,
            session=session,
            clock=runtime.clock,
        )

    def on_subscription(model: type[provisioning.SubscriptionEvent]) -> EventHandler:
        async def handler(session: AsyncSession, envelope: Envelope) -> None:
            await read_model.apply_subscription_event(
                uow=unit_of_work(session), event=envelope.payload_as(model), occurred_at=envelope.occurred_at
            )

        return handler

    async def on_cost_book(session: AsyncSession, envelope: Envelope) -> None:
        await read_model.apply_cost_book_published(
            uow=unit_of_work(session),
            event=envelope.payload_as(CostBookPublished),
            occurred_at=envelope.occurred_at,
        )

    handlers: dict[str, EventHandler] = {spec_of(m).type: on_subscription(m) for m in SUBSCRIPTION_EVENTS}
    handlers[spec_of(CostBookPublished).type] = on_cost_book
    return ConsumerSpec(
        group_id=READ_MODEL_GROUP, topics=[PROVISIONING_EVENTS, CATALOG_EVENTS], handlers=handlers
    )
