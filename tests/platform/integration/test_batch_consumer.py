"""Batch messages through the consumer, over the real broker: the relay packs events of a
batchable type into batch messages; a batch handler applies each event exactly once (across a
redelivery and a republish that regroups the rows), an ordinary handler too, a failing batch
falls back to per-event isolation, and a malformed batch is parked whole."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Sequence
from decimal import Decimal
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from sqlalchemy import insert
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from libs.contracts.batch import BATCH_HEADERS, BusMessage, decode_message, encode_batch
from libs.contracts.envelope import Envelope
from libs.contracts.registry import event_type
from libs.platform.batch_handlers import BatchEventHandler
from libs.platform.broker import KafkaPublisher, ensure_topics
from libs.platform.db import Database
from libs.platform.dead_letters import list_dead_letters
from libs.platform.errors import NotFound, ValidationFailed
from libs.platform.inbox import IdempotentConsumer, InboxEntry
from libs.platform.outbox import OutboxRelay, build_envelope
from libs.platform.replay import replay_dead_letters
from libs.platform.unit_of_work import UnitOfWork
from tests.platform.integration.test_bus import (
    AppliedPosting,
    LedgerPosted,
    _apply_posting,
    _count,
    _database,
    _post_events,
)
from tests.support.polling import eventually
from tests.support.services import GROUP_TIMEOUTS

PARTITIONS = 3
EVENTS = 60  # over 7 accounts (`_post_events`): several batch messages on every partition
Kind = tuple[type[LedgerPosted], str, str]


def _batched_event_type() -> Kind:
    """A batchable payload type on a topic of its own: the relay packs its events."""
    suffix = uuid.uuid4().hex[:8]
    topic, name = f"test.batches.{suffix}", f"test.usage_posted_{suffix}"
    model = event_type(name, topic=topic, batchable=True)(
        type(f"UsagePosted{suffix}", (LedgerPosted,), {"__doc__": "A batched test event."})
    )
    return model, topic, name


@pytest.fixture
async def batched(broker: str, database_url: str) -> AsyncIterator[tuple[Database, KafkaPublisher, Kind]]:
    kind = _batched_event_type()
    await ensure_topics(broker, [kind[1]], partitions=PARTITIONS)
    db = await _database(database_url)
    publisher = KafkaPublisher(broker, client_id="test-batch-relay")
    await publisher.start()
    yield db, publisher, kind
    await publisher.stop()
    await db.dispose()


class PostingBook:
    """A batch handler: every call is noted, the postings go in with one multi-row insert."""

    def __init__(self, *, reject_amount: Decimal | None = None) -> None:
        self.calls: list[int] = []
        self.reject_amount = reject_amount

    async def post(self, session: AsyncSession, envelopes: Sequence[Envelope]) -> None:
        self.calls.append(len(envelopes))
        postings = [(str(e.event_id), e.payload_as(LedgerPosted)) for e in envelopes]
        if any(p.amount == self.reject_amount for _, p in postings):
            raise ValidationFailed("amount refused by the ledger")
        connection = await session.connection()
        # A plain INSERT: a second application of an event would violate the primary key.
        await connection.execute(
            insert(AppliedPosting),
            [{"event_id": i, "account_id": p.account_id, "amount": p.amount} for i, p in postings],
        )


def _consumer(
    db: Database,
    broker: str,
    group: str,
    kind: Kind,
    handler: Any,
    *,
    kind_of: type[IdempotentConsumer] = IdempotentConsumer,
) -> IdempotentConsumer:
    return kind_of(
        db,
        group_id=group,
        topics=[kind[1]],
        handlers={kind[2]: handler},
        bootstrap_servers=broker,
        batch_size=40,
        **GROUP_TIMEOUTS,
    )


class _CrashBeforeCommit(IdempotentConsumer):
    """A consumer that dies after its database commit, before committing offsets."""

    async def _commit(self, consumer: Any, batches: Any) -> None:
        return None


class _Counts:
    """A consumer's counters, as a failed wait shows them."""

    def __init__(self, consumer: IdempotentConsumer) -> None:
        self.consumer = consumer
        self.counts = (consumer.applied_total, consumer.skipped_duplicates, consumer.parked_total)

    def __repr__(self) -> str:
        applied, skipped, parked = self.counts
        return f"applied={applied} skipped={skipped} parked={parked}"


