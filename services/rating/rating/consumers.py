"""What the rating service consumes.

Each consumer group is listed in `consumer_specs`; each event is parsed into its contract and
handed to one handler with a unit of work on the consumer's transaction, so its effects, the
inbox entry and the outbox rows of the events it causes commit together (a redelivered event
changes nothing twice).

- `rating.balances` (`provisioning.events`): `subscription.cancelled` refunds the unused prepaid
  part of the subscription's balances (`rating.handlers.balances_settlement`).
- `rating.support` (`catalog.events`): support-contract templates (seed 004).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlmodel.ext.asyncio.session import AsyncSession

from libs.contracts.catalog import ContractTemplateChanged
from libs.contracts.envelope import Envelope
from libs.contracts.provisioning import SubscriptionCancelled
from libs.contracts.registry import spec_of
from libs.contracts.topics import CATALOG_EVENTS, PROVISIONING_EVENTS
from libs.platform.service import ConsumerSpec
from rating.handlers import support_contracts
from rating.handlers.balances_settlement import refund_cancelled_subscription
from rating.repository.unit_of_work import SqlRatingUnitOfWork

if TYPE_CHECKING:
    from libs.platform.service import ServiceRuntime

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
    return [_balances_consumer(runtime), support_consumer_spec(runtime)]


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
