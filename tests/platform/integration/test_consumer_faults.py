"""The consumer under faults, over the real broker: rebalances mid-batch, a consumer task that
dies, a handler that raises, an event whose data has not arrived yet, malformed and too-new
messages. Each test counts effects: nothing lost, nothing applied twice."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import murmur2
from sqlalchemy import Column, String, func, select
from sqlmodel import Field, SQLModel, col
from sqlmodel.ext.asyncio.session import AsyncSession

from libs.contracts.envelope import Envelope
from libs.platform.broker import KafkaPublisher, ensure_topics
from libs.platform.db import Database
from libs.platform.dead_letters import list_dead_letters
from libs.platform.errors import NotFound
from libs.platform.inbox import IdempotentConsumer, InboxEntry
from libs.platform.outbox import OutboxRelay
from libs.platform.replay import replay_dead_letters
from libs.platform.service import ConsumerSpec, ServiceRuntime, create_service_app
from libs.platform.settings import Role
from libs.platform.unit_of_work import UnitOfWork
from rating.bootstrap import bootstrap
from rating.config import RatingSettings
from tests.platform.integration.test_bus import (
    AppliedPosting,
    LedgerPosted,
    _apply_posting,
    _count,
    _database,
    _fresh_event_type,
    _post_events,
)
from tests.support.polling import eventually
from tests.support.services import GROUP_TIMEOUTS, auth, running_app, service_settings

PARTITIONS = 3
Kind = tuple[type[LedgerPosted], str, str]


class KnownAccount(SQLModel, table=True):
    """Data another topic delivers: a posting for an unknown account cannot be applied yet."""

    __tablename__ = "test_known_accounts"

    account_id: str = Field(sa_column=Column(String(40), primary_key=True))


@pytest.fixture
async def faults(broker: str, database_url: str) -> AsyncIterator[tuple[Database, OutboxRelay, Kind]]:
    kind = _fresh_event_type()
    await ensure_topics(broker, [kind[1]], partitions=PARTITIONS)
    db = await _database(database_url)
    async with db.engine.begin() as conn:
        await conn.run_sync(lambda c: SQLModel.metadata.create_all(c, tables=[KnownAccount.__table__]))  # type: ignore[attr-defined]
    publisher = KafkaPublisher(broker, client_id="test-relay")
    await publisher.start()
    yield db, OutboxRelay(db, publisher, batch_size=100), kind
    await publisher.stop()
    await db.dispose()


def _key_on_partition(partition: int, n: int = 0) -> str:
    """The n-th account key the default partitioner sends to `partition`."""
    keys = (f"acct_{i}" for i in range(10_000))
    matching = (k for k in keys if (murmur2(k.encode()) & 0x7FFFFFFF) % PARTITIONS == partition)
    for _ in range(n):
        next(matching)
    return next(matching)


def _consumer(
    db: Database, broker: str, group: str, kind: Kind, handler: Any, **extra: Any
) -> IdempotentConsumer:
    return IdempotentConsumer(
        db,
        group_id=group,
        topics=[kind[1]],
        handlers={kind[2]: handler},
        bootstrap_servers=broker,
        batch_size=40,
        **GROUP_TIMEOUTS,
        **extra,
    )


async def _emit(db: Database, model: type[LedgerPosted], postings: list[tuple[str, str]]) -> None:
    async with UnitOfWork(db, producer="test") as uow:
        for account, amount in postings:
            uow.emit(model(account_id=account, amount=Decimal(amount)), key=account)
        await uow.commit()


async def _applied_amounts(db: Database, account: str) -> list[Decimal]:
    async with db.session() as session:
        rows = await session.exec(
            select(AppliedPosting.amount).where(AppliedPosting.account_id == account)  # type: ignore[call-overload]
        )
        return sorted(r[0] for r in rows.all())


async def _inbox_has(db: Database, group: str, event_id: str) -> bool:
    async with db.session() as session:
        rows = await session.exec(
            select(func.count())  # type: ignore[call-overload]
            .select_from(InboxEntry)
            .where(col(InboxEntry.consumer_group) == group, col(InboxEntry.event_id) == event_id)
        )
        return int(rows.one()[0]) == 1


class Running:
    """Runs a consumer's loop as a task; `stop()` ends it and leaves the group."""

    def __init__(self, consumer: IdempotentConsumer) -> None:
        self.consumer = consumer
        self.stop_event = asyncio.Event()
        self.task = asyncio.create_task(consumer.run(self.stop_event))

    async def stop(self) -> None:
        self.stop_event.set()
        try:
            await self.task
        finally:
            await self.consumer.stop()


