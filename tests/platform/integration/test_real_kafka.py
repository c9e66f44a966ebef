"""The bus against real Apache Kafka and PostgreSQL in containers (testcontainers).

Skipped cleanly where no Docker engine runs; the same behaviour is covered on the local broker
by `test_bus.py`.
"""

from __future__ import annotations

import asyncio
import uuid

import pytest

from libs.platform.broker import KafkaPublisher, ensure_topics
from libs.platform.outbox import OutboxRelay
from tests.platform.integration.test_bus import (
    _consumer,
    _count,
    _database,
    _fresh_event_type,
    _post_events,
)
from tests.support.polling import eventually


def _docker_available() -> bool:
    try:
        import docker

        docker.from_env().ping()
        return True
    except Exception:
        return False


pytestmark = pytest.mark.skipif(
    not _docker_available(), reason="no Docker engine: testcontainers tests skipped"
)


async def test_exactly_once_over_apache_kafka_and_postgres() -> None:
    from testcontainers.kafka import KafkaContainer
    from testcontainers.postgres import PostgresContainer

    with KafkaContainer("apache/kafka:3.9.1").with_kraft() as kafka, PostgresContainer("postgres:16") as pg:
        bootstrap = kafka.get_bootstrap_server()
        url = pg.get_connection_url().replace("postgresql+psycopg2", "postgresql+asyncpg")
        model, topic, _ = kind = _fresh_event_type()
        await ensure_topics(bootstrap, [topic], partitions=3)
        db = await _database(url)
        publisher = KafkaPublisher(bootstrap, client_id="tc-relay")
        await publisher.start()
        try:
            relay = OutboxRelay(db, publisher)
            await _post_events(db, model, 50)
            await relay.drain()
            await relay.republish()
            await relay.drain()
            consumer = _consumer(db, bootstrap, f"g-{uuid.uuid4().hex[:6]}", kind)
            stop = asyncio.Event()
            task = asyncio.create_task(consumer.run(stop))
            await eventually(lambda: _count(db), until=lambda n: n == 50, timeout_s=60)
            stop.set()
            await task
            await consumer.stop()
            assert await _count(db) == 50
        finally:
            await publisher.stop()
            await db.dispose()
