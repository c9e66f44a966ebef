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
- `rating.usage` (`usage.raw`): the `usage.recorded` events of a poll's batch messages go
  to `handlers.usage.record_usage` in one call, the same handler as `POST /v1/usage`. A batch
  message whose items are all valid is read by msgspec straight into the handler's input (its
  payloads as `WireEvent`s, no pydantic envelope per item: `libs.contracts.batch`); any other
  is read item by item as before. The usage
  table's primary key (the producer's `event_id`) is the dedup of both doors, so the handler is
  registered `idempotent` and the consumer keeps one inbox row per message, none per event. An
  event the handler refuses (unknown or inactive meter, a timestamp too far ahead, an invalid
  record) fails the call: the consumer redoes the poll event by event, keeps the valid ones and
  parks each refused one as a dead letter with its reasons (`make dead-letters SERVICE=rating`;
  replay it once the meter exists).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlmodel.ext.asyncio.session import AsyncSession

from libs.contracts.catalog import ContractTemplateChanged, CostBookPublished, PricePublished
from libs.contracts.envelope import Envelope
from libs.contracts.provisioning import (
    ACCOUNT_PROFILE_EVENTS,
    SUBSCRIPTION_EVENTS,
    AccountProfile,
    SubscriptionCancelled,
    SubscriptionEvent,
)
from libs.contracts.registry import spec_of
from libs.contracts.topics import CATALOG_EVENTS, PROVISIONING_EVENTS, USAGE_RAW
from libs.contracts.usage import UsageRecorded
from libs.platform.batch_handlers import BatchEventHandler, PayloadHandler
from libs.platform.errors import FieldError, ValidationFailed
from libs.platform.event_routes import EventRoutes
from libs.platform.memory import gc_paused
from libs.platform.service import ConsumerSpec
from rating.config import RatingSettings
from rating.domain.usage import UsageSource
from rating.handlers import prices, subscriptions, support_contracts
from rating.handlers.balances_settlement import refund_cancelled_subscription
from rating.handlers.usage import IngestionRules, record_usage
from rating.repository.unit_of_work import SqlRatingUnitOfWork
from rating.schemas.usage import MAX_BATCH_EVENTS, RefusalPublic, receive_events, receive_wire_events
from rating.schemas.usage_wire import WireEvent

if TYPE_CHECKING:
    from libs.platform.service import ServiceRuntime

USAGE_GROUP = "rating.usage"

READ_MODEL_GROUP = "rating.read_model"

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
    return [
        usage_consumer(runtime),
        _read_model_consumer(runtime),
        _balances_consumer(runtime),
        support_consumer_spec(runtime),
    ]


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

    async def account_event(uow: SqlRatingUnitOfWork, profile: AccountProfile, envelope: Envelope) -> None:
        await subscriptions.apply_account_event(uow=uow, profile=profile, occurred_at=envelope.occurred_at)

    async def subscription_event(
        uow: SqlRatingUnitOfWork, event: SubscriptionEvent, envelope: Envelope
    ) -> None:
        await subscriptions.apply_subscription_event(
            uow=uow, event=event, occurred_at=envelope.occurred_at, event_kind=envelope.type
        )

    async def price_published(uow: SqlRatingUnitOfWork, event: PricePublished, envelope: Envelope) -> None:
        await prices.apply_price_published(uow=uow, event=event, occurred_at=envelope.occurred_at)

    async def cost_book_published(
        uow: SqlRatingUnitOfWork, event: CostBookPublished, envelope: Envelope
    ) -> None:
        await prices.apply_cost_book_published(uow=uow, event=event, occurred_at=envelope.occurred_at)

    routes = EventRoutes(unit_of_work)
    routes.on(ACCOUNT_PROFILE_EVENTS, account_event)
    routes.on(SUBSCRIPTION_EVENTS, subscription_event)
    routes.on(PricePublished, price_published)
    routes.on(CostBookPublished, cost_book_published)
    return ConsumerSpec(
        group_id=READ_MODEL_GROUP, topics=[PROVISIONING_EVENTS, CATALOG_EVENTS], handlers=routes.handlers
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


def usage_consumer(runtime: ServiceRuntime) -> ConsumerSpec:
    """`rating.usage`: usage events from `usage.raw`, recorded like a REST batch (see the module)."""
    settings = runtime.settings
    minutes = settings.usage_max_future_minutes if isinstance(settings, RatingSettings) else 60
    rules = IngestionRules(max_future=timedelta(minutes=minutes))

    async def record(session: AsyncSession, envelopes: Sequence[Envelope]) -> None:
        await record_payloads(session, [e.payload for e in envelopes])

    async def record_wire_events(session: AsyncSession, events: Sequence[WireEvent]) -> None:
        await record_payloads(session, events)

    async def record_chunks(uow: SqlRatingUnitOfWork, payloads: Sequence[Any]) -> list[RefusalPublic]:
        refusals: list[RefusalPublic] = []
        async with uow:
            # A poll may hold many batch messages: recorded in chunks the size of a REST batch,
            # so that no statement grows with the poll (all in the consumer's one transaction).
            for start in range(0, len(payloads), MAX_BATCH_EVENTS):
                chunk = payloads[start : start + MAX_BATCH_EVENTS]
                # Payloads msgspec read (all WireEvents), or an envelope's JSON (the slow path).
                received = (
                    receive_wire_events(chunk) if isinstance(chunk[0], WireEvent) else receive_events(chunk)
                )
                receipt = await record_usage(uow=uow, events=received, source=UsageSource.TOPIC, rules=rules)
                refusals += receipt.refusals
        return refusals

    async def record_payloads(session: AsyncSession, payloads: Sequence[Any]) -> None:
        uow = SqlRatingUnitOfWork(
            runtime.db,
            producer=settings.service_name,
            actor=USAGE_GROUP,
            session=session,
            clock=runtime.clock,
            # The process's guide, shared with the REST door (a RatingRuntime's; a private one else).
            guide_memory=getattr(runtime, "guide_memory", None),
            aggregate_memory=getattr(runtime, "aggregate_memory", None),
        )
        # The batch's objects die by reference counting (libs/platform/memory.py).
        with gc_paused():
            refusals = await record_chunks(uow, payloads)
        if refusals:
            # A dead letter's error is this message: it names each refused event and why.
            reasons = "; ".join(
                f"{r.event_id or f'item {r.index}'}: " + ", ".join(f"{e.field} {e.message}" for e in r.errors)
                for r in refusals
            )
            errors = [FieldError(e.field, e.message, e.code) for r in refusals for e in r.errors]
            raise ValidationFailed(f"usage refused: {reasons}"[:2000], errors)

    return ConsumerSpec(
        group_id=USAGE_GROUP,
        topics=[USAGE_RAW],
        # The REST door's turn (RatingRuntime.usage_write_turn): a poll queues with the batches
        # of this process and of the others on the same SQLite file, not in the busy handler.
        write_turn=getattr(runtime, "usage_write_turn", None),
        handlers={
            spec_of(UsageRecorded).type: BatchEventHandler(
                record, idempotent=True, payloads=PayloadHandler(WireEvent, record_wire_events)
            )
        },
    )