# ----- 1. rebalances and a consumer task that dies --------------------------------------------


async def test_members_joining_and_leaving_mid_batch_lose_nothing_and_apply_nothing_twice(
    faults: tuple[Database, OutboxRelay, Kind], broker: str
) -> None:
    db, relay, kind = faults
    group = f"g-{uuid.uuid4().hex[:8]}"
    await _post_events(db, kind[0], 60)
    await relay.drain()

    # The first member blocks inside its first batch until a second member has joined, then
    # applying that batch fails: the group rebalanced under it, so some partitions of the
    # batch are no longer its own when it recovers.
    entered, release = asyncio.Event(), asyncio.Event()

    async def slow_posting(session: AsyncSession, envelope: Envelope) -> None:
        if not entered.is_set():
            entered.set()
            await release.wait()
            raise RuntimeError("the ledger timed out")
        await _apply_posting(session, envelope)

    first = Running(_consumer(db, broker, group, kind, slow_posting))
    await asyncio.wait_for(entered.wait(), timeout=20)
    second = Running(_consumer(db, broker, group, kind, _apply_posting))
    try:
        await eventually(
            lambda: asyncio.sleep(0, second.consumer.consumer and second.consumer.consumer.assignment()),
            until=bool,
        )
        release.set()
        await eventually(lambda: _count(db), until=lambda n: n == 60, timeout_s=40)
        await _post_events(db, kind[0], 60, start=60)
        await relay.drain()
        await eventually(lambda: _count(db), until=lambda n: n == 120, timeout_s=40)
        assert not first.task.done(), "the first member's consumer task ended"
        # The first member leaves mid-stream; the second takes over its partitions.
        await first.stop()
        await _post_events(db, kind[0], 60, start=120)
        await relay.drain()
        await eventually(lambda: _count(db), until=lambda n: n == 180, timeout_s=40)
    finally:
        release.set()
        if not first.task.done():
            await first.stop()
        await second.stop()
    assert await _count(db) == 180
    assert first.consumer.applied_total + second.consumer.applied_total == 180


