"""The event bus: events/s through the transactional outbox and through the idempotent consumer.

Measured, on a local Tansu broker on loopback and a SQLite file database:

- `bus.outbox.write` — `UnitOfWork.emit` of N events, committed `per_transaction` at a time
  (envelope building, outbox rows, SQLite commit);
- `bus.outbox.relay` — `OutboxRelay.drain()` publishing those rows with `KafkaPublisher`
  (read a batch, produce it and wait for every ack, mark it published);
- `bus.outbox` — both together: from `emit` to the broker's acknowledgement;
- `bus.consumer` — `IdempotentConsumer.run()` applying every event with a trivial handler
  (envelope parsing, inbox look-up and insert, a savepoint per event, commit, offset commit),
  timed from the first fetched record so the consumer-group join is left out (on this broker
  a join takes the whole rebalance timeout, which says nothing about throughput);
- `bus.outbox.batched.relay` and `bus.outbox.batched` — the same N events of a batchable type
  (DESIGN §4): the relay packs each key's consecutive events into batch messages (it reads
  `BATCHED_READ_ROWS` rows a round, so ~50 events per message with the 97 accounts here);
- `bus.consumer.decode` — a bare consumer fetching those batch messages and turning each into
  its events with `decode_message` (one pass per message): the floor of a consumer that asks
  for whole batches, before any inbox or handler work;
- `bus.consumer.batched` — `IdempotentConsumer.run()` applying those batch messages through a
  `BatchEventHandler` that writes each batch with one multi-row insert (one row per event):
  decoding, the inbox look-up of messages and items, the handler, the inbox rows of messages
  and items in one insert, commit, offset commit — exactly once, timed like `bus.consumer`.

Baselines, in the same run and on the same broker (each the best of 3 runs: they last a
fraction of a second, so one hiccup would weigh on them far more than on the measured paths):

- the outbox figures against the raw produce rate: the producer of `KafkaPublisher` itself
  (same aiokafka settings) sending the very same message bytes and keys, N messages, all in
  flight at once and awaited at the end. That is the ceiling of what any publisher gets out of
  this broker from this process, so the ratio is the share of the broker's rate the outbox
  keeps after paying for durability (a database commit before anything is sent);
- the consumer against the raw consume rate: an aiokafka consumer with the same batch size,
  no group and no commits, reading those N messages from its first fetch. That is the floor
  cost of fetching and decoding records; everything above it is what exactly-once costs.

The batched figures stand beside the same two baselines (single-event messages), so their
ratios say what batching buys against sending each event on its own at the broker's full rate.
"""

from __future__ import annotations

import asyncio
import gc
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from sqlalchemy import Column, String
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bench.report import Figure, per_second
from libs.contracts.batch import decode_message
from libs.contracts.envelope import Envelope, EventPayload
from libs.contracts.registry import event_type
from libs.platform.audit import AuditRecord
from libs.platform.batch_handlers import BatchEventHandler
from libs.platform.broker import KafkaPublisher, LocalBroker, ensure_topics, free_port
from libs.platform.db import Database
from libs.platform.inbox import DeadLetter, IdempotentConsumer, InboxEntry
from libs.platform.outbox import OutboxMessage, OutboxRelay
from libs.platform.unit_of_work import UnitOfWork

DEFAULT_EVENTS = 20_000
PER_TRANSACTION = 500
PARTITIONS = 3
WARM_UP_MESSAGES = 1_000
BASELINE_RUNS = 3
# The whole benchmark stops by itself; at the rates seen here 20,000 events take ~20 s.
DEADLINE_S = 150.0
# The local broker makes a joining member wait the full rebalance timeout.
REBALANCE_TIMEOUT_MS = 1_000
SESSION_TIMEOUT_MS = 6_000
# Rows the relay reads a round on the batched path: with 97 accounts, ~50 events a message.
BATCHED_READ_ROWS = 5_000
ACCOUNTS = 97


