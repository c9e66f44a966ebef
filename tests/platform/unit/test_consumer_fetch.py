"""How much a consumer's fetch may bring back: the response stays in memory until the group has
polled its records, so a lagging group holds full ones (libs/platform/inbox.py FETCH_MAX_BYTES)."""

from __future__ import annotations

from typing import Any, cast

from libs.platform.db import Database
from libs.platform.inbox import FETCH_MAX_BYTES, IdempotentConsumer
from libs.platform.settings import ServiceSettings


def _consumer(**options: Any) -> IdempotentConsumer:
    return IdempotentConsumer(
        cast(Database, None),
        group_id="test.fetch",
        topics=["test.fetch"],
        handlers={},
        bootstrap_servers="127.0.0.1:9",
        **options,
    )


async def test_the_kafka_consumer_fetches_at_most_the_bytes_configured() -> None:
    kafka = _consumer(fetch_max_bytes=1_048_576)._new_consumer()
    try:
        assert kafka._fetch_max_bytes == 1_048_576
    finally:
        await kafka.stop()


async def test_unless_configured_a_fetch_is_bounded_as_aiokafka_bounds_it() -> None:
    kafka = _consumer()._new_consumer()
    try:
        assert kafka._fetch_max_bytes == FETCH_MAX_BYTES == 50 * 2**20
    finally:
        await kafka.stop()
    assert ServiceSettings().consumer_fetch_max_kib * 1024 == FETCH_MAX_BYTES
