"""Revenue schedules in SQL: `revenue_schedules`, their months and credits, and recognition postings."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, insert, update
from sqlalchemy import select as select_columns
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from invoicing.domain.revenue import (
    RevenueSchedule,
    ScheduleCredit,
    ScheduleMonth,
    WaterfallMovements,
    month_key,
)
from invoicing.handlers.revenue_port import (
    MonthToPost,
    RecognitionPosting,
    RevenueRepository,
    ScheduleFilters,
)
from invoicing.models.billing_inputs import CatalogProductRow
from invoicing.models.revenue import (
    RecognitionPostingRow,
    RevenueCreditRow,
    RevenueScheduleMonthRow,
    RevenueScheduleRow,
)
from libs.contracts.vocabulary import RevenueRule
from libs.platform.pagination import Page, PageRequest, encode_cursor

RATABLE = RevenueRule.RATABLE.value


def _decimal(value: Any) -> Decimal:
    return Decimal(0) if value is None else Decimal(str(value))


class SqlRevenueRepository(RevenueRepository):
    """Revenue schedules on the unit of work's session."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.rows: dict[str, RevenueScheduleRow] = {}

    async def _rows(self, statement: Any) -> list[Any]:
        connection = await self.session.connection()
        return list((await connection.execute(statement)).all())

    async def product_rules(self, product_ids: Collection[str]) -> dict[str, RevenueRule]:
        """The known products' revenue rules, in one query."""
        if not product_ids:
            return {}
        found = await self.session.exec(
            select(CatalogProductRow.product_id, CatalogProductRow.revenue_rule).where(
                col(CatalogProductRow.product_id).in_(list(product_ids))
            )
        )
        return {product_id: RevenueRule(rule) for product_id, rule in found.all() if rule}

    async def add(self, schedules: Sequence[RevenueSchedule], *, billing_entry_id: str | None) -> None:
        """Insert the schedules and their months (two multi-row inserts: an invoice's lines at once)."""
        await self.add_many([(schedules, billing_entry_id)])

    async def add_many(self, bookings: Sequence[tuple[Sequence[RevenueSchedule], str | None]]) -> None:
        """Insert the schedules of many invoices and their months: two multi-row inserts in all."""
        if not any(schedules for schedules, _ in bookings):
            return
        now = datetime.now(UTC)
        connection = await self.session.connection()
        await connection.execute(
            insert(RevenueScheduleRow),
            [
                {
                    "id": schedule.id,
                    "invoice_id": schedule.invoice_id,
                    "invoice_number": schedule.invoice_number,
                    "account_id": schedule.account_id,
                    "currency": schedule.currency,
                    "charge_key": schedule.charge_key,
                    "description": schedule.description,
                    "product_id": schedule.product_id,
                    "rule": schedule.rule.value,
                    "invoice_date": schedule.invoice_date,
                    "billed_month": month_key(schedule.invoice_date),
                    "period_start": schedule.period_start,
                    "period_end": schedule.period_end,
                    "amount": schedule.amount,
                    "tax_amount": schedule.tax_amount,
                    "credited": schedule.credited,
                    "tax_credited": schedule.tax_credited,
                    "created_at": now,
                }
                for schedules, _ in bookings
                for schedule in schedules
            ],
        )
        months = [
            {
                "schedule_id": schedule.id,
                "month": month.month,
                "currency": schedule.currency,
                "recognize_on": month.recognize_on,
                "amount": month.amount,
                "journal_entry_id": billing_entry_id if month.posted else None,
            }
            for schedules, billing_entry_id in bookings
            for schedule in schedules
            for month in schedule.months
        ]
        if months:
            await connection.execute(insert(RevenueScheduleMonthRow), months)

    async def invoices_scheduled(self, invoice_ids: Collection[str]) -> set[str]:
        """Those of these invoices that have schedules already, in one query."""
        if not invoice_ids:
            return set()
        rows = await self._rows(
            select_columns(RevenueScheduleRow.invoice_id)  # type: ignore[call-overload]
            .where(col(RevenueScheduleRow.invoice_id).in_(list(invoice_ids)))
            .distinct()
        )
        return {row[0] for row in rows}

    async def save_credited(self, schedule: RevenueSchedule, credit: ScheduleCredit) -> None:
        """Stage the schedule's credited totals and months, and the credit's row."""
        row = self.rows.get(schedule.id) or await self.session.get(RevenueScheduleRow, schedule.id)
        assert row is not None
        row.credited = schedule.credited
        row.tax_credited = schedule.tax_credited
        self.session.add(row)
        for month in schedule.months:
            month_row = await self.session.get(RevenueScheduleMonthRow, (schedule.id, month.month))
            if month_row is not None and month_row.amount != month.amount:
                month_row.amount = month.amount
                self.session.add(month_row)
        self.session.add(
            RevenueCreditRow(
                schedule_id=credit.schedule_id,
                credit_id=credit.credit_id,
                credit_date=credit.credit_date,
                month=month_key(credit.credit_date),
                currency=credit.currency,
                recognized_share=credit.recognized_share,
                deferred_share=credit.deferred_share,
                tax_share=credit.tax_share,
            )
        )

    async def _schedules(self, rows: Sequence[RevenueScheduleRow]) -> list[RevenueSchedule]:
        ids = [row.id for row in rows]
        months: dict[str, list[RevenueScheduleMonthRow]] = defaultdict(list)
        if ids:
            found = await self.session.exec(
                select(RevenueScheduleMonthRow)
                .where(col(RevenueScheduleMonthRow.schedule_id).in_(ids))
                .order_by(col(RevenueScheduleMonthRow.schedule_id), col(RevenueScheduleMonthRow.month))
            )
            for month in found.all():
                months[month.schedule_id].append(month)
        schedules: list[RevenueSchedule] = []
        for row in rows:
            self.rows[row.id] = row
            schedules.append(
                RevenueSchedule(
                    id=row.id,
                    invoice_id=row.invoice_id,
                    invoice_number=row.invoice_number,
                    account_id=row.account_id,
                    currency=row.currency,
                    charge_key=row.charge_key,
                    description=row.description,
                    product_id=row.product_id,
                    rule=RevenueRule(row.rule),
                    invoice_date=row.invoice_date,
                    period_start=row.period_start,
                    period_end=row.period_end,
                    amount=row.amount,
                    tax_amount=row.tax_amount,
                    credited=row.credited,
                    tax_credited=row.tax_credited,
                    months=tuple(
                        ScheduleMonth(
                            m.month, m.recognize_on, m.amount, posted=m.journal_entry_id is not None
                        )
                        for m in months[row.id]
                    ),
                )
            )
        return schedules

    async def of_invoice(self, invoice_id: str) -> list[RevenueSchedule]:
        """An invoice's schedules, in the order they were made (its lines')."""
        found = await self.session.exec(
            select(RevenueScheduleRow)
            .where(col(RevenueScheduleRow.invoice_id) == invoice_id)
            .order_by(col(RevenueScheduleRow.id))
        )
        return await self._schedules(found.all())

    async def find(self, schedule_id: str) -> RevenueSchedule | None:
        """One schedule."""
        row = await self.session.get(RevenueScheduleRow, schedule_id)
        return None if row is None else (await self._schedules([row]))[0]

    async def page(self, page: PageRequest, filters: ScheduleFilters) -> Page[RevenueSchedule]:
        """A page of schedules by id."""
        stmt = select(RevenueScheduleRow)
        if filters.account_id is not None:
            stmt = stmt.where(col(RevenueScheduleRow.account_id) == filters.account_id)
        if filters.invoice_id is not None:
            stmt = stmt.where(col(RevenueScheduleRow.invoice_id) == filters.invoice_id)
        if filters.product_id is not None:
            stmt = stmt.where(col(RevenueScheduleRow.product_id) == filters.product_id)
        if page.after is not None:
            stmt = stmt.where(col(RevenueScheduleRow.id) > page.after)
        rows = list(
            (await self.session.exec(stmt.order_by(col(RevenueScheduleRow.id)).limit(page.limit + 1))).all()
        )
        has_more = len(rows) > page.limit
        rows = rows[: page.limit]
        return Page[RevenueSchedule](
            data=await self._schedules(rows),
            next_cursor=encode_cursor(rows[-1].id) if has_more and rows else None,
            has_more=has_more,
        )

    async def months_to_post(self, month: str) -> list[MonthToPost]:
        """The month's unposted months of ratable schedules (rows locked on PostgreSQL)."""
        stmt = (
            select(RevenueScheduleMonthRow)
            .join(RevenueScheduleRow, col(RevenueScheduleRow.id) == col(RevenueScheduleMonthRow.schedule_id))
            .where(
                col(RevenueScheduleMonthRow.month) == month,
                col(RevenueScheduleMonthRow.journal_entry_id).is_(None),
                col(RevenueScheduleRow.rule) == RATABLE,
            )
            .order_by(col(RevenueScheduleMonthRow.schedule_id))
            .with_for_update(of=RevenueScheduleMonthRow)
        )
        found = await self.session.exec(stmt)
        return [MonthToPost(row.schedule_id, row.month, row.currency, row.amount) for row in found.all()]

    async def mark_posted(self, months: Sequence[MonthToPost], journal_entry_id: str) -> None:
        """Set the posting entry of these months (one statement per month's batch of schedules)."""
        by_month: dict[str, list[str]] = defaultdict(list)
        for item in months:
            by_month[item.month].append(item.schedule_id)
        for month, schedule_ids in by_month.items():
            for start in range(0, len(schedule_ids), 500):
                await self.session.exec(
                    update(RevenueScheduleMonthRow)
                    .where(
                        col(RevenueScheduleMonthRow.month) == month,
                        col(RevenueScheduleMonthRow.schedule_id).in_(schedule_ids[start : start + 500]),
                    )
                    .values(journal_entry_id=journal_entry_id)
                )

    async def add_posting(self, posting: RecognitionPosting) -> None:
        """Stage a recognition posting."""
        self.session.add(
            RecognitionPostingRow(
                journal_entry_id=posting.journal_entry_id,
                month=posting.month,
                currency=posting.currency,
                amount=posting.amount,
                schedule_months=posting.schedule_months,
                posted_at=posting.posted_at,
            )
        )

    async def postings_of(self, month: str) -> list[RecognitionPosting]:
        """The month's postings, oldest first."""
        found = await self.session.exec(
            select(RecognitionPostingRow)
            .where(col(RecognitionPostingRow.month) == month)
            .order_by(col(RecognitionPostingRow.posted_at), col(RecognitionPostingRow.journal_entry_id))
        )
        return [
            RecognitionPosting(
                r.journal_entry_id, r.month, r.currency, r.amount, r.schedule_months, r.posted_at
            )
            for r in found.all()
        ]

    async def movements(self, currency: str | None, through: str) -> dict[str, WaterfallMovements]:
        """Billed and recognised per month and currency, summed in three grouped queries."""
        schedules = RevenueScheduleRow.__table__.c  # type: ignore[attr-defined]
        months = RevenueScheduleMonthRow.__table__.c  # type: ignore[attr-defined]
        credits = RevenueCreditRow.__table__.c  # type: ignore[attr-defined]
        billed = select_columns(schedules.currency, schedules.billed_month, func.sum(schedules.amount)).where(
            schedules.billed_month <= through
        )
        recognized = select_columns(months.currency, months.month, func.sum(months.amount)).where(
            months.month <= through
        )
        credited = select_columns(
            credits.currency,
            credits.month,
            func.sum(credits.recognized_share),
            func.sum(credits.deferred_share),
        ).where(credits.month <= through)
        if currency is not None:
            billed = billed.where(schedules.currency == currency)
            recognized = recognized.where(months.currency == currency)
            credited = credited.where(credits.currency == currency)
        result: dict[str, WaterfallMovements] = defaultdict(WaterfallMovements)
        for code, month, amount in await self._rows(
            billed.group_by(schedules.currency, schedules.billed_month)
        ):
            result[code].add(billed=[(month, _decimal(amount))])
        for code, month, amount in await self._rows(recognized.group_by(months.currency, months.month)):
            result[code].add(recognized=[(month, _decimal(amount))])
        for code, month, recognized_share, deferred_share in await self._rows(
            credited.group_by(credits.currency, credits.month)
        ):
            rec, deferred = _decimal(recognized_share), _decimal(deferred_share)
            result[code].add(billed=[(month, -(rec + deferred))], recognized=[(month, -rec)])
        return dict(result)