async def _run_until(consumer: IdempotentConsumer, done: Any) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))
    try:
        await eventually(
            lambda: asyncio.sleep(0, _Counts(consumer)), until=lambda c: done(c.consumer), timeout_s=30
        )
    finally:
        stop.set()
        await task
        await consumer.stop()


async def _messages(broker: str, topic: str, events: int) -> list[BusMessage]:
    """Every message on the topic, decoded, until `events` events were read."""
    reader = AIOKafkaConsumer(bootstrap_servers=broker, group_id=None, auto_offset_reset="earliest")
    reader.assign([TopicPartition(topic, p) for p in range(PARTITIONS)])
    await reader.start()
    try:
        messages: list[BusMessage] = []
        while sum(len(m.events) for m in messages) < events:
            for records in (await reader.getmany(timeout_ms=200)).values():
                messages += [decode_message(r.value, r.headers) for r in records]
        return messages
    finally:
        await reader.stop()


async def _inbox_ids(db: Database, group: str) -> set[str]:
    async with db.session() as session:
        rows = await session.exec(
            select(col(InboxEntry.event_id)).where(col(InboxEntry.consumer_group) == group)
        )
        return set(rows.all())


async def _applied_of(db: Database, account: str) -> int:
    async with db.session() as session:
        rows = await session.exec(
            select(col(AppliedPosting.event_id)).where(col(AppliedPosting.account_id) == account)
        )
        return len(rows.all())


async def _dead_letter_count(db: Database, group: str) -> int:
    return len(await list_dead_letters(db, group=group))


async def test_a_batch_handler_applies_each_event_once_across_redelivery_and_a_regrouped_republish(
    batched: tuple[Database, KafkaPublisher, Kind], broker: str
) -> None:
    db, publisher, kind = batched
    group = f"g-{uuid.uuid4().hex[:8]}"
    await _post_events(db, kind[0], EVENTS)
    assert await OutboxRelay(db, publisher, batch_size=100).drain() == EVENTS
    first_round = await _messages(broker, kind[1], EVENTS)
    assert all(m.is_batch for m in first_round) and len(first_round) < EVENTS

    # Applied, but the member dies before committing its offsets: everything is redelivered.
    book = PostingBook()
    crashing = _consumer(db, broker, group, kind, BatchEventHandler(book.post), kind_of=_CrashBeforeCommit)
    await _run_until(crashing, lambda c: c.applied_total == EVENTS)
    assert await _count(db) == EVENTS
    assert max(book.calls) > 1  # whole batches reached the handler
    inbox = await _inbox_ids(db, group)
    assert {m.message_id for m in first_round} <= inbox  # one row per message ...
    assert {str(e.event_id) for m in first_round for e in m.events} <= inbox  # ... and its items

    again = PostingBook()
    restarted = _consumer(db, broker, group, kind, BatchEventHandler(again.post))
    await _run_until(restarted, lambda c: c.skipped_duplicates == EVENTS)
    assert again.calls == []  # the redelivered messages were skipped by their message id
    assert await _count(db) == EVENTS

    # A republish regroups the rows: new batch ids, the same events.
    relay = OutboxRelay(db, publisher, batch_size=7)
    assert await relay.republish() == EVENTS
    assert await relay.drain() == EVENTS
    regrouped = await _messages(broker, kind[1], 2 * EVENTS)
    new_ids = {m.message_id for m in regrouped} - {m.message_id for m in first_round}
    assert new_ids

    later = PostingBook()
    after_republish = _consumer(db, broker, group, kind, BatchEventHandler(later.post))
    # It starts from the offsets the restarted member committed: only the regrouped messages.
    await _run_until(after_republish, lambda c: c.skipped_duplicates == EVENTS)
    assert later.calls == []  # every item of the regrouped messages was already applied
    assert after_republish.applied_total == 0
    assert await _count(db) == EVENTS
    assert await _dead_letter_count(db, group) == 0


