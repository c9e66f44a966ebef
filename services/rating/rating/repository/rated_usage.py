"""Rated usage in SQL: the aggregates to rate (`usage_aggregates`) and `rated_usage`.

The close reads the unrated aggregates through the partial index that holds only them, claims a
chunk with one `UPDATE ... WHERE rated_at IS NULL RETURNING` (a row another closer claimed first
is not returned: on PostgreSQL the update waits for that closer's row locks and re-checks), and
writes the chunk's rated rows with one multi-row insert.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, text, tuple_, update
from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from libs.contracts.vocabulary import PricingModel
from libs.platform.errors import NotFound
from libs.platform.pagination import Page, PageRequest, paginate
from libs.pricing import TierLine
from rating.domain.rated_usage import RatedUsage, UsageSeries
from rating.handlers.rated_usage import DueSeries, RatedUsageRepository, SeriesKey
from rating.models import RatedAccount, RatedUsageRow, UsageAggregate
from rating.repository.usage_sql import generation_select

_AGGREGATES = UsageAggregate.__table__  # type: ignore[attr-defined]
# Fixed key of the period close's lock (one closer per database at a time).
_CLOSE_LOCK_KEY = 7_300_442_008


def _text(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


def tiers_json(lines: Sequence[TierLine]) -> str:
    """The tier breakdown as stored (decimal strings, unrounded)."""
    return json.dumps(
        [
            {
                "band_from": _text(line.band_from),
                "band_to": _text(line.band_to),
                "quantity": _text(line.quantity),
                "unit_price": _text(line.unit_price),
                "flat_fee": _text(line.flat_fee),
                "amount": _text(line.amount),
            }
            for line in lines
        ]
    )


def tier_lines(text: str) -> tuple[TierLine, ...]:
    """The tier breakdown from its stored form."""
    return tuple(
        TierLine(
            Decimal(t["band_from"]),
            None if t["band_to"] is None else Decimal(t["band_to"]),
            Decimal(t["quantity"]),
            Decimal(t["unit_price"]),
            Decimal(t["flat_fee"]),
            Decimal(t["amount"]),
        )
        for t in json.loads(text)
    )


def rated_usage_of(row: RatedUsageRow) -> RatedUsage:
    """The rated period of a row."""
    return RatedUsage(
        id=row.id,
        subscription_id=row.subscription_id,
        account_id=row.account_id,
        product_id=row.product_id,
        meter=row.meter,
        unit_of_measure=row.unit_of_measure,
        period_start=row.period_start,
        period_end=row.period_end,
        quantity=row.quantity,
        event_count=row.event_count,
        late_quantity=row.late_quantity,
        included_quantity=row.included_quantity,
        prepaid_quantity=row.prepaid_quantity,
        billable_quantity=row.billable_quantity,
        currency=row.currency,
        price_id=row.price_id,
        price_version=row.price_version,
        pricing_model=PricingModel(row.pricing_model),
        tiers=tier_lines(row.tiers),
        charge_amount=row.charge_amount,
        minimum_shortfall=row.minimum_shortfall,
        prepaid_amount=row.prepaid_amount,
        amount=row.amount,
        rated_at=row.rated_at,
    )


def row_of(rated: RatedUsage) -> dict[str, Any]:
    """The columns of a rated period."""
    columns = dict(rated.__dict__)
    columns["pricing_model"] = rated.pricing_model.value
    columns["tiers"] = tiers_json(rated.tiers)
    return columns


def _series(row: Any) -> UsageSeries:
    return UsageSeries(
        subscription_id=row.subscription_id,
        meter=row.meter,
        period_start=row.period_start,
        period_end=row.period_end,
        account_id=row.account_id,
        quantity=row.quantity,
        event_count=row.event_count,
        late_quantity=row.late_quantity,
    )


_SERIES_COLUMNS = (
    _AGGREGATES.c.subscription_id,
    _AGGREGATES.c.meter,
    _AGGREGATES.c.period_start,
    _AGGREGATES.c.period_end,
    _AGGREGATES.c.account_id,
    _AGGREGATES.c.quantity,
    _AGGREGATES.c.event_count,
    _AGGREGATES.c.late_quantity,
)
_KEY = tuple_(_AGGREGATES.c.subscription_id, _AGGREGATES.c.meter, _AGGREGATES.c.period_start)


class SqlRatedUsageRepository(RatedUsageRepository):
    """Aggregates to rate and rated usage over the service's tables."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def unrated_series(self, *, after: SeriesKey | None, limit: int, ends_by: date) -> list[DueSeries]:
        """Unrated aggregates ending by `ends_by`, in key order after `after`, with their account's zone."""
        stmt = (
            sa_select(*_SERIES_COLUMNS, col(RatedAccount.time_zone))
            .select_from(_AGGREGATES)
            .join(RatedAccount, col(RatedAccount.account_id) == _AGGREGATES.c.account_id, isouter=True)
            .where(_AGGREGATES.c.rated_at.is_(None), _AGGREGATES.c.period_end <= ends_by)
            .order_by(*_KEY.clauses)
            .limit(limit)
        )
        if after is not None:
            stmt = stmt.where(tuple_(*after) < _KEY)
        rows = (await self.session.exec(stmt)).all()  # type: ignore[call-overload]
        return [DueSeries(_series(row), row.time_zone) for row in rows]

    async def lock_for_close(self) -> bool:
        """A transaction-level advisory lock on PostgreSQL; SQLite serialises writers by itself."""
        connection = await self.session.connection()
        if connection.dialect.name != "postgresql":
            return True
        got = (
            await connection.execute(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": _CLOSE_LOCK_KEY})
        ).scalar()
        return bool(got)

    async def claim(self, keys: Sequence[SeriesKey], rated_at: datetime) -> list[UsageSeries]:
        """Set `rated_at` on those of these aggregates still unrated; return them as they are now."""
        if not keys:
            return []
        connection = await self.session.connection()
        # The aggregates' generation first, as usage ingestion takes it (repository/usage_sql.py).
        await connection.exec_driver_sql(generation_select(connection.dialect.name, lock=True))
        stmt = (
            update(_AGGREGATES)
            .where(_KEY.in_(list(keys)), _AGGREGATES.c.rated_at.is_(None))
            .values(rated_at=rated_at)
            .returning(*_SERIES_COLUMNS)
        )
        rows = (await self.session.exec(stmt)).all()
        claimed = {(r.subscription_id, r.meter, r.period_start): _series(r) for r in rows}
        return [claimed[key] for key in keys if key in claimed]

    async def add(self, rated: Sequence[RatedUsage]) -> None:
        """Insert rated periods in one statement."""
        if rated:
            await self.session.exec(insert(RatedUsageRow.__table__), params=[row_of(r) for r in rated])  # type: ignore[attr-defined]

    async def get(self, rated_usage_id: str) -> RatedUsage:
        """A rated period by id."""
        row = await self.session.get(RatedUsageRow, rated_usage_id)
        if row is None:
            raise NotFound("rated usage", rated_usage_id)
        return rated_usage_of(row)

    async def page(
        self,
        page: PageRequest,
        *,
        subscription_id: str | None,
        account_id: str | None,
        period_start: date | None,
    ) -> Page[RatedUsage]:
        """Rated periods in id order, filtered."""
        stmt = select(RatedUsageRow)
        if subscription_id is not None:
            stmt = stmt.where(col(RatedUsageRow.subscription_id) == subscription_id)
        if account_id is not None:
            stmt = stmt.where(col(RatedUsageRow.account_id) == account_id)
        if period_start is not None:
            stmt = stmt.where(col(RatedUsageRow.period_start) == period_start)
        return await paginate(self.session, stmt, col(RatedUsageRow.id), page, rated_usage_of)
