"""A consumer that stays up while the in-memory broker is killed and started empty reads every
message sent to the new broker — none skipped because its old fetch position was further on.

The case of the rating fault run (a `usage.raw` producer sending again what was not stored):
the consumer had read 20 messages of a partition; the restarted broker's log starts at 0 again
and gets 30 new ones. Reading on from offset 20 would skip the first 20 of them (and commit past
them); `libs/platform/log_resets.py` notices the log went back and reads it from its start.
"""

from __future__ import annotations

import asyncio
import uuid

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from libs.platform.broker import KafkaPublisher, LocalBroker, ensure_topics, free_port
from libs.platform.inbox import IdempotentConsumer
from libs.platform.outbox import OutboxRelay
from tests.platform.integration.test_bus import (
    _apply_posting,
    _count,
    _database,
    _fresh_event_type,
    _post_events,
)
from tests.support.polling import eventually
from tests.support.services import GROUP_TIMEOUTS


async def _publish(db, model, bootstrap_servers: str, n: int, start: int) -> None:  # type: ignore[no-untyped-def]
    await _post_events(db, model, n, start=start)
    publisher = KafkaPublisher(bootstrap_servers, client_id=f"test-relay-{uuid.uuid4().hex[:6]}")
    await publisher.start()
    try:
        assert await OutboxRelay(db, publisher).drain() == n
    finally:
        await publisher.stop()


@pytest.mark.broker
async def test_messages_sent_to_a_restarted_empty_broker_are_all_applied(sqlite_url: str) -> None:
    model, topic, name = _fresh_event_type()
    local = LocalBroker(port=free_port()).start()
    db = await _database(sqlite_url)
    consumer = IdempotentConsumer(
        db,
        group_id=f"g-{uuid.uuid4().hex[:8]}",
        topics=[topic],
        handlers={name: _apply_posting},
        bootstrap_servers=local.bootstrap_servers,
        batch_size=5,
        **GROUP_TIMEOUTS,
    )
    stop = asyncio.Event()
    running: asyncio.Task[None] | None = None
    try:
        await ensure_topics(local.bootstrap_servers, [topic], partitions=1)
        await _publish(db, model, local.bootstrap_servers, 20, start=0)
        running = asyncio.create_task(consumer.run(stop))
        await eventually(lambda: _count(db), until=lambda n: n == 20, timeout_s=60)

        assert local.process is not None
        local.process.kill()  # every message is gone with it; the consumer stays up
        local.process.wait(timeout=10)
        local.start()
        await ensure_topics(local.bootstrap_servers, [topic], partitions=1)
        await _publish(db, model, local.bootstrap_servers, 30, start=20)

        # All 30 new events, the 20 at offsets the consumer had already passed included.
        await eventually(lambda: _count(db), until=lambda n: n == 50, timeout_s=90)
    finally:
        stop.set()
        if running is not None:
            await running
        await consumer.stop()
        await db.dispose()
        local.stop()


@pytest.mark.broker
async def test_a_group_whose_commit_lies_beyond_the_log_reads_the_log_from_its_start(sqlite_url: str) -> None:
    """The rating fault run's stall: the consumer's last commit of the lost log reached the new
    broker, a rejoin started from it, past the end of the new log, where nothing ever arrives."""
    model, topic, name = _fresh_event_type()
    local = LocalBroker(port=free_port()).start()
    db = await _database(sqlite_url)
    group = f"g-{uuid.uuid4().hex[:8]}"
    consumer = IdempotentConsumer(
        db,
        group_id=group,
        topics=[topic],
        handlers={name: _apply_posting},
        bootstrap_servers=local.bootstrap_servers,
        batch_size=5,
        **GROUP_TIMEOUTS,
    )
    stop = asyncio.Event()
    running: asyncio.Task[None] | None = None
    try:
        await ensure_topics(local.bootstrap_servers, [topic], partitions=1)
        await _publish(db, model, local.bootstrap_servers, 3, start=0)
        stale = AIOKafkaConsumer(bootstrap_servers=local.bootstrap_servers, group_id=group)
        await stale.start()
        try:
            partition = TopicPartition(topic, 0)
            stale.assign([partition])
            await stale.commit({partition: 20})  # the old log's offset, on the new log of 3
        finally:
            await stale.stop()
        running = asyncio.create_task(consumer.run(stop))

        await eventually(lambda: _count(db), until=lambda n: n == 3, timeout_s=60)
    finally:
        stop.set()
        if running is not None:
            await running
        await consumer.stop()
        await db.dispose()
        local.stop()
