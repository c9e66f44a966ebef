"""The outbox relay with a fake publisher at its seam: order, at-least-once, retention, replay,
batches, parking."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlmodel import SQLModel, select

from libs.contracts.batch import decode_message
from libs.contracts.envelope import Envelope, EventPayload
from libs.contracts.registry import event_type
from libs.platform.db import Database
from libs.platform.outbox import (
    MessageRefused,
    OutboundMessage,
    OutboxMessage,
    OutboxRelay,
    count_parked,
    list_parked,
)
from libs.platform.unit_of_work import UnitOfWork
from tests.support.polling import eventually


@event_type("test.relay_charge_posted", topic="test.relay")
class ChargePosted(EventPayload):
    """A test charge."""

    account_id: str
    amount: Decimal


class FakePublisher:
    """Records what it is asked to publish; can be told to fail."""

    def __init__(self) -> None:
        self.published: list[OutboundMessage] = []
        self.fail_next = False

    async def publish(self, messages: Sequence[OutboundMessage]) -> list[BaseException | None]:
        if self.fail_next:
            self.fail_next = False
            raise ConnectionError("broker unreachable")
        self.published.extend(messages)
        return [None] * len(messages)


@pytest.fixture
async def db(sqlite_url: str) -> AsyncIterator[Database]:
    database = Database(sqlite_url)
    async with database.engine.begin() as conn:
        await conn.run_sync(lambda c: SQLModel.metadata.create_all(c, tables=[OutboxMessage.__table__]))  # type: ignore[attr-defined]
    yield database
    await database.dispose()


async def _post(db: Database, amounts: Sequence[str], account: str = "acct_1") -> None:
    async with UnitOfWork(db, producer="test") as uow:
        for amount in amounts:
            uow.emit(ChargePosted(account_id=account, amount=Decimal(amount)), key=account)
        await uow.commit()


def _amounts(messages: Sequence[OutboundMessage]) -> list[str]:
    return [Envelope.from_bytes(m.value).payload["amount"] for m in messages]


async def test_events_are_published_in_the_order_they_were_committed(db: Database) -> None:
    publisher = FakePublisher()
    relay = OutboxRelay(db, publisher, batch_size=2)
    await _post(db, ["1.00", "2.00", "3.00"])
    await _post(db, ["4.00"])
    assert await relay.drain() == 4
    assert _amounts(publisher.published) == ["1.00", "2.00", "3.00", "4.00"]
    assert {m.topic for m in publisher.published} == {"test.relay"}
    assert {m.key for m in publisher.published} == {"acct_1"}


async def test_nothing_is_published_when_the_transaction_rolls_back(db: Database) -> None:
    publisher = FakePublisher()
    relay = OutboxRelay(db, publisher)
    async with UnitOfWork(db, producer="test") as uow:
        uow.emit(ChargePosted(account_id="acct_1", amount=Decimal("9.99")), key="acct_1")
        await uow.rollback()
    assert await relay.drain() == 0
    assert publisher.published == []


async def test_a_failed_publish_keeps_the_events_pending_for_the_next_attempt(db: Database) -> None:
    publisher = FakePublisher()
    relay = OutboxRelay(db, publisher)
    await _post(db, ["5.00", "6.00"])
    publisher.fail_next = True
    with pytest.raises(ConnectionError):
        await relay.publish_pending()
    assert await relay.drain() == 2
    assert _amounts(publisher.published) == ["5.00", "6.00"]


async def test_republish_sends_retained_events_again_and_purge_forgets_old_ones(db: Database) -> None:
    publisher = FakePublisher()
    relay = OutboxRelay(db, publisher, retention=timedelta(0))
    await _post(db, ["7.00"])
    await relay.drain()
    assert await relay.republish() == 1
    assert await relay.drain() == 1
    assert _amounts(publisher.published) == ["7.00", "7.00"]
    # Both deliveries carry the same event id, which is what consumers deduplicate on.
    ids = {Envelope.from_bytes(m.value).event_id for m in publisher.published}
    assert len(ids) == 1
    assert await relay.purge() == 1
    assert await relay.republish() == 0


@event_type("test.relay_usage_recorded", topic="test.relay", batchable=True)
class UsageRecorded(EventPayload):
    """A test usage record: a high-volume, batchable type."""

    account_id: str
    quantity: int


class RefusingPublisher(FakePublisher):
    """Refuses for good any message containing `refuse`; fails for now while `down` is set."""

    def __init__(self, refuse: bytes = b"", down: bool = False) -> None:
        super().__init__()
        self.refuse = refuse
        self.down = down
        self.attempts: list[OutboundMessage] = []

    async def publish(self, messages: Sequence[OutboundMessage]) -> list[BaseException | None]:
        self.attempts.extend(messages)
        outcomes: list[BaseException | None] = []
        for message in messages:
            if self.down:
                outcomes.append(TimeoutError("broker unreachable"))
            elif self.refuse and self.refuse in message.value:
                outcomes.append(MessageRefused("MessageSizeTooLargeError: too large"))
            else:
                self.published.append(message)
                outcomes.append(None)
        return outcomes


async def _record(db: Database, usage: Sequence[tuple[str, int]]) -> None:
    async with UnitOfWork(db, producer="test") as uow:
        for account, quantity in usage:
            uow.emit(UsageRecorded(account_id=account, quantity=quantity), key=account)
        await uow.commit()


def _events(messages: Sequence[OutboundMessage]) -> list[tuple[str, int]]:
    """(key, quantity or amount) of every event carried, in publishing order."""
    out = []
    for message in messages:
        for envelope in decode_message(message.value, message.headers).events:
            out.append((envelope.key, envelope.payload.get("quantity") or envelope.payload["amount"]))
    return out


async def test_batchable_events_of_one_key_travel_together_and_each_key_keeps_its_order(db: Database) -> None:
    publisher = FakePublisher()
    relay = OutboxRelay(db, publisher, max_batch_items=3)
    await _record(db, [("acct_a", 1), ("acct_b", 1), ("acct_a", 2), ("acct_a", 3), ("acct_b", 2)])
    await _post(db, ["9.00"], account="acct_a")  # not batchable: closes acct_a's batch
    await _record(db, [("acct_a", 4), ("acct_a", 5), ("acct_a", 6), ("acct_a", 7)])

    assert await relay.drain() == 10

    shapes = [(m.key, len(decode_message(m.value, m.headers).events)) for m in publisher.published]
    assert shapes == [("acct_a", 3), ("acct_b", 2), ("acct_a", 1), ("acct_a", 3), ("acct_a", 1)]
    sent = _events(publisher.published)
    assert [q for k, q in sent if k == "acct_a"] == [1, 2, 3, "9.00", 4, 5, 6, 7]
    assert [q for k, q in sent if k == "acct_b"] == [1, 2]
    assert all(m.headers == () for m in publisher.published if b'"batch_id"' not in m.value)


async def test_a_batch_stays_within_its_byte_bound(db: Database) -> None:
    publisher = FakePublisher()
    await _record(db, [("acct_a", q) for q in range(10)])
    one_event = len(await _outbox_body(db))
    relay = OutboxRelay(db, publisher, max_batch_bytes=3 * one_event + 10)

    assert await relay.drain() == 10

    assert [len(decode_message(m.value, m.headers).events) for m in publisher.published] == [3, 3, 3, 1]


async def _outbox_body(db: Database) -> str:
    async with db.session() as session:
        row = (await session.exec(select(OutboxMessage).limit(1))).one()
    return row.body


async def test_a_refused_batch_is_sent_again_one_by_one_and_only_the_refused_event_is_parked(
    db: Database,
) -> None:
    publisher = RefusingPublisher(refuse=b'"quantity":13')
    relay = OutboxRelay(db, publisher)
    await _record(db, [("acct_a", q) for q in range(10, 16)])

    assert await relay.drain() == 5

    assert [q for _, q in _events(publisher.published)] == [10, 11, 12, 14, 15]
    assert relay.parked_total == 1
    parked = await list_parked(db)
    assert len(parked) == 1 and "MessageSizeTooLarge" in parked[0].error
    assert await count_parked(db) == 1
    # Parked rows are not pending: a later round leaves them be until an operator asks.
    assert await relay.drain() == 0
    assert await relay.republish(parked=True) == 1
    publisher.refuse = b""
    assert await relay.drain() == 1
    assert await count_parked(db) == 0


async def test_a_transient_failure_parks_nothing_and_the_events_go_out_once_the_broker_is_back(
    db: Database,
) -> None:
    publisher = RefusingPublisher(down=True)
    relay = OutboxRelay(db, publisher, poll_interval_s=0.01, max_backoff_s=0.05)
    await _record(db, [("acct_a", 1), ("acct_a", 2)])
    with pytest.raises(TimeoutError):
        await relay.publish_pending()

    stop = asyncio.Event()
    running = asyncio.create_task(relay.run(stop))
    try:
        await eventually(lambda: _attempts(publisher), until=lambda n: n >= 3)
        publisher.down = False
        await eventually(lambda: _published(publisher), until=lambda n: n == 2)
    finally:
        stop.set()
        await running
    assert relay.parked_total == 0
    assert await count_parked(db) == 0
    assert [q for _, q in _events(publisher.published)] == [1, 2]


async def _attempts(publisher: RefusingPublisher) -> int:
    return len(publisher.attempts)


async def _published(publisher: RefusingPublisher) -> int:
    return len(_events(publisher.published))