class BenchPosting(EventPayload):
    """The benchmark's event: an amount posted to an account (a typical small payload)."""

    account_id: str
    amount: Decimal


class BenchAppliedPosting(SQLModel, table=True):
    """The batch handler's effect: one row per applied event."""

    __tablename__ = "bench_applied_postings"

    event_id: str = Field(sa_column=Column(String(36), primary_key=True))
    account_id: str = Field(sa_column=Column(String(40), nullable=False))
    amount: str = Field(sa_column=Column(String(40), nullable=False))


def _fresh_event_type(*, batchable: bool = False) -> tuple[type[BenchPosting], str, str]:
    """A payload type registered on a topic of its own, so runs never see each other's events."""
    suffix = uuid.uuid4().hex[:8]
    topic, name = f"bench.bus.{suffix}", f"bench.posting_{suffix}"
    model = event_type(name, topic=topic, batchable=batchable)(
        type(f"BenchPosting{suffix}", (BenchPosting,), {"__doc__": "A benchmark posting."})
    )
    return model, topic, name


async def _database(url: str) -> Database:
    """A database with the platform tables the outbox and the inbox write to."""
    db = Database(url)
    models = (OutboxMessage, InboxEntry, DeadLetter, AuditRecord, BenchAppliedPosting)
    tables = [SQLModel.metadata.tables[str(model.__tablename__)] for model in models]
    async with db.engine.begin() as conn:
        await conn.run_sync(lambda c: SQLModel.metadata.create_all(c, tables=tables))
    return db


async def _ignore(session: AsyncSession, envelope: Envelope) -> None:
    """The trivial handler: the figure is the consumer's own cost, not a business effect."""


# The handler's INSERT, as a service's batch handler on a hot path writes it: straight to the
# driver's executemany (as `add_to_outbox` does), since SQLAlchemy's per-row parameter
# processing would cost more than SQLite's insert of the row.
_POST_BATCH = "INSERT INTO bench_applied_postings (event_id, account_id, amount) VALUES (?, ?, ?)"


async def _post_batch(session: AsyncSession, envelopes: Sequence[Envelope]) -> None:
    """The trivial batch handler: the batch's postings in one multi-row insert."""
    rows = [(str(e.event_id), e.payload["account_id"], e.payload["amount"]) for e in envelopes]
    connection = await session.connection()
    await connection.exec_driver_sql(_POST_BATCH, rows)


class _TimedConsumer(IdempotentConsumer):
    """The platform consumer, noting when its first batch arrived and when `expected` were applied."""

    def __init__(self, *args: Any, expected: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.expected = expected
        self.first_record_at: float | None = None
        self.all_applied_at: float | None = None
        self.all_applied = asyncio.Event()

    async def apply(self, records: Sequence[ConsumerRecord[Any, Any]]) -> int:
        if self.first_record_at is None:
            self.first_record_at = time.perf_counter()
        applied = await super().apply(records)
        if self.applied_total >= self.expected and not self.all_applied.is_set():
            self.all_applied_at = time.perf_counter()
            self.all_applied.set()
        return applied


async def _write_outbox(db: Database, model: type[BenchPosting], events: int, per_transaction: int) -> None:
    """Emit `events` events through units of work of `per_transaction` events each."""
    for start in range(0, events, per_transaction):
        async with UnitOfWork(db, producer="bench") as uow:
            for i in range(start, min(events, start + per_transaction)):
                account = f"acct_{i % ACCOUNTS:05d}"
                uow.emit(model(account_id=account, amount=Decimal("12.50")), key=account)
            await uow.commit()


async def _outbox_messages(db: Database) -> list[tuple[bytes, bytes]]:
    """(key, value) of every outbox row, in publishing order: the bytes the relay sent."""
    async with db.session() as session:
        rows = (
            await session.exec(
                select(col(OutboxMessage.key), col(OutboxMessage.body)).order_by(col(OutboxMessage.id))
            )
        ).all()
    return [(key.encode(), body.encode()) for key, body in rows]


async def _raw_produce(
    publisher: KafkaPublisher, topic: str, messages: Sequence[tuple[bytes, bytes]]
) -> float:
    """Seconds to send every message with the bare producer and have all of them acknowledged."""
    started = time.perf_counter()
    futures = [await publisher.producer.send(topic, value=value, key=key) for key, value in messages]
    await asyncio.gather(*futures)
    return time.perf_counter() - started


async def _raw_consume(
    bootstrap: str,
    topic: str,
    expected: int,
    batch_size: int,
    *,
    events_in: Callable[[ConsumerRecord[Any, Any]], int] | None = None,
) -> float:
    """Seconds a bare consumer takes to read `expected` records (or, with `events_in`, the events
    they carry: the batch decode figure) from the start of `topic`.

    No group, so no join to leave out: the clock starts at the first fetch and includes it.
    """
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_records=batch_size,
    )
    consumer.assign([TopicPartition(topic, p) for p in range(PARTITIONS)])
    await consumer.start()
    try:
        seen = 0
        started = time.perf_counter()
        while seen < expected:
            batches = await consumer.getmany(timeout_ms=200, max_records=batch_size)
            if events_in is None:
                seen += sum(len(records) for records in batches.values())
            else:
                seen += sum(events_in(record) for records in batches.values() for record in records)
        return time.perf_counter() - started
    finally:
        await consumer.stop()


