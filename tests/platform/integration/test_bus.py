"""The bus over the real broker: outbox → relay → Kafka protocol → idempotent consumer."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal

import pytest
from sqlalchemy import Column, String, func, select
from sqlmodel import Field, SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from libs.contracts.envelope import Envelope, EventPayload
from libs.contracts.registry import event_type
from libs.platform.audit import AuditRecord
from libs.platform.broker import KafkaPublisher, ensure_topics
from libs.platform.db import Database, ExactDecimal
from libs.platform.errors import ValidationFailed
from libs.platform.inbox import DeadLetter, IdempotentConsumer, InboxEntry
from libs.platform.outbox import OutboundMessage, OutboxMessage, OutboxRelay
from libs.platform.unit_of_work import UnitOfWork
from tests.support.polling import eventually
from tests.support.services import GROUP_TIMEOUTS


class LedgerPosted(EventPayload):
    """A test event: one amount posted to an account."""

    account_id: str
    amount: Decimal


def _fresh_event_type() -> tuple[type[LedgerPosted], str, str]:
    """A payload type of its own on a topic of its own, so tests never see each other's events."""
    suffix = uuid.uuid4().hex[:8]
    topic, name = f"test.bus.{suffix}", f"test.ledger_posted_{suffix}"
    model = event_type(name, topic=topic)(type(f"LedgerPosted{suffix}", (LedgerPosted,), {"__doc__": "x"}))
    return model, topic, name


class AppliedPosting(SQLModel, table=True):
    """The consumer's effect: one row per applied event."""

    __tablename__ = "test_applied_postings"

    event_id: str = Field(sa_column=Column(String(36), primary_key=True))
    account_id: str
    amount: Decimal = Field(sa_column=Column(ExactDecimal(), nullable=False))


async def _database(url: str) -> Database:
    db = Database(url)
    tables = [t.__table__ for t in (OutboxMessage, InboxEntry, DeadLetter, AuditRecord, AppliedPosting)]  # type: ignore[attr-defined]
    async with db.engine.begin() as conn:
        await conn.run_sync(lambda c: SQLModel.metadata.create_all(c, tables=tables))
    return db


async def _apply_posting(session: AsyncSession, envelope: Envelope) -> None:
    posting = envelope.payload_as(LedgerPosted)
    # A plain INSERT: a second application of the same event would violate the primary key.
    session.add(
        AppliedPosting(event_id=str(envelope.event_id), account_id=posting.account_id, amount=posting.amount)
    )


async def _count(db: Database) -> int:
    async with db.session() as session:
        return int((await session.exec(select(func.count()).select_from(AppliedPosting))).one()[0])  # type: ignore[call-overload]


async def _post_events(db: Database, model: type[LedgerPosted], n: int, start: int = 0) -> None:
    async with UnitOfWork(db, producer="test") as uow:
        for i in range(start, start + n):
            uow.emit(model(account_id=f"acct_{i % 7}", amount=Decimal("1.25")), key=f"acct_{i % 7}")
        await uow.commit()


@pytest.fixture
async def bus(broker: str, database_url: str):  # type: ignore[no-untyped-def]
    model, topic, name = _fresh_event_type()
    await ensure_topics(broker, [topic], partitions=3)
    producer_db = await _database(database_url)
    publisher = KafkaPublisher(broker, client_id="test-relay")
    await publisher.start()
    relay = OutboxRelay(producer_db, publisher, batch_size=50)
    yield producer_db, relay, (model, topic, name)
    await publisher.stop()
    await producer_db.dispose()


def _consumer(
    db: Database, broker: str, group: str, kind: tuple[type[LedgerPosted], str, str]
) -> IdempotentConsumer:
    _, topic, name = kind
    return IdempotentConsumer(
        db,
        group_id=group,
        topics=[topic],
        handlers={name: _apply_posting},
        bootstrap_servers=broker,
        batch_size=40,
        **GROUP_TIMEOUTS,
    )


