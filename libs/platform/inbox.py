"""Idempotent consumer (DESIGN §4): each applied `event_id` is recorded in an inbox table in the
same transaction as the handler's effect; offsets are committed only after that transaction.

A redelivered event finds its id in the inbox and is skipped, so every event takes effect
exactly once. An event a handler rejects as invalid goes to the dead-letter table (and the
inbox) instead of blocking its partition; any other failure rolls the batch back and retries it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord
from pydantic import ValidationError
from sqlalchemy import BigInteger, Column, Integer, Text, insert
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from libs.contracts.envelope import Envelope
from libs.platform.db import Database, UtcDateTime, utcnow
from libs.platform.errors import DomainError
from libs.platform.logging import get_logger, reset_correlation_id, set_correlation_id

log = get_logger("inbox")

EventHandler = Callable[[AsyncSession, Envelope], Awaitable[None]]


class InboxEntry(SQLModel, table=True):
    """An event a consumer group has applied."""

    __tablename__ = "inbox"

    consumer_group: str = Field(primary_key=True, max_length=120)
    event_id: str = Field(primary_key=True, max_length=36)
    event_type: str = Field(max_length=120)
    processed_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class DeadLetter(SQLModel, table=True):
    """An event that could not be applied, kept for an operator to look at and replay."""

    __tablename__ = "dead_letters"

    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True, autoincrement=True))
    consumer_group: str = Field(max_length=120)
    topic: str = Field(max_length=120)
    partition: int
    offset: int = Field(sa_column=Column(BigInteger, nullable=False))
    event_id: str | None = Field(default=None, max_length=36)
    error: str = Field(sa_column=Column(Text, nullable=False))
    body: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class IdempotentConsumer:
    """Consumes topics in a named group, applies handlers by event type, exactly once."""

    def __init__(
        self,
        db: Database,
        *,
        group_id: str,
        topics: Sequence[str],
        handlers: Mapping[str, EventHandler],
        bootstrap_servers: str,
        batch_size: int = 500,
        client_id: str | None = None,
        session_timeout_ms: int = 10_000,
        rebalance_timeout_ms: int = 5_000,
    ) -> None:
        self.db = db
        self.group_id = group_id
        self.topics = list(topics)
        self.handlers = dict(handlers)
        self.bootstrap_servers = bootstrap_servers
        self.batch_size = batch_size
        self.client_id = client_id or group_id
        self.session_timeout_ms = session_timeout_ms
        self.rebalance_timeout_ms = rebalance_timeout_ms
        self.applied_total = 0
        self.skipped_duplicates = 0
        self.consumer: AIOKafkaConsumer | None = None

    def _new_consumer(self) -> AIOKafkaConsumer:
        # Offsets are committed by hand, after the database transaction (commit policy: manual).
        return AIOKafkaConsumer(
            *self.topics,
            bootstrap_servers=self.bootstrap_servers,
            group_id=self.group_id,
            client_id=self.client_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=self.batch_size,
            # A joining member waits up to the rebalance timeout for the others; a member that
            # vanished without leaving is noticed after the session timeout.
            session_timeout_ms=self.session_timeout_ms,
            heartbeat_interval_ms=max(100, self.session_timeout_ms // 10),
            rebalance_timeout_ms=self.rebalance_timeout_ms,
        )

    async def start(self) -> None:
        """Join the group."""
        self.consumer = self._new_consumer()
        await self.consumer.start()

    async def stop(self) -> None:
        """Leave the group (uncommitted work is redelivered to the next member)."""
        if self.consumer is not None:
            await self.consumer.stop()
            self.consumer = None

    async def run(self, stop: asyncio.Event) -> None:
        """Poll and apply batches until `stop` is set."""
        if self.consumer is None:
            await self.start()
        assert self.consumer is not None
        while not stop.is_set():
            batches = await self.consumer.getmany(timeout_ms=200, max_records=self.batch_size)
            records = [r for part in batches.values() for r in part]
            if not records:
                continue
            try:
                await self.apply(records)
                await self.consumer.commit()
            except Exception as exc:
                log.warning("consumer.batch_failed", group=self.group_id, error=str(exc))
                # Nothing of the batch was kept: go back to the last committed offsets and retry.
                for tp in batches:
                    committed = await self.consumer.committed(tp)
                    if committed is None:
                        await self.consumer.seek_to_beginning(tp)
                    else:
                        self.consumer.seek(tp, committed)
                await asyncio.sleep(1.0)

    async def apply(self, records: Sequence[ConsumerRecord[Any, Any]]) -> int:
        """Apply a batch of records in one transaction; returns how many took effect.

        The batch runs without savepoints (one round trip per effect, inbox rows in one
        statement). Only when a handler rejects an event is the batch redone with a savepoint per
        event, so that the bad event is parked and the others still apply.
        """
        parsed: list[tuple[ConsumerRecord[Any, Any], Envelope | None, str]] = []
        for record in records:
            try:
                parsed.append((record, Envelope.from_bytes(record.value), ""))
            except ValidationError as exc:
                parsed.append((record, None, f"not an event envelope: {exc.errors()[:3]}"))
        async with self.db.session() as session:
            try:
                applied, skipped = await self._apply_batch(session, parsed, isolate=False)
            except (DomainError, ValidationError):
                await session.rollback()
                applied, skipped = await self._apply_batch(session, parsed, isolate=True)
            await session.commit()
        self.applied_total += applied
        self.skipped_duplicates += skipped
        return applied

    async def _apply_batch(
        self,
        session: AsyncSession,
        parsed: Sequence[tuple[ConsumerRecord[Any, Any], Envelope | None, str]],
        *,
        isolate: bool,
    ) -> tuple[int, int]:
        ids = [str(e.event_id) for _, e, _ in parsed if e is not None]
        seen: set[str] = set()
        if ids:
            rows = await session.exec(
                select(col(InboxEntry.event_id)).where(
                    col(InboxEntry.consumer_group) == self.group_id,
                    col(InboxEntry.event_id).in_(ids),
                )
            )
            seen = set(rows.all())
        applied = skipped = 0
        inbox_rows: list[dict[str, Any]] = []
        now = utcnow()
        for record, envelope, parse_error in parsed:
            if envelope is None:
                self._dead_letter(session, record, None, parse_error)
                continue
            event_id = str(envelope.event_id)
            if event_id in seen:
                skipped += 1
                continue
            seen.add(event_id)
            handler = self.handlers.get(envelope.type)
            if handler is not None:
                if isolate:
                    if await self._apply_isolated(session, handler, record, envelope):
                        applied += 1
                else:
                    await self._apply_one(session, handler, envelope)
                    applied += 1
            inbox_rows.append(
                {
                    "consumer_group": self.group_id,
                    "event_id": event_id,
                    "event_type": envelope.type,
                    "processed_at": now,
                }
            )
        if inbox_rows:
            connection = await session.connection()
            await connection.execute(insert(InboxEntry), inbox_rows)
        return applied, skipped

    async def _apply_one(self, session: AsyncSession, handler: EventHandler, envelope: Envelope) -> None:
        token = set_correlation_id(envelope.correlation_id)
        try:
            await handler(session, envelope)
            await session.flush()
        finally:
            reset_correlation_id(token)

    async def _apply_isolated(
        self,
        session: AsyncSession,
        handler: EventHandler,
        record: ConsumerRecord[Any, Any],
        envelope: Envelope,
    ) -> bool:
        try:
            async with session.begin_nested():
                await self._apply_one(session, handler, envelope)
            return True
        except (DomainError, ValidationError) as exc:
            # The event itself is unusable: park it and move on rather than block the partition.
            self._dead_letter(session, record, envelope, f"{type(exc).__name__}: {exc}")
            return False

    def _dead_letter(
        self,
        session: AsyncSession,
        record: ConsumerRecord[Any, Any],
        envelope: Envelope | None,
        error: str,
    ) -> None:
        log.error(
            "consumer.dead_letter",
            group=self.group_id,
            topic=record.topic,
            offset=record.offset,
            error=error,
        )
        session.add(
            DeadLetter(
                consumer_group=self.group_id,
                topic=record.topic,
                partition=record.partition,
                offset=record.offset,
                event_id=str(envelope.event_id) if envelope else None,
                error=error,
                body=(record.value or b"").decode("utf-8", "replace"),
                created_at=utcnow(),
            )
        )
