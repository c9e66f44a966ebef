"""Idempotent consumer (DESIGN §4): each applied `event_id` is recorded in an inbox table in the
same transaction as the handler's effect; offsets are committed only after that transaction.

A redelivered event finds its id in the inbox and is skipped, so every event takes effect
exactly once. A batch is applied in one transaction without savepoints (the fast path); only
when a handler raises is it redone with a savepoint per event, so that the failing event is
isolated and the rest of the batch applies:

- an event that can never apply as it is — a malformed envelope (no `event_id`, a timestamp
  without a time zone), a `schema_version` newer than this code, a handler's permanent domain
  or validation error — is parked at once as a dead letter (`libs.platform.dead_letters`);
- an event that may succeed later — a transient domain error (`NotFound`, `RetryableError`) or
  any unexpected exception — stops its partition: the partition is rewound to it and paused
  for a doubling back-off while the other partitions go on, and after `max_attempts` the event
  is parked and its partition moves past it.

A parked event gets no inbox row, so an operator can replay it (`libs.platform.replay`); nor
does an event of a type no handler reads (there is nothing to apply).
A batch message (`libs.contracts.batch`) is applied like its events sent one by one, or, for a
handler registered as a `BatchEventHandler`, whole in one call with one inbox row for the
message (`libs.platform.batch_handlers` says how that stays exactly once).
A failure of the database or of the group (a commit refused after a rebalance) never ends the
loop: the batch is redone from the partitions this member still owns, the rest is redelivered
to their new owner, whose inbox skips what was applied here.

An event holding a card number is applied like any other: events come from services whose
edge refused card numbers already (libs/platform/card_numbers.py), and every log line is masked.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError
from sqlmodel.ext.asyncio.session import AsyncSession

from libs.contracts.batch import PayloadDecoders
from libs.contracts.envelope import Envelope
from libs.platform.batch_handlers import (
    BatchDelivery,
    BatchEventHandler,
    by_message,
    runs_by_handler,
    unread,
)
from libs.platform.db import Database
from libs.platform.dead_letters import DeadLetter, park
from libs.platform.deliveries import (
    Delivery,
    deliveries_of,
    describe,
    envelopes_of,
    is_infrastructure,
)
from libs.platform.inbox_entries import InboxEntry, applied_ids, record_applied
from libs.platform.log_resets import LogResetWatch
from libs.platform.logging import get_logger, reset_correlation_id, set_correlation_id
from libs.platform.memory import gc_paused
from libs.platform.partition_retries import PartitionRetries, Retry

__all__ = [
    "BatchEventHandler",
    "DeadLetter",
    "EventHandler",
    "IdempotentConsumer",
    "InboxEntry",
    "envelopes_of",
]

log = get_logger("inbox")

EventHandler = Callable[[AsyncSession, Envelope], Awaitable[None]]

MAX_BATCH_BACKOFF_S = 30.0
"""The longest the whole loop waits after a database or broker failure (an event's own retries:
libs/platform/partition_retries.py)."""

FETCH_MAX_BYTES = 52_428_800
"""aiokafka's default for the most one fetch brings back (all partitions together). The consumer
keeps a response until its records are polled, so a group that lags behind a busy topic holds
full responses all the time: a bill run's worker (two groups reading `invoicing.events` behind
the run) held 11 MiB of them and its RSS grew with the run's length. A service with little to
gain from large fetches sets less (`consumer_fetch_max_kib`, at least 1 MiB: aiokafka's limit
per partition, which already relies on the broker returning a first record batch larger than
the limit whole — the producers' messages may reach 8 MiB, libs/platform/broker.py)."""


@dataclass
class _Outcome:
    applied: int = 0
    skipped: int = 0
    parked: int = 0
    retries: dict[TopicPartition, Retry] = field(default_factory=dict)


class _HandlerFailed(Exception):
    """A handler raised on the fast path: which event (or, for a batch handler, the first event
    of the message it was given), and the error."""

    def __init__(self, delivery: Delivery, error: Exception, *, whole_message: bool = False) -> None:
        super().__init__(str(error))
        self.delivery = delivery
        self.error = error
        self.whole_message = whole_message


class IdempotentConsumer:
    """Consumes topics in a named group, applies handlers by event type, exactly once."""

    def __init__(
        self,
        db: Database,
        *,
        group_id: str,
        topics: Sequence[str],
        handlers: Mapping[str, EventHandler],
        bootstrap_servers: str,
        batch_size: int = 500,
        fetch_max_bytes: int = FETCH_MAX_BYTES,
        client_id: str | None = None,
        session_timeout_ms: int = 10_000,
        rebalance_timeout_ms: int = 5_000,
        max_attempts: int = 5,
        retry_backoff_s: float = 0.5,
        write_turn: Callable[[], contextlib.AbstractAsyncContextManager[Any]] | None = None,
        prepare: Callable[[Sequence[Envelope]], Awaitable[object]] | None = None,
    ) -> None:
        self.db = db
        self._write_turn = write_turn or contextlib.nullcontext
        self._prepare = prepare
        self.group_id = group_id
        self.topics = list(topics)
        self.handlers = dict(handlers)
        self._decoders = PayloadDecoders(
            {
                event_type: handler.payloads.payload_type
                for event_type, handler in self.handlers.items()
                if isinstance(handler, BatchEventHandler) and handler.payloads is not None
            }
        )
        self.bootstrap_servers = bootstrap_servers
        self.batch_size = batch_size
        self.fetch_max_bytes = fetch_max_bytes
        self.client_id = client_id or group_id
        self.session_timeout_ms = session_timeout_ms
        self.rebalance_timeout_ms = rebalance_timeout_ms
        self._partition_retries = PartitionRetries(
            group_id=group_id, max_attempts=max_attempts, backoff_s=retry_backoff_s
        )
        self.applied_total = 0
        self.skipped_duplicates = 0
        self.parked_total = 0
        self.retries_total = 0
        self.consumer: AIOKafkaConsumer | None = None
        # Set by the service's supervisor when the loop ended with an error (readiness).
        self.failure: str | None = None
        self._log_resets = LogResetWatch()

    def _new_consumer(self) -> AIOKafkaConsumer:
        # Offsets are committed by hand, after the database transaction (commit policy: manual).
        return AIOKafkaConsumer(
            *self.topics,
            bootstrap_servers=self.bootstrap_servers,
            group_id=self.group_id,
            client_id=self.client_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=self.batch_size,
            # A fetch's response stays in memory until the group has polled all of its records;
            # a group that lags gets full ones (see FETCH_MAX_BYTES).
            fetch_max_bytes=self.fetch_max_bytes,
            # A joining member waits up to the rebalance timeout for the others; a member that
            # vanished without leaving is noticed after the session timeout.
            session_timeout_ms=self.session_timeout_ms,
            heartbeat_interval_ms=max(100, self.session_timeout_ms // 10),
            rebalance_timeout_ms=self.rebalance_timeout_ms,
        )

    async def start(self) -> None:
        """Join the group (with a new Kafka consumer)."""
        self.consumer = self._new_consumer()
        self._partition_retries.clear()
        await self.consumer.start()

    async def stop(self) -> None:
        """Leave the group (uncommitted work is redelivered to the next member)."""
        if self.consumer is not None:
            consumer, self.consumer = self.consumer, None
            await consumer.stop()

    async def run(self, stop: asyncio.Event) -> None:
        """Poll and apply batches until `stop` is set.

        Database and broker failures are retried here with back-off; only an unexpected error
        of the loop itself ends it (the service's supervisor restarts the consumer).
        """
        if self.consumer is None:
            await self.start()
        assert self.consumer is not None
        consumer = self.consumer
        failures = 0
        while not stop.is_set():
            self._partition_retries.resume_due(consumer)
            try:
                batches = await consumer.getmany(timeout_ms=200, max_records=self.batch_size)
            except KafkaError as exc:
                failures += 1
                log.warning("consumer.fetch_failed", group=self.group_id, error=describe(exc))
                await _wait(stop, min(2.0 ** (failures - 1), MAX_BATCH_BACKOFF_S))
                continue
            # A broker that lost its logs (libs/platform/log_resets.py): read them again.
            batches = await self._log_resets.keep_in_log(consumer, batches, group=self.group_id)
            if not batches:
                continue
            records = [r for part in batches.values() for r in part]
            try:
                await self.apply(records)
            except Exception as exc:  # the database or a bug outside the handlers: redo later
                failures += 1
                log.warning("consumer.batch_failed", group=self.group_id, error=describe(exc))
                self._rewind(consumer, batches)
                await _wait(stop, min(2.0 ** (failures - 1), MAX_BATCH_BACKOFF_S))
                continue
            failures = 0
            await self._commit(consumer, batches)

    def _rewind(self, consumer: AIOKafkaConsumer, batches: Mapping[TopicPartition, Sequence[Any]]) -> None:
        # Nothing of the batch was kept: fetch it again, but only from partitions still ours
        # (a rebalance may have given the others to another member, which starts from the
        # committed offset anyway).
        owned = consumer.assignment()
        for tp, records in batches.items():
            if tp in owned:
                with contextlib.suppress(KafkaError):  # revoked between the two calls
                    consumer.seek(tp, records[0].offset)

    async def _commit(
        self, consumer: AIOKafkaConsumer, batches: Mapping[TopicPartition, Sequence[Any]]
    ) -> None:
        offsets = self._partition_retries.commit_offsets(consumer, batches)
        if not offsets:
            return
        try:
            await consumer.commit(offsets)
        except KafkaError as exc:
            # Refused after a rebalance: the effects and inbox rows are committed, so the
            # partitions' next owner skips these events as duplicates.
            log.warning("consumer.commit_failed", group=self.group_id, error=describe(exc))

    async def apply(self, records: Sequence[ConsumerRecord[Any, Any]]) -> int:
        """Apply a batch of records in one transaction; returns how many took effect.

        The batch runs without savepoints (one round trip per effect, inbox rows in one
        statement). Only when a handler raises is the batch redone with a savepoint per event,
        so that the failing event is parked or its partition stopped, and the others apply.
        """
        deliveries = [d for record in records for d in deliveries_of(record, self.handlers, self._decoders)]
        # A poll of only events no handler reads (a bill run's own invoice events, for the
        # bill-run group) writes nothing: it neither prepares nor queues behind other writers.
        idle = all(unread(d, self.handlers) for d in deliveries)
        prepare = None if idle else self._prepare
        # What a preparation leaves the handlers dies by reference counting when the poll ends:
        # the cyclic collector stays off until then, or every collection meanwhile (the process's
        # other consumers allocate while this one waits for its turn) walks it, and promotes it.
        with gc_paused() if prepare is not None else contextlib.nullcontext():
            if prepare is not None:
                await self._prepare_batch(prepare, deliveries)
            outcome = await self._apply_in_turn(records, deliveries, idle)
        # Only now that the transaction holds: partitions that went through forget their retry.
        self._partition_retries.settle(
            {TopicPartition(r.topic, r.partition) for r in records}, outcome.retries
        )
        self.retries_total += len(outcome.retries)
        self.applied_total += outcome.applied
        self.skipped_duplicates += outcome.skipped
        self.parked_total += outcome.parked
        return outcome.applied

    async def _apply_in_turn(
        self, records: Sequence[ConsumerRecord[Any, Any]], deliveries: list[Delivery], idle: bool
    ) -> _Outcome:
        turn = contextlib.nullcontext() if idle else self._write_turn()
        async with turn, self.db.session() as session:
            try:
                outcome = await self._apply_batch(session, deliveries)
            except _HandlerFailed as failed:
                if is_infrastructure(failed.error):
                    raise failed.error from None
                await session.rollback()
                if any(d.payloads is not None for d in deliveries):
                    # The redo needs each event's envelope (to park it on its own, say).
                    deliveries = [d for record in records for d in deliveries_of(record, self.handlers)]
                # The event that failed counts as tried: the redo does not call its handler again.
                # A batch handler's failure blames no event yet: the redo tries each on its own.
                known = None if failed.whole_message else failed
                outcome = await self._apply_batch(session, deliveries, isolate=True, known=known)
            await session.commit()
        return outcome

    async def _prepare_batch(
        self, prepare: Callable[[Sequence[Envelope]], Awaitable[object]], deliveries: Sequence[Delivery]
    ) -> None:
        """The handlers' read-only work on the batch's events, before its write turn (see
        `ConsumerSpec.prepare`). A preparation that fails only leaves that work to the handlers."""
        envelopes = [d.envelope for d in deliveries if d.envelope is not None and not d.problem]
        if not envelopes:
            return
        try:
            await prepare(envelopes)
        except Exception as exc:
            log.warning("consumer.prepare_failed", group=self.group_id, error=describe(exc))

    async def _apply_batch(
        self,
        session: AsyncSession,
        deliveries: Sequence[Delivery],
        *,
        isolate: bool = False,
        known: _HandlerFailed | None = None,
    ) -> _Outcome:
        units = list(deliveries) if isolate else by_message(deliveries, self.handlers)
        units = [unit for unit in units if not unread(unit, self.handlers)]
        seen = await self._applied(session, units)
        outcome = _Outcome()
        inbox_rows: list[tuple[str, str]] = []
        for delivery in runs_by_handler(units):
            if isinstance(delivery, list):
                await self._apply_messages(session, delivery, seen, outcome, inbox_rows)
                continue
            record, envelope = delivery.record, delivery.envelope
            tp = TopicPartition(record.topic, record.partition) if isolate else None
            if tp is not None and tp in outcome.retries:
                continue  # its partition stopped at an earlier event
            if delivery.problem or envelope is None:
                self._park(session, delivery, delivery.problem, attempts=1)
                outcome.parked += 1
                continue
            event_id = str(envelope.event_id)
            if event_id in seen:
                outcome.skipped += 1
                continue
            seen.add(event_id)
            handler = self.handlers.get(envelope.type)
            if handler is not None:
                if tp is None:
                    try:
                        await self._apply_one(session, handler, envelope)
                    except Exception as exc:
                        raise _HandlerFailed(delivery, exc) from exc
                else:
                    if known is not None and known.delivery is delivery:
                        failure: Exception | None = known.error
                    else:
                        failure = await self.apply_isolated(session, handler, envelope)
                    if failure is not None:
                        self._retry_or_park(session, delivery, tp, failure, outcome)
                        continue
                outcome.applied += 1
            inbox_rows.append((event_id, envelope.type))
        await record_applied(session, self.group_id, inbox_rows)
        return outcome

    async def _applied(self, session: AsyncSession, units: Sequence[Delivery | BatchDelivery]) -> set[str]:
        """The ids of the poll already in the inbox: events, and messages taken whole; the items
        of a message not seen whole are looked up too (a republish may have regrouped them)."""
        ids: list[str] = []
        for u in units:
            if isinstance(u, BatchDelivery):
                ids.append(u.message_id)
            elif u.envelope is not None:
                ids.append(str(u.envelope.event_id))
        seen = await applied_ids(session, self.group_id, ids)
        items = [
            str(d.envelope.event_id)
            for u in units
            if isinstance(u, BatchDelivery)
            and not u.single
            and u.message_id not in seen
            and not u.handler.idempotent
            for d in u.deliveries
            if d.envelope is not None
        ]
        return seen | await applied_ids(session, self.group_id, items)

    async def _apply_messages(
        self,
        session: AsyncSession,
        messages: list[BatchDelivery],
        seen: set[str],
        outcome: _Outcome,
        inbox_rows: list[tuple[str, str]],
    ) -> None:
        """Hand a batch handler the events not applied yet of consecutive batch messages of its
        type, in one call (fast path)."""
        fresh: list[Envelope] = []
        payloads: list[Any] = []
        # A handler idempotent by its own keys needs no inbox row per item (batch_handlers).
        item_rows = not messages[0].handler.idempotent
        for message in messages:
            # A single-event message's row is its event's row.
            message_items = item_rows and not message.single
            if message.message_id in seen:
                outcome.skipped += message.size
                continue
            for delivery in message.deliveries:
                if delivery.payloads is not None:  # read whole by the payload fast path
                    payloads += delivery.payloads
                    continue
                assert delivery.envelope is not None  # by_message gathers envelopes only
                event_id = str(delivery.envelope.event_id)
                if delivery.problem:
                    self._park(session, delivery, delivery.problem, attempts=1)
                    outcome.parked += 1
                elif event_id in seen:
                    outcome.skipped += 1
                else:
                    seen.add(event_id)
                    fresh.append(delivery.envelope)
                    if message_items:
                        inbox_rows.append((event_id, message.event_type))
            seen.add(message.message_id)
            inbox_rows.append((message.message_id, message.event_type))
        if fresh or payloads:
            handler = messages[0].handler
            try:
                if payloads:
                    assert handler.payloads is not None  # only its messages are read whole
                    await handler.payloads.apply(session, payloads)
                else:
                    await handler.apply_events(session, fresh)
                # Objects the handler added are written now, so that their failure is this
                # call's; a handler that wrote through the connection left nothing to flush.
                if session.new or session.dirty or session.deleted:
                    await session.flush()
            except Exception as exc:
                raise _HandlerFailed(messages[0].deliveries[0], exc, whole_message=True) from exc
            outcome.applied += len(fresh) + len(payloads)

    def _retry_or_park(
        self, session: AsyncSession, delivery: Delivery, tp: TopicPartition, exc: Exception, outcome: _Outcome
    ) -> None:
        """Stop the partition at the event for a later attempt, or park the event."""
        retry = self._partition_retries.next_attempt(delivery, tp, exc)
        if retry.due is not None:
            outcome.retries[tp] = retry
            return
        self._park(session, delivery, retry.error, attempts=retry.attempts)
        outcome.parked += 1

    async def _apply_one(self, session: AsyncSession, handler: EventHandler, envelope: Envelope) -> None:
        token = set_correlation_id(envelope.correlation_id)
        try:
            await handler(session, envelope)
            await session.flush()
        finally:
            reset_correlation_id(token)

    async def apply_isolated(
        self, session: AsyncSession, handler: EventHandler, envelope: Envelope
    ) -> Exception | None:
        """Apply one event in a savepoint; the handler's exception, if it raised one (a failure
        of the database connection is raised instead)."""
        try:
            async with session.begin_nested():
                await self._apply_one(session, handler, envelope)
            return None
        except Exception as exc:
            if is_infrastructure(exc):
                raise
            return exc

    def _park(self, session: AsyncSession, delivery: Delivery, error: str, *, attempts: int) -> None:
        park(session, delivery, group=self.group_id, error=error, attempts=attempts)


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    """Sleep `seconds`, or less when `stop` is set meanwhile."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