async def test_an_ordinary_handler_on_a_batched_topic_applies_each_event_once(
    batched: tuple[Database, KafkaPublisher, Kind], broker: str
) -> None:
    db, publisher, kind = batched
    group = f"g-{uuid.uuid4().hex[:8]}"
    await _post_events(db, kind[0], EVENTS)
    relay = OutboxRelay(db, publisher, batch_size=100)
    assert await relay.drain() == EVENTS
    assert await relay.republish() == EVENTS
    assert await OutboxRelay(db, publisher, batch_size=9).drain() == EVENTS

    consumer = _consumer(db, broker, group, kind, _apply_posting)
    await _run_until(consumer, lambda c: c.applied_total + c.skipped_duplicates == 2 * EVENTS)
    assert consumer.applied_total == EVENTS and consumer.skipped_duplicates == EVENTS
    assert await _count(db) == EVENTS
    assert await _dead_letter_count(db, group) == 0


async def test_a_failing_batch_falls_back_to_its_events_and_parks_only_the_bad_one_as_its_own_envelope(
    batched: tuple[Database, KafkaPublisher, Kind], broker: str
) -> None:
    db, publisher, kind = batched
    model = kind[0]
    group = f"g-{uuid.uuid4().hex[:8]}"
    await _post_events(db, model, 20)
    async with UnitOfWork(db, producer="test") as uow:
        bad = uow.emit(model(account_id="acct_3", amount=Decimal("13.13")), key="acct_3")
        await uow.commit()
    await _post_events(db, model, 20, start=20)
    assert await OutboxRelay(db, publisher, batch_size=100).drain() == 41

    book = PostingBook(reject_amount=Decimal("13.13"))
    consumer = _consumer(db, broker, group, kind, BatchEventHandler(book.post))
    await _run_until(consumer, lambda c: c.applied_total == 40 and c.parked_total == 1)
    assert await _count(db) == 40

    (letter,) = await list_dead_letters(db, group=group)
    assert letter.event_id == str(bad.event_id)
    parked = Envelope.model_validate_json(letter.body)  # its own envelope, not the whole batch
    assert parked.event_id == bad.event_id and parked.payload["amount"] == "13.13"

    book.reject_amount = None  # the ledger now accepts it: the replay applies it once
    outcome = await replay_dead_letters(consumer)
    assert outcome.replayed == [letter.id]
    assert await _count(db) == 41


async def test_an_item_whose_data_is_missing_stops_its_partition_mid_batch_and_applies_once_later(
    batched: tuple[Database, KafkaPublisher, Kind], broker: str
) -> None:
    db, publisher, kind = batched
    model = kind[0]
    group = f"g-{uuid.uuid4().hex[:8]}"
    await _post_events(db, model, 10)
    async with UnitOfWork(db, producer="test") as uow:
        uow.emit(model(account_id="acct_3", amount=Decimal("13.13")), key="acct_3")
        await uow.commit()
    await _post_events(db, model, 10, start=10)
    assert await OutboxRelay(db, publisher, batch_size=100).drain() == 21

    class WaitingBook(PostingBook):
        """Refuses the posting until its account arrives (a transient error)."""

        async def post(self, session: AsyncSession, envelopes: Sequence[Envelope]) -> None:
            if self.reject_amount is not None and any(
                e.payload["amount"] == str(self.reject_amount) for e in envelopes
            ):
                self.calls.append(len(envelopes))
                raise NotFound("account", "acct_3")
            await super().post(session, envelopes)

    book = WaitingBook(reject_amount=Decimal("13.13"))
    consumer = IdempotentConsumer(
        db,
        group_id=group,
        topics=[kind[1]],
        handlers={kind[2]: BatchEventHandler(book.post)},
        bootstrap_servers=broker,
        batch_size=40,
        **GROUP_TIMEOUTS,
        max_attempts=50,
        retry_backoff_s=0.05,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))
    try:
        await eventually(lambda: asyncio.sleep(0, consumer.retries_total), until=lambda n: n >= 2)
        # acct_3's batch is [#3, the refused one, #10, #17]: #3 applied, its partition waits.
        assert await _applied_of(db, "acct_3") == 1
        book.reject_amount = None  # the account arrived
        await eventually(lambda: _count(db), until=lambda n: n == 21, timeout_s=30)
    finally:
        stop.set()
        await task
        await consumer.stop()
    assert consumer.applied_total == 21 and consumer.parked_total == 0
    assert await _dead_letter_count(db, group) == 0


