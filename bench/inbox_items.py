"""What a batch handler idempotent by its own key saves: the consumer's inbox rows per item.

`python -m bench.inbox_items [--messages 20] [--events-per-message 1000] [--rounds 3]
[--database-url postgresql://...]` applies the same polls of batch messages with
`IdempotentConsumer.apply` (decoding, inbox look-ups and rows, the handler, the commit; no
broker: the records are built in memory) through a `BatchEventHandler` whose handler writes
each event with one multi-row `INSERT ... ON CONFLICT DO NOTHING` keyed by the event's own id
(as rating's usage table is), once as an ordinary batch handler (an inbox row per message and
per item, items looked up) and once registered `idempotent=True` (one row per message). It
prints events/s of each, best of `--rounds`, and their ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
import uuid
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from aiokafka import ConsumerRecord
from sqlalchemy import Column, String
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Field, SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from bench.scratch_db import scratch_database
from libs.contracts.batch import BATCH_HEADERS, encode_batch
from libs.contracts.envelope import Envelope, EventPayload
from libs.contracts.registry import event_type
from libs.platform.batch_handlers import BatchEventHandler
from libs.platform.db import Database
from libs.platform.dead_letters import DeadLetter
from libs.platform.inbox import IdempotentConsumer, InboxEntry
from libs.platform.outbox import build_envelope

TOPIC = "bench.inbox_items"


@event_type("bench.item_recorded", topic=TOPIC, batchable=True)
class ItemRecorded(EventPayload):
    """A bench event carrying its producer's own id."""

    item_id: str
    quantity: Decimal


class RecordedItem(SQLModel, table=True):
    """The handler's effect: one row per item, keyed by the item's own id."""

    __tablename__ = "bench_recorded_items"

    item_id: str = Field(sa_column=Column(String(64), primary_key=True))
    quantity: str


async def _record(session: AsyncSession, envelopes: Sequence[Envelope]) -> None:
    connection = await session.connection()
    insert = sqlite_insert if connection.dialect.name == "sqlite" else postgresql_insert
    rows = [{"item_id": e.payload["item_id"], "quantity": e.payload["quantity"]} for e in envelopes]
    await connection.execute(insert(RecordedItem).on_conflict_do_nothing(), rows)


def _records(messages: int, per_message: int) -> list[ConsumerRecord[Any, Any]]:
    records = []
    for m in range(messages):
        key = f"acct_{m}"
        items = [
            build_envelope(
                ItemRecorded(item_id=f"item-{uuid.uuid4().hex}", quantity=Decimal(1)), producer="b", key=key
            )
            for _ in range(per_message)
        ]
        value = encode_batch([i.to_bytes() for i in items], event_ids=[str(i.event_id) for i in items])
        records.append(
            ConsumerRecord(TOPIC, 0, m, 0, 0, key.encode(), value, None, 0, len(value), list(BATCH_HEADERS))
        )
    return records


async def _database(url: str) -> Database:
    db = Database(url)
    tables = [t.__table__ for t in (InboxEntry, DeadLetter, RecordedItem)]  # type: ignore[attr-defined]
    async with db.engine.begin() as conn:
        await conn.run_sync(lambda c: SQLModel.metadata.create_all(c, tables=tables))
    return db


async def _rate(db: Database, idempotent: bool, messages: int, per_message: int, rounds: int) -> float:
    best = 0.0
    for _ in range(rounds):
        consumer = IdempotentConsumer(
            db,
            group_id=f"bench-{uuid.uuid4().hex[:8]}",
            topics=[TOPIC],
            handlers={"bench.item_recorded": BatchEventHandler(_record, idempotent=idempotent)},
            bootstrap_servers="unused:1",
        )
        records = _records(messages, per_message)
        started = time.perf_counter()
        applied = await consumer.apply(records)
        elapsed = time.perf_counter() - started
        assert applied == messages * per_message
        best = max(best, applied / elapsed)
    return best


async def run(messages: int, per_message: int, rounds: int, database_url: str | None) -> None:
    """Print events/s with and without the idempotent flag."""
    async with scratch_database(database_url) as url:
        db = await _database(url)
        try:
            plain = await _rate(db, False, messages, per_message, rounds)
            idempotent = await _rate(db, True, messages, per_message, rounds)
        finally:
            await db.dispose()
    backend = "PostgreSQL" if database_url else "SQLite"
    print(f"consumer apply, {messages} batch messages x {per_message} events, {backend}, best of {rounds}")
    print(f"  inbox row per message and per item   {plain:>12,.0f} events/s")
    print(
        f"  idempotent handler, per message only {idempotent:>12,.0f} events/s  (x{idempotent / plain:.2f})"
    )


def main(argv: list[str] | None = None) -> int:
    """Parse the options and run the benchmark."""
    parser = argparse.ArgumentParser(prog="python -m bench.inbox_items", description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20)
    parser.add_argument("--events-per-message", type=int, default=1_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--database-url", default=None, help="a PostgreSQL server (a scratch database is made there)"
    )
    args = parser.parse_args(argv)
    asyncio.run(run(args.messages, args.events_per_message, args.rounds, args.database_url))
    return 0


if __name__ == "__main__":
    sys.exit(main())