async def test_a_consumer_task_that_dies_makes_the_service_unready_and_is_restarted(
    faults: tuple[Database, OutboxRelay, Kind], broker: str, database_url: str
) -> None:
    db, relay, kind = faults
    # The fixture made the tables; the runtime shares that database.
    settings = service_settings(
        RatingSettings,
        database_url=database_url,
        bootstrap=broker,
        consumer_restart_backoff_s=0.5,
        migrate_on_start=False,
    )
    runtime: ServiceRuntime = bootstrap(settings)
    group = f"g-{uuid.uuid4().hex[:8]}"
    runtime.consumer_specs = [
        ConsumerSpec(group_id=group, topics=[kind[1]], handlers={kind[2]: _apply_posting})
    ]
    app = create_service_app(runtime=runtime, title="Test", description="test", routers=[])

    async def readiness(client: httpx.AsyncClient) -> tuple[int, str]:
        response = await client.get("/readyz")
        return response.status_code, response.json()["checks"][f"consumer:{group}"]

    async with running_app(app) as client:
        await eventually(lambda: readiness(client), until=lambda r: r == (200, "ok"))
        consumer = runtime.consumers[0]
        first_client = consumer.consumer
        assert first_client is not None

        async def broken_fetch(*args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("the consumer's fetch broke")

        first_client.getmany = broken_fetch
        status, check = await eventually(lambda: readiness(client), until=lambda r: r[0] != 200)
        assert status == 503 and check == "error: RuntimeError"
        await eventually(lambda: readiness(client), until=lambda r: r == (200, "ok"), timeout_s=30)
        assert consumer.consumer is not first_client, "a new Kafka consumer replaces the broken one"
        assert runtime.consumer_restarts == {group: 1}
        metrics = (await client.get("/metrics", headers=auth(Role.OPS))).text
        assert 'consumer_restarts_total{service="rating"} 1.0' in metrics
        assert 'consumer_dead_letters_pending{service="rating"} 0.0' in metrics
        # The restarted consumer applies what arrives.
        await _post_events(db, kind[0], 10)
        await relay.drain()
        await eventually(lambda: _count(db), until=lambda n: n == 10, timeout_s=30)


# ----- 3. one bad event does not block its partition forever ---------------------------------


async def test_a_failing_event_stops_only_its_partition_and_applies_once_it_succeeds(
    faults: tuple[Database, OutboxRelay, Kind], broker: str
) -> None:
    db, relay, kind = faults
    stuck, other1, other2 = _key_on_partition(0), _key_on_partition(1), _key_on_partition(2)
    broken = True
    calls: list[Decimal] = []

    async def flaky(session: AsyncSession, envelope: Envelope) -> None:
        amount = envelope.payload_as(LedgerPosted).amount
        if amount == Decimal("-1"):
            calls.append(amount)
            if broken:
                raise RuntimeError("the ledger is busy")
        await _apply_posting(session, envelope)

    await _emit(
        db,
        kind[0],
        [(stuck, "1"), (stuck, "-1"), (stuck, "2")]
        + [(other1, str(i)) for i in range(1, 11)]
        + [(other2, str(i)) for i in range(1, 11)],
    )
    await relay.drain()
    running = Running(
        _consumer(
            db, broker, f"g-{uuid.uuid4().hex[:8]}", kind, flaky, max_attempts=1_000, retry_backoff_s=0.05
        )
    )
    try:
        # While the event keeps failing, the other partitions apply, and its own partition
        # stops at it (what came before it is kept).
        await eventually(lambda: _count(db), until=lambda n: n == 21)
        await eventually(lambda: asyncio.sleep(0, len(calls)), until=lambda n: n >= 3)
        assert await _applied_amounts(db, stuck) == [Decimal("1")]
        broken = False
        await eventually(lambda: _count(db), until=lambda n: n == 23)
    finally:
        await running.stop()
    assert await _applied_amounts(db, stuck) == [Decimal("-1"), Decimal("1"), Decimal("2")]
    assert await list_dead_letters(db) == []
    assert running.consumer.retries_total >= 2


async def test_an_event_that_always_fails_is_parked_after_bounded_attempts_and_its_partition_goes_on(
    faults: tuple[Database, OutboxRelay, Kind], broker: str
) -> None:
    db, relay, kind = faults
    stuck, other = _key_on_partition(0), _key_on_partition(1)
    attempts: list[str] = []

    async def refuses_minus_one(session: AsyncSession, envelope: Envelope) -> None:
        if envelope.payload_as(LedgerPosted).amount == Decimal("-1"):
            attempts.append(str(envelope.event_id))
            raise RuntimeError("division by zero in the ledger")
        await _apply_posting(session, envelope)

    await _emit(db, kind[0], [(stuck, "1"), (stuck, "-1"), (stuck, "2"), (stuck, "3"), (other, "4")])
    await relay.drain()
    group = f"g-{uuid.uuid4().hex[:8]}"
    running = Running(
        _consumer(db, broker, group, kind, refuses_minus_one, max_attempts=3, retry_backoff_s=0.05)
    )
    try:
        await eventually(lambda: _count(db), until=lambda n: n == 4)
        parked = await eventually(lambda: list_dead_letters(db), until=lambda rows: len(rows) == 1)
    finally:
        await running.stop()
    assert await _applied_amounts(db, stuck) == [Decimal("1"), Decimal("2"), Decimal("3")]
    assert len(attempts) == 3 and len(set(attempts)) == 1
    letter = parked[0]
    assert letter.attempts == 3 and letter.event_id == attempts[0]
    assert "division by zero in the ledger" in letter.error and letter.event_type == kind[2]
    assert not await _inbox_has(db, group, attempts[0]), "a parked event is not marked applied"
    assert running.consumer.parked_total == 1 and running.consumer.retries_total == 2


# ----- 2. transient errors are retried, parked events replayed exactly once ------------------


async def test_an_event_whose_data_has_not_arrived_is_retried_parked_and_replayed_once(
    faults: tuple[Database, OutboxRelay, Kind], broker: str
) -> None:
    db, relay, kind = faults
    calls: list[str] = []

    async def post_to_known_account(session: AsyncSession, envelope: Envelope) -> None:
        posting = envelope.payload_as(LedgerPosted)
        calls.append(posting.account_id)
        if await session.get(KnownAccount, posting.account_id) is None:
            # Another topic's event creates the account; it has not been delivered yet.
            raise NotFound("account", posting.account_id)
        await _apply_posting(session, envelope)

    async with db.session() as session:
        session.add(KnownAccount(account_id="acct_known"))
        await session.commit()
    await _emit(db, kind[0], [("acct_known", "1"), ("acct_late", "7"), ("acct_known", "2")])
    await relay.drain()
    group = f"g-{uuid.uuid4().hex[:8]}"
    consumer = _consumer(db, broker, group, kind, post_to_known_account, max_attempts=3, retry_backoff_s=0.05)
    running = Running(consumer)
    try:
        parked = await eventually(lambda: list_dead_letters(db), until=lambda rows: len(rows) == 1)
        await eventually(lambda: _count(db), until=lambda n: n == 2)
    finally:
        await running.stop()
    letter = parked[0]
    assert calls.count("acct_late") == 3, "a not-yet-delivered account is retried before parking"
    assert letter.attempts == 3 and "acct_late" in letter.error and letter.replayed_at is None
    assert not await _inbox_has(db, group, str(letter.event_id))

    # Replaying before the data is there changes nothing and keeps the dead letter pending.
    early = await replay_dead_letters(consumer, [letter.id or 0])
    assert early.replayed == [] and list(early.failed) == [letter.id]
    # The account arrives; the operator replays the dead letter: applied once.
    async with db.session() as session:
        session.add(KnownAccount(account_id="acct_late"))
        await session.commit()
    outcome = await replay_dead_letters(consumer, None)
    assert outcome.replayed == [letter.id]
    assert await _applied_amounts(db, "acct_late") == [Decimal("7")]
    assert await _inbox_has(db, group, str(letter.event_id))
    (after,) = await list_dead_letters(db)
    assert after.replayed_at is not None
    # Replaying again changes nothing.
    again = await replay_dead_letters(consumer, [letter.id or 0])
    assert again.replayed == [] and again.already_replayed == [letter.id]
    assert await _applied_amounts(db, "acct_late") == [Decimal("7")]
    assert await _count(db) == 3


# ----- 4 and 5. malformed envelopes and unknown schema versions are parked -------------------


def _raw_envelope(kind: Kind, **changes: Any) -> bytes:
    body: dict[str, Any] = {
        "event_id": str(uuid.uuid4()),
        "type": kind[2],
        "schema_version": 1,
        "occurred_at": "2026-11-30T10:00:00+00:00",
        "producer": "test",
        "key": "acct_raw",
        "payload": {"account_id": "acct_raw", "amount": "5.00"},
    }
    body.update(changes)
    return json.dumps({k: v for k, v in body.items() if v is not None}).encode()


async def test_malformed_envelopes_and_unknown_major_versions_are_parked_never_applied(
    faults: tuple[Database, OutboxRelay, Kind], broker: str
) -> None:
    db, _, kind = faults
    calls: list[str] = []

    async def recording(session: AsyncSession, envelope: Envelope) -> None:
        calls.append(str(envelope.event_id))
        await _apply_posting(session, envelope)

    good = _raw_envelope(kind)
    messages = [
        _raw_envelope(kind, event_id=None),  # no event id: would be applied on every redelivery
        _raw_envelope(kind, occurred_at="2026-11-30T10:00:00"),  # naive timestamp
        _raw_envelope(kind, schema_version=2),  # a major version this consumer does not know
        good,
    ]
    producer = AIOKafkaProducer(bootstrap_servers=broker)
    await producer.start()
    try:
        for value in messages:
            await producer.send_and_wait(kind[1], value=value, key=b"acct_raw")
    finally:
        await producer.stop()
    group = f"g-{uuid.uuid4().hex[:8]}"
    consumer = _consumer(db, broker, group, kind, recording)
    running = Running(consumer)
    try:
        await eventually(lambda: _count(db), until=lambda n: n == 1)
        parked = await eventually(lambda: list_dead_letters(db), until=lambda rows: len(rows) == 3)
    finally:
        await running.stop()
    assert calls == [json.loads(good)["event_id"]]
    no_id, naive, too_new = sorted(parked, key=lambda d: d.offset)
    assert "event_id" in no_id.error and no_id.event_id is None
    assert "occurred_at" in naive.error and "timezone" in naive.error
    assert "schema_version 2" in too_new.error and "knows up to 1" in too_new.error
    assert too_new.event_type == kind[2] and too_new.attempts == 1
    async with db.session() as session:
        inbox = (await session.exec(select(func.count()).select_from(InboxEntry))).one()[0]  # type: ignore[call-overload]
    assert inbox == 1
    assert consumer.parked_total == 3
