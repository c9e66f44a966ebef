"""The outbox relay under faults: a slow broker, a message refused for good, a broker that stops.

Defect 5 of issue 6: on SQLite the relay held the write lock while it waited for the broker, so
a slow publish stalled every API write. Defect 11: one message the broker refuses for good
stopped the whole outbox.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Sequence
from decimal import Decimal

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from sqlalchemy import text
from sqlmodel import SQLModel

from libs.contracts.batch import decode_message
from libs.contracts.envelope import Envelope, EventPayload
from libs.contracts.registry import event_type
from libs.platform.broker import KafkaPublisher, LocalBroker, ensure_topics, free_port
from libs.platform.db import Database
from libs.platform.outbox import (
    OutboundMessage,
    OutboxMessage,
    OutboxRelay,
    list_parked,
    mark_for_republish,
)
from libs.platform.unit_of_work import UnitOfWork
from tests.support.polling import eventually


class UsageNoted(EventPayload):
    """A test event: some usage noted for an account (text sized by the test)."""

    account_id: str
    note: str
    quantity: Decimal = Decimal("1")


def _fresh_event_type(*, batchable: bool = False) -> tuple[type[UsageNoted], str]:
    """A payload type of its own on a topic of its own, so tests never see each other's events."""
    suffix = uuid.uuid4().hex[:8]
    topic = f"test.relay.{suffix}"
    model = event_type(f"test.usage_noted_{suffix}", topic=topic, batchable=batchable)(
        type(f"UsageNoted{suffix}", (UsageNoted,), {"__doc__": "x"})
    )
    return model, topic


async def _database(url: str) -> Database:
    db = Database(url)
    async with db.engine.begin() as conn:
        await conn.run_sync(lambda c: SQLModel.metadata.create_all(c, tables=[OutboxMessage.__table__]))  # type: ignore[attr-defined]
    return db


async def _emit(db: Database, model: type[UsageNoted], notes: Sequence[str], account: str = "acct_1") -> None:
    async with UnitOfWork(db, producer="test") as uow:
        for note in notes:
            uow.emit(model(account_id=account, note=note), key=account)
        await uow.commit()