def _decoded_events(record: ConsumerRecord[Any, Any]) -> int:
    """How many events a record carries, decoded as a consumer decodes it."""
    return len(decode_message(record.value, record.headers).events)


async def _consume_idempotently(
    db: Database,
    bootstrap: str,
    topic: str,
    event_type_name: str,
    expected: int,
    batch_size: int,
    *,
    handler: Any = _ignore,
) -> float:
    """Seconds from the first fetched record until the consumer applied `expected` events."""
    consumer = _TimedConsumer(
        db,
        group_id=f"bench-{uuid.uuid4().hex[:8]}",
        topics=[topic],
        handlers={event_type_name: handler},
        bootstrap_servers=bootstrap,
        batch_size=batch_size,
        session_timeout_ms=SESSION_TIMEOUT_MS,
        rebalance_timeout_ms=REBALANCE_TIMEOUT_MS,
        expected=expected,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))
    try:
        await consumer.all_applied.wait()
    finally:
        stop.set()
        await task
        await consumer.stop()
    assert consumer.first_record_at is not None and consumer.all_applied_at is not None
    return consumer.all_applied_at - consumer.first_record_at


async def _warm_up(publisher: KafkaPublisher, bootstrap: str) -> None:
    """Push and read a few messages so neither side pays for the broker's or client's first use."""
    topic = f"bench.warmup.{uuid.uuid4().hex[:8]}"
    await ensure_topics(bootstrap, [topic], partitions=PARTITIONS)
    messages = [(f"k{i % 7}".encode(), b"x" * 400) for i in range(WARM_UP_MESSAGES)]
    await _raw_produce(publisher, topic, messages)
    await _raw_consume(bootstrap, topic, WARM_UP_MESSAGES, PER_TRANSACTION)


async def measure(events: int = DEFAULT_EVENTS, *, per_transaction: int = PER_TRANSACTION) -> list[Figure]:
    """Start a broker, run every bus measurement and its baseline, stop the broker."""
    async with asyncio.timeout(DEADLINE_S):
        broker = LocalBroker(port=free_port()).start()
        try:
            with tempfile.TemporaryDirectory(prefix="bench-bus-") as tmp:
                return await _measure(broker.bootstrap_servers, Path(tmp), events, per_transaction)
        finally:
            broker.stop()


