"""What the rating service consumes.

Each consumer group is listed in `consumer_specs`; each event is parsed into its contract and
handed to one handler with a unit of work on the consumer's transaction, so its effects, the
inbox entry and the outbox rows of the events it causes commit together (a redelivered event
changes nothing twice).

- `rating.balances` (`provisioning.events`): `subscription.cancelled` refunds the unused prepaid
  part of the subscription's balances (`rating.handlers.balances_settlement`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlmodel.ext.asyncio.session import AsyncSession

from libs.contracts.envelope import Envelope
from libs.contracts.provisioning import SubscriptionCancelled
from libs.contracts.registry import spec_of
from libs.contracts.topics import PROVISIONING_EVENTS
from libs.platform.service import ConsumerSpec
from rating.handlers.balances_settlement import refund_cancelled_subscription
from rating.repository.unit_of_work import SqlRatingUnitOfWork

if TYPE_CHECKING:
    from libs.platform.service import ServiceRuntime

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
    return [_balances_consumer(runtime)]
