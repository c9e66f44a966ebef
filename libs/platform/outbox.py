"""Transactional outbox (DESIGN §4): events are written in the same transaction as the change
and a relay publishes them afterwards, at least once, in insertion order.

Published rows are kept for a retention window so that `republish` can replay them to a broker
that forgot them (the local broker keeps data in memory); consumers' inboxes make that harmless.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import BigInteger, Column, Index, Integer, Text, delete, insert, text, update
from sqlalchemy import select as sa_select
from sqlmodel import Field, SQLModel, col
from sqlmodel.ext.asyncio.session import AsyncSession

from libs.contracts.envelope import Envelope, EventPayload
from libs.contracts.registry import EVENT_TYPES, spec_of
from libs.platform.db import Database, UtcDateTime, utcnow
from libs.platform.logging import current_correlation_id, get_logger

log = get_logger("outbox")

# Fixed key so only one relay per database publishes at a time (keeps per-key order on
# PostgreSQL with several replicas).
_RELAY_LOCK_KEY = 7_300_442_001


class OutboxMessage(SQLModel, table=True):
    """One event waiting to be (or already) published."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_pending", "published_at", "id"),)

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


def build_envelope(
    payload: EventPayload,
    *,
    producer: str,
    key: str,
    correlation_id: str | None = None,
    causation_id: str | None = None,
) -> Envelope:
    """Wrap a registered payload in the envelope, carrying the current correlation id."""
    spec = spec_of(payload)
    return Envelope(
        event_id=uuid.uuid4(),
        occurred_at=utcnow(),
        type=spec.type,
        schema_version=spec.schema_version,
        producer=producer,
        key=key,
        correlation_id=correlation_id or current_correlation_id(),
        causation_id=causation_id,
        payload=payload.model_dump(mode="json"),
    )


async def add_to_outbox(session: AsyncSession, envelopes: Sequence[Envelope]) -> None:
    """Stage envelopes in the caller's transaction (one statement); published after it commits."""
    if not envelopes:
        return
    now = utcnow()
    rows = [
        {
            "event_id": str(envelope.event_id),
            "event_type": envelope.type,
            "topic": EVENT_TYPES[envelope.type].topic,
            "key": envelope.key,
            "body": envelope.model_dump_json(),
            "created_at": now,
        }
        for envelope in envelopes
    ]
    connection = await session.connection()
    await connection.execute(insert(OutboxMessage), rows)


@dataclass(frozen=True)
class OutboundMessage:
    """What the relay hands to a publisher."""

    topic: str
    key: str
    value: bytes


class EventPublisher(Protocol):
    """The bootstrap seam between the relay and the broker (a fake in unit tests)."""

    async def publish(self, messages: Sequence[OutboundMessage]) -> None:
        """Publish every message or raise; order within a key is preserved."""


class OutboxRelay:
    """Publishes pending outbox rows in batches, marks them published, purges old ones."""

    def __init__(
        self,
        db: Database,
        publisher: EventPublisher,
        *,
        batch_size: int = 500,
        poll_interval_s: float = 0.2,
        retention: timedelta = timedelta(days=7),
    ) -> None:
        self.db = db
        self.publisher = publisher
        self.batch_size = batch_size
        self.poll_interval_s = poll_interval_s
        self.retention = retention
        self.wakeup = asyncio.Event()
        self.published_total = 0

    async def publish_pending(self) -> int:
        """Publish one batch of pending rows; returns how many were published."""
        async with self.db.session() as session:
            connection = await session.connection()
            if self.db.dialect == "postgresql":
                got = await connection.execute(
                    text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": _RELAY_LOCK_KEY}
                )
                if not got.scalar():
                    return 0
            table = OutboxMessage.__table__  # type: ignore[attr-defined]
            # Plain rows, not ORM objects: the relay only forwards bytes.
            rows = (
                await connection.execute(
                    sa_select(table.c.id, table.c.topic, table.c.key, table.c.body)
                    .where(table.c.published_at.is_(None))
                    .order_by(table.c.id)
                    .limit(self.batch_size)
                )
            ).all()
            if not rows:
                return 0
            await self.publisher.publish(
                [OutboundMessage(topic=r.topic, key=r.key, value=r.body.encode()) for r in rows]
            )
            await connection.execute(
                update(table).where(table.c.id.in_([r.id for r in rows])).values(published_at=utcnow())
            )
            await session.commit()
        self.published_total += len(rows)
        return len(rows)

    async def drain(self) -> int:
        """Publish until nothing is pending; returns the count."""
        total = 0
        while published := await self.publish_pending():
            total += published
        return total

    async def run(self, stop: asyncio.Event) -> None:
        """Loop until `stop` is set: publish, purge now and then, wait for a nudge or the poll."""
        last_purge = utcnow()
        while not stop.is_set():
            try:
                published = await self.publish_pending()
                if utcnow() - last_purge > timedelta(minutes=10):
                    await self.purge()
                    last_purge = utcnow()
            except Exception as exc:  # keep relaying after a broker or database hiccup
                log.warning("outbox.relay_failed", error=str(exc))
                published = 0
                await asyncio.sleep(1.0)
            if published < self.batch_size:
                self.wakeup.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wakeup.wait(), timeout=self.poll_interval_s)

    async def purge(self) -> int:
        """Delete published rows older than the retention window."""
        cutoff = utcnow() - self.retention
        async with self.db.session() as session:
            result = await session.exec(delete(OutboxMessage).where(col(OutboxMessage.published_at) < cutoff))
            await session.commit()
        return int(result.rowcount or 0)

    async def republish(self, since: datetime | None = None) -> int:
        """Mark retained published rows (optionally from `since`) to be published again."""
        count = await mark_for_republish(self.db, since)
        self.wakeup.set()
        return count


async def mark_for_republish(db: Database, since: datetime | None = None) -> int:
    """Mark retained published rows (optionally created from `since`) as pending again."""
    async with db.session() as session:
        stmt = update(OutboxMessage).where(col(OutboxMessage.published_at).is_not(None))
        if since is not None:
            stmt = stmt.where(col(OutboxMessage.created_at) >= since)
        result = await session.exec(stmt.values(published_at=None))
        await session.commit()
    return int(result.rowcount or 0)