async def _read_topic(bootstrap: str, topic: str, expected: int) -> list[Envelope]:
    """Every event on the topic's partitions, in partition order, once `expected` are there."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest")
    await consumer.start()
    events: list[Envelope] = []
    try:
        # Ask the broker: a topic auto-created by a producer has the broker's partition count.
        await consumer.topics()
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        consumer.assign(partitions)

        async def fetch() -> int:
            batches = await consumer.getmany(timeout_ms=200)
            for tp in partitions:
                for record in batches.get(tp, []):
                    events.extend(decode_message(record.value, record.headers).events)
            return len(events)

        await eventually(fetch, until=lambda n: n >= expected, timeout_s=30)
    finally:
        await consumer.stop()
    return events


class SlowPublisher:
    """A broker that takes its time: each publish waits until released (or `hold_s` at most)."""

    def __init__(self, hold_s: float = 2.0) -> None:
        self.hold_s = hold_s
        self.publishing = asyncio.Event()
        self.release = asyncio.Event()
        self.in_progress = False
        self.published: list[OutboundMessage] = []

    async def publish(self, messages: Sequence[OutboundMessage]) -> list[BaseException | None]:
        self.in_progress = True
        self.publishing.set()
        try:
            # Released by the test once its write went through, or gives up after hold_s: the
            # fault is "a publish that takes 2 s"; nothing is asserted about the clock.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.release.wait(), timeout=self.hold_s)
            self.published.extend(messages)
            return [None] * len(messages)
        finally:
            self.in_progress = False


async def test_an_api_write_commits_while_the_relay_waits_for_a_slow_broker(sqlite_url: str) -> None:
    model, _topic = _fresh_event_type()
    db = await _database(sqlite_url)
    try:
        await _emit(db, model, ["before"])
        publisher = SlowPublisher(hold_s=2.0)
        relay = OutboxRelay(db, publisher)
        relaying = asyncio.create_task(relay.publish_pending())
        await publisher.publishing.wait()

        await _emit(db, model, ["during"])  # an API-style write on the same SQLite file
        written_while_publishing = publisher.in_progress
        publisher.release.set()
        assert await relaying == 1

        assert written_while_publishing, "the write waited for the relay's publish to finish"
        assert await relay.drain() == 1
        assert [Envelope.from_bytes(m.value).payload["note"] for m in publisher.published] == [
            "before",
            "during",
        ]
    finally:
        await db.dispose()


async def _idle_in_transaction(db: Database) -> int:
    async with db.engine.connect() as conn:
        result = await conn.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND state LIKE 'idle in transaction%'"
            )
        )
        return int(result.scalar_one())


async def test_one_relay_publishes_at_a_time_on_postgresql_without_a_transaction_open(
    postgres_url: str,
) -> None:
    model, _topic = _fresh_event_type()
    db = await _database(postgres_url)
    other_db = Database(postgres_url)  # a second replica: its own connection pool
    try:
        await _emit(db, model, ["one", "two"])
        slow = SlowPublisher(hold_s=5.0)
        relay = OutboxRelay(db, slow)
        rival_publisher = SlowPublisher(hold_s=0.0)
        rival = OutboxRelay(other_db, rival_publisher)
        relaying = asyncio.create_task(relay.publish_pending())
        await slow.publishing.wait()

        # While the first relay waits for its broker: the rival stays out, and no transaction
        # is left open (so nothing holds row locks or blocks vacuum for the broker's sake).
        assert await rival.publish_pending() == 0
        assert await _idle_in_transaction(db) == 0
        slow.release.set()
        assert await relaying == 2
        assert rival_publisher.published == []
        assert await rival.drain() == 0
    finally:
        await db.dispose()
        await other_db.dispose()


@pytest.mark.broker
async def test_a_message_too_large_for_the_broker_is_parked_and_the_rest_go_on_in_order(
    broker: str, database_url: str
) -> None:
    model, topic = _fresh_event_type()
    await ensure_topics(broker, [topic], partitions=3)
    db = await _database(database_url)
    publisher = KafkaPublisher(broker, client_id="test-relay-faults", max_request_size=1_048_576)
    await publisher.start()
    try:
        await _emit(db, model, ["a", "b"])
        await _emit(db, model, ["x" * 1_200_000])  # larger than the producer's max_request_size
        await _emit(db, model, ["c", "d"])
        relay = OutboxRelay(db, publisher, batch_size=2)

        assert await relay.drain() == 4

        events = await _read_topic(broker, topic, 4)
        assert [e.payload["note"] for e in events] == ["a", "b", "c", "d"]
        assert relay.parked_total == 1
        parked = await list_parked(db)
        assert [(p.topic, p.key, p.event_type) for p in parked] == [(topic, "acct_1", model.__event_type__)]  # type: ignore[attr-defined]
        assert "MessageSizeTooLarge" in parked[0].error

        # Replayable on demand: it is tried again (and, still too large, parked again).
        assert await mark_for_republish(db, parked=True) == 1
        assert await list_parked(db) == []
        assert await relay.drain() == 0
        assert relay.parked_total == 2
        assert len(await list_parked(db)) == 1
    finally:
        await publisher.stop()
        await db.dispose()


@pytest.mark.broker
async def test_a_message_for_an_invalid_topic_is_parked_and_the_others_are_published(
    broker: str, sqlite_url: str
) -> None:
    model, topic = _fresh_event_type()
    bad = event_type(f"test.bad_topic_{uuid.uuid4().hex[:8]}", topic="not a valid topic!")(
        type("BadTopicNoted", (UsageNoted,), {"__doc__": "x"})
    )
    await ensure_topics(broker, [topic], partitions=3)
    db = await _database(sqlite_url)
    publisher = KafkaPublisher(broker, client_id="test-relay-faults")
    await publisher.start()
    try:
        await _emit(db, model, ["a"])
        await _emit(db, bad, ["lost?"])
        await _emit(db, model, ["b"])

        assert await OutboxRelay(db, publisher).drain() == 2

        events = await _read_topic(broker, topic, 2)
        assert [e.payload["note"] for e in events] == ["a", "b"]
        assert [p.topic for p in await list_parked(db)] == ["not a valid topic!"]
    finally:
        await publisher.stop()
        await db.dispose()


@pytest.mark.broker
async def test_a_broker_that_stops_and_comes_back_delays_events_but_parks_none(sqlite_url: str) -> None:
    model, topic = _fresh_event_type(batchable=True)
    local = LocalBroker(port=free_port()).start()
    db = await _database(sqlite_url)
    publisher = KafkaPublisher(
        local.bootstrap_servers, client_id="test-relay-outage", request_timeout_ms=1_500
    )
    relay = OutboxRelay(db, publisher, poll_interval_s=0.05, max_backoff_s=0.5)
    stop = asyncio.Event()
    running: asyncio.Task[None] | None = None
    try:
        await ensure_topics(local.bootstrap_servers, [topic], partitions=3)
        await publisher.start()
        await _emit(db, model, ["1", "2"])
        assert await relay.drain() == 2

        local.stop()
        await _emit(db, model, ["3", "4", "5"])
        with pytest.raises(Exception):  # noqa: B017 - whichever transient error the client reports
            await relay.publish_pending()
        assert relay.parked_total == 0
        assert await list_parked(db) == []

        # The in-memory broker comes back empty: its topics are made again before the relay
        # retries (a topic auto-created by a produce would get the broker's partition count).
        local.start()
        await ensure_topics(local.bootstrap_servers, [topic], partitions=3)
        running = asyncio.create_task(relay.run(stop))
        await eventually(lambda: _pending(db), until=lambda n: n == 0, timeout_s=30)

        # The restarted broker forgot 1 and 2; what was pending during the outage arrived, in order.
        events = await _read_topic(local.bootstrap_servers, topic, 3)
        assert [e.payload["note"] for e in events] == ["3", "4", "5"]
        assert relay.parked_total == 0
    finally:
        stop.set()
        if running is not None:
            await running
        await publisher.stop()
        await db.dispose()
        local.stop()


async def _pending(db: Database) -> int:
    async with db.engine.connect() as conn:
        result = await conn.execute(
            text("SELECT count(*) FROM outbox WHERE published_at IS NULL AND parked_at IS NULL")
        )
        return int(result.scalar_one())