async def _relay_through_outbox(
    db: Database,
    publisher: KafkaPublisher,
    model: type[BenchPosting],
    events: int,
    *,
    per_transaction: int,
    read_rows: int,
) -> tuple[float, float]:
    """Seconds to write `events` into the outbox, then seconds for the relay to publish them all."""
    started = time.perf_counter()
    await _write_outbox(db, model, events, per_transaction)
    written = time.perf_counter()
    published = await OutboxRelay(db, publisher, batch_size=read_rows).drain()
    relayed = time.perf_counter()
    if published != events:
        raise RuntimeError(f"the relay published {published} of {events} events")
    return written - started, relayed - written


async def _measure(bootstrap: str, tmp: Path, events: int, per_transaction: int) -> list[Figure]:
    model, topic, name = _fresh_event_type()
    batched_model, batched_topic, batched_name = _fresh_event_type(batchable=True)
    raw_topic = f"bench.raw.{uuid.uuid4().hex[:8]}"
    await ensure_topics(bootstrap, [topic, batched_topic, raw_topic], partitions=PARTITIONS)
    db = await _database(f"sqlite+aiosqlite:///{tmp / 'bench.db'}")
    batched_db = await _database(f"sqlite+aiosqlite:///{tmp / 'bench-batched.db'}")
    publisher = KafkaPublisher(bootstrap, client_id="bench")
    await publisher.start()
    try:
        await _warm_up(publisher, bootstrap)

        write_s, relay_s = await _relay_through_outbox(
            db, publisher, model, events, per_transaction=per_transaction, read_rows=per_transaction
        )
        batched_write_s, batched_relay_s = await _relay_through_outbox(
            batched_db,
            publisher,
            batched_model,
            events,
            per_transaction=per_transaction,
            read_rows=BATCHED_READ_ROWS,
        )

        # The baselines last a fraction of a second, so a hiccup weighs on them far more than
        # on the measured paths: take the best of a few runs (the topic gets N messages a run).
        messages = await _outbox_messages(db)
        produce_s = min([await _raw_produce(publisher, raw_topic, messages) for _ in range(BASELINE_RUNS)])
        consume_s = min(
            [await _raw_consume(bootstrap, raw_topic, events, per_transaction) for _ in range(BASELINE_RUNS)]
        )
        decode_s = min(
            [
                await _raw_consume(
                    bootstrap, batched_topic, events, per_transaction, events_in=_decoded_events
                )
                for _ in range(BASELINE_RUNS)
            ]
        )
        apply_s = await _consume_idempotently(db, bootstrap, topic, name, events, per_transaction)
        batched_apply_s = await _consume_idempotently(
            batched_db,
            bootstrap,
            batched_topic,
            batched_name,
            events,
            per_transaction,
            handler=BatchEventHandler(_post_batch),
        )
    finally:
        await publisher.stop()
        await db.dispose()
        await batched_db.dispose()

    produce = per_second(events, produce_s)
    consume = per_second(events, consume_s)

    def outbox(name: str, seconds: float) -> Figure:
        return Figure(
            name,
            per_second(events, seconds),
            "events/s",
            produce,
            "msgs/s",
            "raw aiokafka produce, same bytes",
        )

    def consumer(name: str, seconds: float) -> Figure:
        return Figure(
            name,
            per_second(events, seconds),
            "events/s",
            consume,
            "msgs/s",
            "raw aiokafka consume, same msgs",
        )

    return [
        outbox("bus.outbox.write", write_s),
        outbox("bus.outbox.relay", relay_s),
        outbox("bus.outbox", write_s + relay_s),
        consumer("bus.consumer", apply_s),
        outbox("bus.outbox.batched.relay", batched_relay_s),
        outbox("bus.outbox.batched", batched_write_s + batched_relay_s),
        consumer("bus.consumer.decode", decode_s),
        consumer("bus.consumer.batched", batched_apply_s),
    ]


def run(events: int = DEFAULT_EVENTS) -> list[Figure]:
    """The bus benchmark, synchronously (its own event loop)."""
    # As every service does once it has started (libs.platform.service): what start-up built is
    # kept out of the garbage collector's full scans.
    gc.freeze()
    return asyncio.run(measure(events))