async def test_a_batch_with_an_item_of_another_type_is_parked_whole_and_the_stream_goes_on(
    batched: tuple[Database, KafkaPublisher, Kind], broker: str
) -> None:
    db, publisher, kind = batched
    model, topic, name = kind
    group = f"g-{uuid.uuid4().hex[:8]}"
    items = [
        build_envelope(model(account_id="acct_1", amount=Decimal("1")), producer="x", key="acct_1")
        for _ in range(3)
    ]
    stray = json.loads(items[1].to_bytes())
    stray["type"] = "test.something_else"
    wire = [items[0].to_bytes(), json.dumps(stray).encode(), items[2].to_bytes()]
    value = encode_batch(wire, event_ids=[str(i.event_id) for i in items])
    producer = AIOKafkaProducer(bootstrap_servers=broker)
    await producer.start()
    try:
        await producer.send_and_wait(topic, value=value, key=b"acct_1", headers=list(BATCH_HEADERS))
    finally:
        await producer.stop()
    await _post_events(db, model, 10)
    assert await OutboxRelay(db, publisher, batch_size=100).drain() == 10

    book = PostingBook()
    consumer = _consumer(db, broker, group, kind, BatchEventHandler(book.post))
    await _run_until(consumer, lambda c: c.applied_total == 10 and c.parked_total == 1)
    assert await _count(db) == 10
    (letter,) = await list_dead_letters(db, group=group)
    assert letter.event_id is None and letter.event_type == name
    assert "test.something_else" in letter.error
    assert letter.body.encode() == value  # the message as it came, for an operator to look at


class IdempotentBook(PostingBook):
    """A batch handler idempotent by its own key: a second copy of a posting inserts nothing."""

    async def post(self, session: AsyncSession, envelopes: Sequence[Envelope]) -> None:
        self.calls.append(len(envelopes))
        connection = await session.connection()
        rows = [
            {"event_id": str(e.event_id), "account_id": p.account_id, "amount": p.amount}
            for e, p in ((e, e.payload_as(LedgerPosted)) for e in envelopes)
        ]
        dialect = sqlite_insert if connection.dialect.name == "sqlite" else postgresql_insert
        await connection.execute(dialect(AppliedPosting).on_conflict_do_nothing(), rows)


async def test_a_handler_idempotent_by_its_own_key_gets_one_inbox_row_per_message_and_none_per_item(
    batched: tuple[Database, KafkaPublisher, Kind], broker: str
) -> None:
    db, publisher, kind = batched
    group = f"g-{uuid.uuid4().hex[:8]}"
    await _post_events(db, kind[0], EVENTS)
    assert await OutboxRelay(db, publisher, batch_size=100).drain() == EVENTS
    first_round = await _messages(broker, kind[1], EVENTS)

    book = IdempotentBook()
    handler = BatchEventHandler(book.post, idempotent=True)
    crashing = _consumer(db, broker, group, kind, handler, kind_of=_CrashBeforeCommit)
    await _run_until(crashing, lambda c: c.applied_total == EVENTS)
    assert await _count(db) == EVENTS and max(book.calls) > 1
    assert await _inbox_ids(db, group) == {m.message_id for m in first_round}  # no item rows

    # Redelivered (offsets were not committed): skipped whole on the messages' rows.
    again = IdempotentBook()
    restarted = _consumer(db, broker, group, kind, BatchEventHandler(again.post, idempotent=True))
    await _run_until(restarted, lambda c: c.skipped_duplicates == EVENTS)
    assert again.calls == []

    # A regrouping republish reaches the handler again; its own key keeps each event once.
    relay = OutboxRelay(db, publisher, batch_size=7)
    assert await relay.republish() == EVENTS
    assert await relay.drain() == EVENTS
    later = IdempotentBook()
    after_republish = _consumer(db, broker, group, kind, BatchEventHandler(later.post, idempotent=True))
    await _run_until(after_republish, lambda c: c.applied_total == EVENTS)
    assert sum(later.calls) == EVENTS
    assert await _count(db) == EVENTS
    regrouped = await _messages(broker, kind[1], 2 * EVENTS)
    # Batch messages leave their own row only; an event that travelled alone is its own message.
    expected = {m.message_id for m in regrouped if m.is_batch}
    expected |= {str(m.events[0].event_id) for m in regrouped if not m.is_batch}
    assert await _inbox_ids(db, group) == expected


