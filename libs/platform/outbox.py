"""Transactional outbox (DESIGN §4): events are written in the same transaction as the change
and a relay publishes them afterwards, at least once, in insertion order.

Published rows are kept for a retention window so that `republish` can replay them to a broker
that forgot them (the local broker keeps data in memory); consumers' inboxes make that harmless.
Events of batchable types (`libs.contracts.batch`) travel many to a message. A row the broker
refuses for good is parked (`parked_at`, `error`) so that the others go on; an operator lists it
(`list_parked`) and makes it pending again (`mark_for_republish(parked=True)`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Integer,
    Text,
    bindparam,
    delete,
    func,
    text,
    update,
)
from sqlalchemy import select as sa_select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import Field, SQLModel, col
from sqlmodel.ext.asyncio.session import AsyncSession

from libs.contracts.envelope import Envelope
from libs.contracts.registry import EVENT_TYPES
from libs.platform.db import Database, UtcDateTime, utcnow
from libs.platform.driver_rows import driver_insert
from libs.platform.logging import get_logger
from libs.platform.outbox_envelopes import build_envelope
from libs.platform.outbox_messages import (
    EventPublisher,
    MessageRefused,
    OutboundMessage,
    PackedMessage,
    PublishOutcome,
    pack_rows,
)

__all__ = [
    "EventPublisher",
    "MessageRefused",
    "OutboundMessage",
    "OutboxMessage",
    "OutboxRelay",
    "ParkedEvent",
    "PublishOutcome",
    "add_to_outbox",
    "build_envelope",
    "count_parked",
    "list_parked",
    "mark_for_republish",
]

log = get_logger("outbox")

# Fixed key so only one relay per database publishes at a time (keeps per-key order on
# PostgreSQL with several replicas).
_RELAY_LOCK_KEY = 7_300_442_001


class OutboxMessage(SQLModel, table=True):
    """One event waiting to be (or already) published."""

    __tablename__ = "outbox"
    # Pending = neither published nor parked; the index serves the relay's read in id order
    # without walking past parked rows.
    __table_args__ = (Index("ix_outbox_pending", "published_at", "parked_at", "id"),)

    id: int | None = Field(
        default=None,
        sa_column=Column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    )
    event_id: str = Field(max_length=36, unique=True)
    event_type: str = Field(max_length=120)
    topic: str = Field(max_length=120)
    key: str = Field(max_length=120)
    body: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    published_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    parked_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


_STAGED_COLUMNS = ("event_id", "event_type", "topic", "key", "body", "created_at")


async def add_to_outbox(session: AsyncSession, envelopes: Sequence[Envelope]) -> None:
    """Stage envelopes in the caller's transaction (one statement); published after it commits."""
    if not envelopes:
        return
    connection = await session.connection()
    dialect = connection.dialect
    # Straight to the driver's executemany: SQLAlchemy's per-row parameter processing cost as
    # much as SQLite's insert itself, on the hot path of every event. The one typed value is
    # converted once for all rows.
    column_type = OutboxMessage.__table__.c.created_at.type.dialect_impl(dialect)  # type: ignore[attr-defined]
    # The dialect's own form (SQLite: the same text the ORM writes), so that times compare as text.
    created_at = column_type.bind_processor(dialect)(utcnow())
    rows = [
        (
            str(envelope.event_id),
            envelope.type,
            EVENT_TYPES[envelope.type].topic,
            envelope.key,
            envelope.model_dump_json(),
            created_at,
        )
        for envelope in envelopes
    ]
    table = OutboxMessage.__table__  # type: ignore[attr-defined]
    await connection.exec_driver_sql(driver_insert(table, _STAGED_COLUMNS, dialect), rows)


@dataclass
class _Round:
    """What one relay round did with the rows it read."""

    read: int = 0
    published: int = 0
    parked: int = 0
    to_send_singly: int = 0
    transient: BaseException | None = None

    @property
    def progressed(self) -> bool:
        return bool(self.published or self.parked or self.to_send_singly)


