"""The inbox table (DESIGN §4): which events, and which batch messages, a consumer group applied.

A row's `event_id` is an event's id, or the message id of a batch message a batch handler took
whole (`libs.platform.batch_handlers`). Both are written in the transaction of the effect.
The look-up and the insert are sets: one statement for a whole poll, however many events it
carries, because the consumer's hot path must not pay a round trip or SQLAlchemy's per-row
processing per event.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Column, text
from sqlmodel import Field, SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from libs.platform.db import UtcDateTime, utcnow
from libs.platform.driver_rows import driver_insert


class InboxEntry(SQLModel, table=True):
    """An event (or a batch message) a consumer group has applied."""

    __tablename__ = "inbox"

    consumer_group: str = Field(primary_key=True, max_length=120)
    event_id: str = Field(primary_key=True, max_length=36)
    event_type: str = Field(max_length=120)
    processed_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


# The ids travel as ONE parameter (an array, a JSON list): a poll of batch messages carries
# thousands of ids, more than SQLite allows bound variables, and rendering an IN list of them
# costs SQLAlchemy more than the database spends on the look-up.
_APPLIED = {
    "postgresql": text("SELECT event_id FROM inbox WHERE consumer_group = :group AND event_id = ANY(:ids)"),
    "sqlite": text(
        "SELECT event_id FROM inbox WHERE consumer_group = :group"
        " AND event_id IN (SELECT value FROM json_each(:ids))"
    ),
}
_COLUMNS = ("consumer_group", "event_id", "event_type", "processed_at")


async def applied_ids(session: AsyncSession, group: str, ids: Sequence[str]) -> set[str]:
    """Those of `ids` the group has already applied (one query)."""
    if not ids:
        return set()
    connection = await session.connection()
    dialect = connection.dialect.name
    param: object = list(ids) if dialect == "postgresql" else json.dumps(list(ids))
    rows = await connection.execute(_APPLIED[dialect], {"group": group, "ids": param})
    return {row[0] for row in rows}


async def record_applied(session: AsyncSession, group: str, entries: Sequence[tuple[str, str]]) -> None:
    """Add inbox rows for (event or message id, event type) pairs, in one statement.

    Straight to the driver's executemany, as the outbox stages its rows: SQLAlchemy's per-row
    parameter processing would cost as much as the insert.
    """
    if not entries:
        return
    connection = await session.connection()
    dialect = connection.dialect
    column_type = InboxEntry.__table__.c.processed_at.type.dialect_impl(dialect)  # type: ignore[attr-defined]
    # The dialect's own form (SQLite: the same text the ORM writes), so that times compare as text.
    now = column_type.bind_processor(dialect)(utcnow())
    rows = [(group, event_id, event_type, now) for event_id, event_type in entries]
    table = InboxEntry.__table__  # type: ignore[attr-defined]
    await connection.exec_driver_sql(driver_insert(table, _COLUMNS, dialect), rows)
