"""The outbox relay with a fake publisher at its seam: order, at-least-once, retention, replay."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlmodel import SQLModel

from libs.contracts.envelope import Envelope, EventPayload
from libs.contracts.registry import event_type
from libs.platform.db import Database
from libs.platform.outbox import OutboundMessage, OutboxMessage, OutboxRelay
from libs.platform.unit_of_work import UnitOfWork


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
async def db(sqlite_url: str) -> Database:
    database = Database(sqlite_url)
    async with database.engine.begin() as conn:
        await conn.run_sync(lambda c: SQLModel.metadata.create_all(c, tables=[OutboxMessage.__table__]))  # type: ignore[attr-defined]
    return database


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