async def test_every_poll_s_transaction_runs_inside_the_consumer_s_write_turn(
    batched: tuple[Database, KafkaPublisher, Kind], broker: str
) -> None:
    db, publisher, kind = batched
    group = f"g-{uuid.uuid4().hex[:8]}"
    await _post_events(db, kind[0], EVENTS)
    assert await OutboxRelay(db, publisher, batch_size=100).drain() == EVENTS
    book = PostingBook()
    turns: list[str] = []
    inside = False

    @contextlib.asynccontextmanager
    async def write_turn() -> AsyncIterator[None]:
        nonlocal inside
        turns.append("taken")
        inside = True
        try:
            yield
        finally:
            inside = False

    async def post(session: AsyncSession, envelopes: Sequence[Envelope]) -> None:
        turns.append("inside" if inside else "outside")
        await book.post(session, envelopes)

    consumer = IdempotentConsumer(
        db,
        group_id=group,
        topics=[kind[1]],
        handlers={kind[2]: BatchEventHandler(post)},
        bootstrap_servers=broker,
        batch_size=40,
        write_turn=write_turn,
        **GROUP_TIMEOUTS,
    )
    await _run_until(consumer, lambda c: c.applied_total == EVENTS)
    assert await _count(db) == EVENTS
    assert "outside" not in turns and turns.count("inside") == len(book.calls) > 0


async def test_a_poll_is_prepared_before_its_write_turn_and_a_failed_preparation_leaves_it_whole(
    batched: tuple[Database, KafkaPublisher, Kind], broker: str
) -> None:
    db, publisher, kind = batched
    group = f"g-{uuid.uuid4().hex[:8]}"
    await _post_events(db, kind[0], EVENTS)
    assert await OutboxRelay(db, publisher, batch_size=100).drain() == EVENTS
    book = PostingBook()
    steps: list[str] = []
    inside = False

    @contextlib.asynccontextmanager
    async def write_turn() -> AsyncIterator[None]:
        nonlocal inside
        inside = True
        try:
            yield
        finally:
            inside = False

    async def prepare(envelopes: Sequence[Envelope]) -> None:
        steps.append("prepared inside" if inside else "prepared")
        if len(steps) == 1:
            raise RuntimeError("the first preparation fails: its poll is applied all the same")

    async def post(session: AsyncSession, envelopes: Sequence[Envelope]) -> None:
        steps.append("applied")
        await book.post(session, envelopes)

    consumer = IdempotentConsumer(
        db,
        group_id=group,
        topics=[kind[1]],
        handlers={kind[2]: BatchEventHandler(post)},
        bootstrap_servers=broker,
        batch_size=40,
        write_turn=write_turn,
        prepare=prepare,
        **GROUP_TIMEOUTS,
    )
    await _run_until(consumer, lambda c: c.applied_total == EVENTS)
    assert await _count(db) == EVENTS
    assert "prepared inside" not in steps and steps[0] == "prepared" and steps[1] == "applied"
