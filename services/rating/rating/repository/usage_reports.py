"""Reads of usage in SQL (review queue, summary, open periods) and the purge.

The summary groups in the database: by meter, by the account-local day or month of the event,
and by the text of one property's value — read from the stored JSON the same way on both
backends (`"eu"`, `42`, `true` become `eu`, `42`, `true`, as meters compare them). Sums and
maxima of quantities are exact on SQLite too (libs/platform/db.py: `SUM` over an exact decimal
column is the registered `decimal_sum`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, case, delete, func, literal, literal_column, select, tuple_
from sqlalchemy.engine import Dialect
from sqlmodel.ext.asyncio.session import AsyncSession

from rating.domain.usage import AggregateState, UsageEvent, UsageSource, UsageStatus
from rating.handlers.usage_reports import (
    GroupKey,
    OpenAggregate,
    PurgeCount,
    SummaryGroup,
    SummaryQuery,
    UnmatchedSelection,
    UsageReports,
)
from rating.models import RatedSubscription, UsageAggregate, UsageEventRow, UsageUniqueValue

EVENTS = UsageEventRow.__table__  # type: ignore[attr-defined]
AGGREGATES = UsageAggregate.__table__  # type: ignore[attr-defined]
UNIQUE_VALUES = UsageUniqueValue.__table__  # type: ignore[attr-defined]
SUBSCRIPTIONS = RatedSubscription.__table__  # type: ignore[attr-defined]
COUNTING = (UsageStatus.COUNTED.value, UsageStatus.LATE.value)


def property_text(dialect: Dialect, name: str) -> ColumnElement[Any]:
    """The text of an event's property value (`eu`, `42`, `true`), NULL when absent.

    `name` is inlined as a SQL string literal, so callers pass only names of the shape the API
    allows (`PROPERTY_NAME_PATTERN`: letters, digits, `_`, `.`, `:`, `-`).
    """
    if dialect.name == "postgresql":
        literal = "'" + name.replace("'", "''") + "'"
        return literal_column(f"(CAST(properties AS jsonb) ->> {literal})")
    path = "'$.\"" + name.replace("'", "''") + "\"'"
    return literal_column(
        f"(CASE json_type(properties, {path}) WHEN 'true' THEN 'true' WHEN 'false' THEN 'false'"
        f" ELSE CAST(json_extract(properties, {path}) AS TEXT) END)"
    )


def bucket_of(dialect: Dialect, group_by: str) -> ColumnElement[Any]:
    """The day ("2026-07-01") or month ("2026-07") of an event's local date, as text."""
    if dialect.name == "postgresql":
        pattern = "YYYY-MM-DD" if group_by == "day" else "YYYY-MM"
        return func.to_char(EVENTS.c.usage_date, pattern)
    return func.substr(literal_column("usage_date"), 1, 10 if group_by == "day" else 7)


