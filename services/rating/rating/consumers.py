"""What the rating service consumes.

Each consumer group's handlers run in the consumer's transaction: their effects, the inbox
entry and the outbox rows of the events they cause commit together, so a redelivered message
changes nothing twice.

- `rating.usage` reads `usage.raw`: the `usage.recorded` events of a poll's batch messages go
  to `handlers.usage.record_usage` in one call, the same handler as `POST /v1/usage`. The usage
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
from typing import TYPE_CHECKING

from sqlmodel.ext.asyncio.session import AsyncSession

from libs.contracts.envelope import Envelope
from libs.contracts.registry import spec_of
from libs.contracts.topics import USAGE_RAW
from libs.contracts.usage import UsageRecorded
from libs.platform.batch_handlers import BatchEventHandler
from libs.platform.errors import FieldError, ValidationFailed
from libs.platform.service import ConsumerSpec
from rating.config import RatingSettings
from rating.domain.usage import UsageSource
from rating.handlers.usage import IngestionRules, record_usage
from rating.repository.unit_of_work import SqlRatingUnitOfWork
from rating.schemas.usage import MAX_BATCH_EVENTS

if TYPE_CHECKING:
    from libs.platform.service import ServiceRuntime

USAGE_GROUP = "rating.usage"


def consumer_specs(runtime: ServiceRuntime) -> list[ConsumerSpec]:
    """The consumer groups of the rating service, bound to its runtime."""
    return [usage_consumer(runtime)]


def usage_consumer(runtime: ServiceRuntime) -> ConsumerSpec:
    """`rating.usage`: usage events from `usage.raw`, recorded like a REST batch (see the module)."""
    settings = runtime.settings
    minutes = settings.usage_max_future_minutes if isinstance(settings, RatingSettings) else 60
    rules = IngestionRules(max_future=timedelta(minutes=minutes))

    async def record(session: AsyncSession, envelopes: Sequence[Envelope]) -> None:
        uow = SqlRatingUnitOfWork(
            runtime.db,
            producer=settings.service_name,
            actor=USAGE_GROUP,
            session=session,
            clock=runtime.clock,
        )
        refusals = []
        async with uow:
            # A poll may hold many batch messages: recorded in chunks the size of a REST batch,
            # so that no statement grows with the poll (all in the consumer's one transaction).
            for start in range(0, len(envelopes), MAX_BATCH_EVENTS):
                chunk = [e.payload for e in envelopes[start : start + MAX_BATCH_EVENTS]]
                receipt = await record_usage(uow=uow, events=chunk, source=UsageSource.TOPIC, rules=rules)
                refusals += receipt.refusals
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
        handlers={spec_of(UsageRecorded).type: BatchEventHandler(record, idempotent=True)},
    )