class OutboxRelay:
    """Publishes pending outbox rows, marks them published, parks refused ones, purges old ones.

    A round reads pending rows in a short transaction, publishes them with no transaction open
    (so a slow or absent broker never holds SQLite's write lock or PostgreSQL row locks), then
    marks them in another short transaction. A crash between publishing and marking sends them
    again (at least once; consumers deduplicate on `event_id`). On PostgreSQL a session-level
    advisory lock, held on the round's own connection across all three steps, keeps other
    replicas' relays out, so each key's events leave in order.

    What the broker acknowledged is marked even when other messages of the round failed for now
    (those are retried with back-off). Without an idempotent producer one case stays open: a
    message that timed out while a later one of its partition was acknowledged arrives after it.
    """

    def __init__(
        self,
        db: Database,
        publisher: EventPublisher,
        *,
        batch_size: int = 500,
        poll_interval_s: float = 0.2,
        retention: timedelta = timedelta(days=7),
        max_batch_items: int = 1_000,
        max_batch_bytes: int = 512 * 1024,
        max_backoff_s: float = 30.0,
    ) -> None:
        self.db = db
        self.publisher = publisher
        self.batch_size = batch_size
        self.poll_interval_s = poll_interval_s
        self.retention = retention
        self.max_batch_items = max_batch_items
        self.max_batch_bytes = max_batch_bytes
        self.max_backoff_s = max_backoff_s
        self.wakeup = asyncio.Event()
        self.published_total = 0
        self.parked_total = 0
        self._turn = asyncio.Lock()
        # Rows of a batch the broker refused: sent one per message next time, so that only the
        # row at fault is parked.
        self._send_singly: set[int] = set()

    async def publish_pending(self) -> int:
        """Publish one round of pending rows; returns how many were published.

        Raises the first transient error after recording what did go through.
        """
        outcome = await self._round()
        if outcome.transient is not None:
            raise outcome.transient
        return outcome.published

    async def drain(self) -> int:
        """Publish until nothing is pending (parked rows aside); returns how many were published."""
        total = 0
        while True:
            outcome = await self._round()
            if outcome.transient is not None:
                raise outcome.transient
            total += outcome.published
            if not outcome.progressed:
                return total

    async def run(self, stop: asyncio.Event) -> None:
        """Loop until `stop` is set: publish, purge now and then, wait for a nudge or the poll.

        Transient failures are retried with exponential back-off (capped at `max_backoff_s`).
        """
        last_purge = utcnow()
        failures = 0
        while not stop.is_set():
            try:
                outcome = await self._round()
                if outcome.transient is not None:
                    raise outcome.transient
                failures = 0
                if utcnow() - last_purge > timedelta(minutes=10):
                    await self.purge()
                    last_purge = utcnow()
            except Exception as exc:  # keep relaying after a broker or database hiccup
                failures += 1
                delay = min(self.max_backoff_s, 0.25 * 2**failures)
                log.warning("outbox.relay_failed", error=repr(exc), retry_in_s=delay)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=delay)
                continue
            # A full round may have left more behind, and refused batches are retried one by one
            # at once; otherwise wait for a commit's nudge or the poll interval.
            if outcome.read < self.batch_size and not outcome.to_send_singly:
                self.wakeup.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wakeup.wait(), timeout=self.poll_interval_s)

    async def _round(self) -> _Round:
        async with self._turn, self._relay_connection() as connection:
            if connection is None:
                return _Round()
            table = OutboxMessage.__table__  # type: ignore[attr-defined]
            # Plain rows, not ORM objects: the relay only forwards bytes.
            rows = (
                await connection.execute(
                    sa_select(
                        table.c.id,
                        table.c.event_id,
                        table.c.event_type,
                        table.c.topic,
                        table.c.key,
                        table.c.body,
                    )
                    .where(table.c.published_at.is_(None), table.c.parked_at.is_(None))
                    .order_by(table.c.id)
                    .limit(self.batch_size)
                )
            ).all()
            await connection.commit()
            if not rows:
                return _Round()
            packed = pack_rows(
                rows,
                max_items=self.max_batch_items,
                max_bytes=self.max_batch_bytes,
                unbatched=self._send_singly,
            )
            outcomes = await self.publisher.publish([p.message() for p in packed])
            outcome = await self._settle(connection, packed, outcomes)
            outcome.read = len(rows)
            return outcome

    async def _settle(
        self, connection: AsyncConnection, packed: Sequence[PackedMessage], outcomes: Sequence[PublishOutcome]
    ) -> _Round:
        """Mark what the broker took, park what it refused for good, in one short transaction."""
        table = OutboxMessage.__table__  # type: ignore[attr-defined]
        outcome = _Round()
        published: list[int] = []
        now = utcnow()
        for message, result in zip(packed, outcomes, strict=True):
            if result is None:
                published.extend(message.row_ids)
                self._send_singly.difference_update(message.row_ids)
            elif isinstance(result, MessageRefused) and len(message.row_ids) > 1:
                self._send_singly.update(message.row_ids)
                outcome.to_send_singly += len(message.row_ids)
            elif isinstance(result, MessageRefused):
                log.error(
                    "outbox.parked",
                    topic=message.topic,
                    key=message.key,
                    event_id=message.event_ids[0],
                    error=str(result),
                )
                await connection.execute(
                    update(table)
                    .where(table.c.id == message.row_ids[0])
                    .values(parked_at=now, error=str(result)[:2000])
                )
                self._send_singly.discard(message.row_ids[0])
                outcome.parked += 1
            elif outcome.transient is None:
                outcome.transient = result
        if published:
            await connection.execute(
                _MARK_PUBLISHED[self.db.dialect], {"ids": _id_list(self.db.dialect, published), "now": now}
            )
        await connection.commit()
        outcome.published = len(published)
        self.published_total += outcome.published
        self.parked_total += outcome.parked
        return outcome

    @contextlib.asynccontextmanager
    async def _relay_connection(self) -> AsyncIterator[AsyncConnection | None]:
        """The round's connection, or None while another relay holds the PostgreSQL lock."""
        async with self.db.engine.connect() as connection:
            if self.db.dialect != "postgresql":
                yield connection
                return
            # Session-level, unlike pg_try_advisory_xact_lock: it outlives the short
            # transactions of the round and is held while no transaction is open.
            got = (
                await connection.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": _RELAY_LOCK_KEY})
            ).scalar()
            await connection.commit()
            if not got:
                yield None
                return
            try:
                yield connection
            finally:
                try:
                    await connection.rollback()
                    await connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _RELAY_LOCK_KEY})
                    await connection.commit()
                except Exception as exc:
                    # Never hand a connection that may still hold the lock back to the pool:
                    # closing its session is what releases the lock then.
                    log.warning("outbox.relay_unlock_failed", error=repr(exc))
                    await connection.invalidate()

    async def purge(self) -> int:
        """Delete published rows older than the retention window (parked rows stay)."""
        cutoff = utcnow() - self.retention
        async with self.db.session() as session:
            result = await session.exec(delete(OutboxMessage).where(col(OutboxMessage.published_at) < cutoff))
            await session.commit()
        return int(result.rowcount or 0)

    async def republish(self, since: datetime | None = None, *, parked: bool = False) -> int:
        """Mark retained published rows (or the parked ones) to be published again."""
        count = await mark_for_republish(self.db, since, parked=parked)
        self.wakeup.set()
        return count