async def test_event_applied_exactly_once_although_delivered_twice(bus, broker: str) -> None:  # type: ignore[no-untyped-def]
    db, relay, kind = bus
    group = f"g-{uuid.uuid4().hex[:8]}"
    await _post_events(db, kind[0], 25)
    assert await relay.drain() == 25
    # Deliver everything a second time: the relay re-publishes its retained rows.
    assert await relay.republish() == 25
    assert await relay.drain() == 25

    consumer = _consumer(db, broker, group, kind)
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))
    try:
        await eventually(lambda: _count(db), until=lambda n: n == 25)
        await eventually(lambda: asyncio.sleep(0, consumer.skipped_duplicates), until=lambda n: n == 25)
    finally:
        stop.set()
        await task
        await consumer.stop()
    assert await _count(db) == 25
    assert consumer.applied_total == 25


async def test_no_event_lost_when_consumer_restarts_mid_stream(bus, broker: str) -> None:  # type: ignore[no-untyped-def]
    db, relay, kind = bus
    group = f"g-{uuid.uuid4().hex[:8]}"
    await _post_events(db, kind[0], 120)
    await relay.drain()

    first = _consumer(db, broker, group, kind)
    stop = asyncio.Event()
    task = asyncio.create_task(first.run(stop))
    await eventually(lambda: _count(db), until=lambda n: n > 0)
    # Stop mid-stream, while more events keep arriving.
    stop.set()
    await task
    await first.stop()
    applied_before_restart = await _count(db)
    await _post_events(db, kind[0], 80, start=120)
    await relay.drain()

    second = _consumer(db, broker, group, kind)
    stop2 = asyncio.Event()
    task2 = asyncio.create_task(second.run(stop2))
    try:
        await eventually(lambda: _count(db), until=lambda n: n >= 200, timeout_s=60)
    finally:
        stop2.set()
        await task2
        await second.stop()
    assert await _count(db) == 200
    assert first.applied_total + second.applied_total == 200
    assert applied_before_restart == first.applied_total


async def test_invalid_event_goes_to_dead_letters_without_blocking(bus, broker: str) -> None:  # type: ignore[no-untyped-def]
    db, relay, kind = bus
    group = f"g-{uuid.uuid4().hex[:8]}"
    await relay.publisher.publish(
        [OutboundMessage(kind[1], "acct_x", b"not json")]
    )  # a foreign, broken message
    await _post_events(db, kind[0], 3)
    await relay.drain()
    consumer = _consumer(db, broker, group, kind)
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))
    try:
        await eventually(lambda: _count(db), until=lambda n: n == 3)
    finally:
        stop.set()
        await task
        await consumer.stop()
    async with db.session() as session:
        dead = (await session.exec(select(DeadLetter))).all()  # type: ignore[call-overload]
    assert len(dead) == 1
    assert "not an event envelope" in dead[0][0].error


async def test_an_event_the_handler_rejects_is_parked_and_the_rest_of_its_batch_applies(
    bus, broker: str
) -> None:  # type: ignore[no-untyped-def]
    db, relay, kind = bus
    model, _, name = kind

    async def refuse_negative(session: AsyncSession, envelope: Envelope) -> None:
        if envelope.payload_as(model).amount < 0:
            raise ValidationFailed.single("amount", "a posting may not be negative")
        await _apply_posting(session, envelope)

    async with UnitOfWork(db, producer="test") as uow:
        for amount in ("1.00", "-5.00", "2.00"):
            uow.emit(model(account_id="acct_1", amount=Decimal(amount)), key="acct_1")
        await uow.commit()
    await relay.drain()
    consumer = IdempotentConsumer(
        db,
        group_id=f"g-{uuid.uuid4().hex[:8]}",
        topics=[kind[1]],
        handlers={name: refuse_negative},
        bootstrap_servers=broker,
        **GROUP_TIMEOUTS,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))
    try:
        await eventually(lambda: _count(db), until=lambda n: n == 2)
    finally:
        stop.set()
        await task
        await consumer.stop()
    async with db.session() as session:
        dead = (await session.exec(select(DeadLetter))).all()  # type: ignore[call-overload]
        amounts = (await session.exec(select(AppliedPosting.amount))).all()  # type: ignore[call-overload]
    assert sorted(a[0] for a in amounts) == [Decimal("1.00"), Decimal("2.00")]
    assert len(dead) == 1 and "a posting may not be negative" in dead[0][0].error
    assert consumer.applied_total == 2
