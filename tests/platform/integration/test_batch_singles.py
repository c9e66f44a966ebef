"""A batch handler given events that travel one per message (a type that is not batchable, sent
in a burst), over the real broker: the consecutive messages of a poll reach it in one call — not
cut by events of the topic no handler reads, which get no inbox row — each applied once, with the
inbox row the per-event path writes (its event id); a redelivery applies nothing twice."""

from __future__ import annotations

import uuid
from decimal import Decimal

from libs.contracts.registry import event_type
from libs.platform.batch_handlers import BatchEventHandler
from libs.platform.broker import KafkaPublisher, ensure_topics
from libs.platform.outbox import OutboxRelay
from libs.platform.unit_of_work import UnitOfWork
from tests.platform.integration.test_batch_consumer import (
    PostingBook,
    _consumer,
    _CrashBeforeCommit,
    _dead_letter_count,
    _inbox_ids,
    _run_until,
)
from tests.platform.integration.test_bus import LedgerPosted, _count, _database

EVENTS = 60


async def test_single_event_messages_reach_a_batch_handler_a_poll_at_a_time_and_once(
    broker: str, database_url: str
) -> None:
    suffix = uuid.uuid4().hex[:8]
    topic, name = f"test.singles.{suffix}", f"test.posted_{suffix}"
    model = event_type(name, topic=topic)(type(f"Posted{suffix}", (LedgerPosted,), {"__doc__": "x"}))
    other = event_type(f"test.noted_{suffix}", topic=topic)(
        type(f"Noted{suffix}", (LedgerPosted,), {"__doc__": "An event no handler of the group reads."})
    )
    await ensure_topics(broker, [topic], partitions=3)
    db = await _database(database_url)
    publisher = KafkaPublisher(broker, client_id="test-singles-relay")
    await publisher.start()
    try:
        async with UnitOfWork(db, producer="test") as uow:
            emitted = []
            for i in range(EVENTS):
                key = f"acct_{i % 7}"
                emitted.append(uow.emit(model(account_id=key, amount=Decimal("1.25")), key=key))
                uow.emit(other(account_id=key, amount=Decimal("2.50")), key=key)
            await uow.commit()
        assert await OutboxRelay(db, publisher, batch_size=500).drain() == 2 * EVENTS

        group = f"g-{uuid.uuid4().hex[:8]}"
        kind = (model, topic, name)
        book = PostingBook()
        handler = BatchEventHandler(book.post)
        crashing = _consumer(db, broker, group, kind, handler, kind_of=_CrashBeforeCommit)
        await _run_until(crashing, lambda c: c.applied_total == EVENTS)
        assert await _count(db) == EVENTS
        assert max(book.calls) > 1  # several single messages in one call
        inbox = await _inbox_ids(db, group)
        assert {str(e.event_id) for e in emitted} <= inbox
        assert len(inbox) == EVENTS  # one row per event applied; none for the type nobody reads

        again = PostingBook()
        restarted = _consumer(db, broker, group, kind, BatchEventHandler(again.post))
        await _run_until(restarted, lambda c: c.skipped_duplicates == EVENTS)
        assert again.calls == []
        assert await _count(db) == EVENTS
        assert await _dead_letter_count(db, group) == 0
    finally:
        await publisher.stop()
        await db.dispose()