class SqlUsageReports(UsageReports):
    """The reads and the purge over the usage tables (mixed into the SQL usage repository)."""

    session: AsyncSession

    async def _all(self, statement: Any) -> Sequence[Any]:
        connection = await self.session.connection()
        return (await connection.execute(statement)).all()

    async def unmatched(
        self, selection: UnmatchedSelection, *, after: tuple[datetime, str] | None, limit: int
    ) -> list[UsageEvent]:
        """Unmatched events in the order they arrived, after a position."""
        c = EVENTS.c
        statement = select(EVENTS).where(c.status == UsageStatus.UNMATCHED.value)
        for column, value in (
            (c.account_id, selection.account_id),
            (c.subscription_id, selection.subscription_id),
            (c.meter, selection.meter),
        ):
            if value is not None:
                statement = statement.where(column == value)
        if after is not None:
            # Bound with the columns' own types, so that SQLite compares the stored text forms.
            position = tuple_(literal(after[0], c.received_at.type), literal(after[1], c.event_id.type))
            statement = statement.where(tuple_(c.received_at, c.event_id) > position)
        statement = statement.order_by(c.received_at, c.event_id).limit(limit)
        return [
            UsageEvent(
                event_id=row.event_id,
                meter=row.meter,
                quantity=row.quantity,
                occurred_at=row.occurred_at,
                properties=json.loads(row.properties) if row.properties else {},
                subscription_id=row.subscription_id,
                account_id=row.account_id,
                status=UsageStatus.UNMATCHED,
                review_reason=row.review_reason,
                source=UsageSource(row.source),
                load_id=row.load_id,
                received_at=row.received_at,
            )
            for row in await self._all(statement)
        ]

    async def _grouped(self, query: SummaryQuery, meter: str | None = None) -> tuple[Any, Any, list[Any]]:
        dialect = (await self.session.connection()).dialect
        c = EVENTS.c
        bucket = bucket_of(dialect, query.group_by).label("bucket")
        if query.property is not None:
            value = property_text(dialect, query.property).label("value")
        else:
            value = literal_column("NULL").label("value")
        where = [c.status.in_(COUNTING), c.usage_date >= query.start, c.usage_date < query.end]
        for column, wanted in (
            (c.meter, meter or query.meter),
            (c.subscription_id, query.subscription_id),
            (c.account_id, query.account_id),
        ):
            if wanted is not None:
                where.append(column == wanted)
        if query.account_id is not None and query.subscription_id is None:
            # Through the account's subscriptions, so that the (subscription, meter, period) index
            # serves it: the hot path keeps no index of its own for this query.
            s = SUBSCRIPTIONS.c
            where.append(
                c.subscription_id.in_(select(s.subscription_id).where(s.account_id == query.account_id))
            )
        return bucket, value, where

    async def summary(self, query: SummaryQuery, *, limit: int) -> list[SummaryGroup]:
        """Counted and late usage grouped by meter, bucket and property value."""
        c = EVENTS.c
        bucket, value, where = await self._grouped(query)
        names: tuple[ColumnElement[Any], ...] = (
            literal_column("meter"),
            literal_column("bucket"),
            literal_column("value"),
        )
        statement = (
            select(
                c.meter,
                bucket,
                value,
                func.count(),
                func.sum(c.quantity),
                func.max(c.quantity),
                func.sum(case((c.status == UsageStatus.LATE.value, 1), else_=0)),
            )
            .where(*where)
            .group_by(*names)
            .order_by(*names)
            .limit(limit)
        )
        return [
            SummaryGroup(
                row[0], _text(row[1]), row[2], row[3], _decimal(row[4]), _decimal(row[5]), int(row[6])
            )
            for row in await self._all(statement)
        ]

    async def summary_distinct(self, query: SummaryQuery, meter: str, counted: str) -> dict[GroupKey, int]:
        """Per group of one meter, the number of distinct values of the property `counted`."""
        bucket, value, where = await self._grouped(query, meter)
        dialect = (await self.session.connection()).dialect
        distinct = func.count(property_text(dialect, counted).distinct())
        statement = (
            select(bucket, value, distinct)
            .where(*where)
            .group_by(literal_column("bucket"), literal_column("value"))
        )
        return {(_text(row[0]), row[1]): row[2] for row in await self._all(statement)}

    async def summary_latest(self, query: SummaryQuery, meter: str) -> dict[GroupKey, Decimal]:
        """Per group of one meter, the quantity of its event with the latest timestamp."""
        c = EVENTS.c
        bucket, value, where = await self._grouped(query, meter)
        rank = (
            func.row_number()
            .over(
                partition_by=(bucket.element, value.element),
                order_by=(c.occurred_at.desc(), c.event_id.desc()),
            )
            .label("n")
        )
        ranked = select(bucket, value, c.quantity, rank).where(*where).subquery()
        statement = select(ranked.c.bucket, ranked.c.value, ranked.c.quantity).where(ranked.c.n == 1)
        return {(_text(row[0]), row[1]): _decimal(row[2]) for row in await self._all(statement)}

    async def open_aggregates(self, subscription_id: str) -> list[OpenAggregate]:
        """The subscription's aggregates whose period is not rated, by meter and period."""
        c = AGGREGATES.c
        statement = (
            select(AGGREGATES)
            .where(c.subscription_id == subscription_id, c.rated_at.is_(None))
            .order_by(c.meter, c.period_start)
        )
        return [
            OpenAggregate(
                row.meter,
                row.period_start,
                row.period_end,
                AggregateState(
                    row.quantity, row.event_count, row.late_quantity, row.late_count, row.latest_at
                ),
                row.updated_at,
            )
            for row in await self._all(statement)
        ]

    async def subscription_known(self, subscription_id: str) -> tuple[str, str] | None:
        """(account id, product id) of a subscription in the read model."""
        c = SUBSCRIPTIONS.c
        rows = await self._all(select(c.account_id, c.product_id).where(c.subscription_id == subscription_id))
        return (rows[0][0], rows[0][1]) if rows else None

    async def purge(self, *, periods_ended_before: date, filtered_before: datetime) -> PurgeCount:
        """Delete events of rated periods ended before the date, their distinct values, old filtered ones."""
        a = AGGREGATES.c
        rated = select(a.subscription_id, a.meter, a.period_start).where(
            a.rated_at.is_not(None), a.period_end < periods_ended_before
        )
        e, u = EVENTS.c, UNIQUE_VALUES.c
        connection = await self.session.connection()
        events = await connection.execute(
            delete(EVENTS).where(
                e.status.in_(COUNTING), tuple_(e.subscription_id, e.meter, e.period_start).in_(rated)
            )
        )
        distinct = await connection.execute(
            delete(UNIQUE_VALUES).where(tuple_(u.subscription_id, u.meter, u.period_start).in_(rated))
        )
        filtered = await connection.execute(
            delete(EVENTS).where(
                and_(e.status == UsageStatus.FILTERED.value, e.occurred_at < filtered_before)
            )
        )
        return PurgeCount(events.rowcount + filtered.rowcount, distinct.rowcount)


def _text(value: Any) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)


def _decimal(value: Any) -> Decimal:
    if value is None:
        return Decimal(0)
    return value if isinstance(value, Decimal) else Decimal(str(value))
