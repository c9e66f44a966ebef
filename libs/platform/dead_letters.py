"""Dead letters: events a consumer parked instead of applying (DESIGN §4).

An event is parked when it can never be applied as it is (a malformed envelope, a
`schema_version` newer than this code, a handler's permanent domain or validation error) or
when it still failed after the consumer's bounded retries. A parked event gets no inbox row, so
it is not marked applied: an operator lists dead letters and replays them
(`python -m libs.platform.cli dead-letters list|replay SERVICE`, `make dead-letters`), and a
replay applies each one exactly once — its effect and inbox row in one transaction, the dead
letter kept and marked replayed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import BigInteger, Column, Integer, Text, func
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from libs.platform.db import Database, UtcDateTime, utcnow
from libs.platform.deliveries import Delivery
from libs.platform.logging import get_logger

log = get_logger("inbox")


class DeadLetter(SQLModel, table=True):
    """An event that could not be applied, kept for an operator to look at and replay."""

    __tablename__ = "dead_letters"

    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True, autoincrement=True))
    consumer_group: str = Field(max_length=120)
    topic: str = Field(max_length=120)
    partition: int
    offset: int = Field(sa_column=Column(BigInteger, nullable=False))
    event_id: str | None = Field(default=None, max_length=36)
    event_type: str | None = Field(default=None, max_length=120)
    error: str = Field(sa_column=Column(Text, nullable=False))
    attempts: int = Field(default=1, sa_column=Column(Integer, nullable=False, server_default="1"))
    body: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    replayed_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))


async def list_dead_letters(
    db: Database,
    *,
    group: str | None = None,
    ids: Sequence[int] | None = None,
    pending_only: bool = False,
) -> list[DeadLetter]:
    """Dead letters, oldest first; of one consumer group, some ids, or only those not replayed."""
    stmt = select(DeadLetter).order_by(col(DeadLetter.id))
    if group is not None:
        stmt = stmt.where(col(DeadLetter.consumer_group) == group)
    if ids is not None:
        stmt = stmt.where(col(DeadLetter.id).in_(list(ids)))
    if pending_only:
        stmt = stmt.where(col(DeadLetter.replayed_at).is_(None))
    async with db.session() as session:
        return list((await session.exec(stmt)).all())


async def count_pending(db: Database) -> int:
    """How many dead letters wait for a replay (for `/metrics`)."""
    stmt = select(func.count()).select_from(DeadLetter).where(col(DeadLetter.replayed_at).is_(None))
    async with db.session() as session:
        return int((await session.exec(stmt)).one())


def dead_letter_table(letters: Sequence[DeadLetter]) -> str:
    """The operator's table: id, group, topic, event type, event id, attempts, error, created."""
    header = ("id", "group", "topic", "event type", "event id", "attempts", "error", "created", "replayed")
    rows = [
        (
            str(letter.id),
            letter.consumer_group,
            f"{letter.topic}[{letter.partition}]@{letter.offset}",
            letter.event_type or "-",
            letter.event_id or "-",
            str(letter.attempts),
            _one_line(letter.error, 80),
            letter.created_at.isoformat(timespec="seconds"),
            letter.replayed_at.isoformat(timespec="seconds") if letter.replayed_at else "-",
        )
        for letter in letters
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in [header, *rows]
    )


def _one_line(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def park(session: AsyncSession, delivery: Delivery, *, group: str, error: str, attempts: int) -> None:
    """Keep an event that cannot apply as a dead letter of `group` (logged): an event of a batch
    message as its own envelope, the one a replay applies; anything else as the record's bytes."""
    record = delivery.record
    if delivery.message_id is not None and delivery.envelope is not None:
        body = delivery.envelope.model_dump_json()
    else:
        body = (record.value or b"").decode("utf-8", "replace")
    log.error(
        "consumer.dead_letter",
        group=group,
        topic=record.topic,
        partition=record.partition,
        offset=record.offset,
        attempts=attempts,
        error=error,
    )
    session.add(
        DeadLetter(
            consumer_group=group,
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            event_id=str(delivery.envelope.event_id) if delivery.envelope else None,
            event_type=delivery.event_type,
            error=error,
            attempts=attempts,
            body=body,
            created_at=utcnow(),
        )
    )