# The ids of a round travel as ONE parameter (an array, a JSON list): rendering an IN list of
# thousands of bound ids costs SQLAlchemy more than the database spends on the update.
_MARK_PUBLISHED = {
    dialect: text(sql).bindparams(bindparam("now", type_=UtcDateTime()))
    for dialect, sql in {
        "postgresql": "UPDATE outbox SET published_at = :now WHERE id = ANY(:ids)",
        "sqlite": "UPDATE outbox SET published_at = :now WHERE id IN (SELECT value FROM json_each(:ids))",
    }.items()
}


def _id_list(dialect: str, ids: list[int]) -> object:
    return ids if dialect == "postgresql" else json.dumps(ids)


@dataclass(frozen=True)
class ParkedEvent:
    """An outbox row the broker refused for good, waiting for an operator."""

    id: int
    event_id: str
    event_type: str
    topic: str
    key: str
    error: str
    created_at: datetime
    parked_at: datetime


async def list_parked(db: Database, *, limit: int = 100) -> list[ParkedEvent]:
    """The parked outbox rows, oldest first."""
    table = OutboxMessage.__table__  # type: ignore[attr-defined]
    async with db.engine.connect() as connection:
        rows = (
            await connection.execute(
                sa_select(
                    table.c.id,
                    table.c.event_id,
                    table.c.event_type,
                    table.c.topic,
                    table.c.key,
                    table.c.error,
                    table.c.created_at,
                    table.c.parked_at,
                )
                .where(table.c.parked_at.is_not(None))
                .order_by(table.c.id)
                .limit(limit)
            )
        ).all()
    return [ParkedEvent(**row._mapping) for row in rows]


async def count_parked(db: Database) -> int:
    """How many outbox rows are parked (for `/metrics`: it survives restarts, unlike a counter)."""
    table = OutboxMessage.__table__  # type: ignore[attr-defined]
    async with db.engine.connect() as connection:
        result = await connection.execute(
            sa_select(func.count()).select_from(table).where(table.c.parked_at.is_not(None))
        )
        return int(result.scalar_one())


async def mark_for_republish(db: Database, since: datetime | None = None, *, parked: bool = False) -> int:
    """Make rows pending again: retained published rows, or with `parked` the parked ones
    (optionally only those created from `since`)."""
    async with db.session() as session:
        if parked:
            stmt = update(OutboxMessage).where(col(OutboxMessage.parked_at).is_not(None))
            values: dict[str, Any] = {"parked_at": None, "error": None}
        else:
            stmt = update(OutboxMessage).where(col(OutboxMessage.published_at).is_not(None))
            values = {"published_at": None}
        if since is not None:
            stmt = stmt.where(col(OutboxMessage.created_at) >= since)
        result = await session.exec(stmt.values(**values))
        await session.commit()
    return int(result.rowcount or 0)
