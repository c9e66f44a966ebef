"""The port of the revenue schedules' repository (SQL: `invoicing.repository.revenue`)."""

from __future__ import annotations

import abc
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from invoicing.domain.revenue import RevenueSchedule, ScheduleCredit, WaterfallMovements
from libs.contracts.vocabulary import RevenueRule
from libs.platform.errors import NotFound
from libs.platform.pagination import Page, PageRequest


@dataclass(frozen=True)
class ScheduleFilters:
    """What a list of schedules is narrowed to (None = any)."""

    account_id: str | None = None
    invoice_id: str | None = None
    product_id: str | None = None


@dataclass(frozen=True)
class MonthToPost:
    """A schedule month not yet posted to the ledger."""

    schedule_id: str
    month: str
    currency: str
    amount: Decimal


@dataclass(frozen=True)
class RecognitionPosting:
    """What one recognition run posted for a month and currency."""

    journal_entry_id: str
    month: str
    currency: str
    amount: Decimal
    schedule_months: int
    posted_at: datetime


class RevenueRepository(abc.ABC):
    """Revenue schedules with their months and credits, and the recognition postings."""

    @abc.abstractmethod
    async def product_rules(self, product_ids: Collection[str]) -> dict[str, RevenueRule]:
        """The revenue rules of the known products among these ids (the read model's), in one query."""

    @abc.abstractmethod
    async def of_invoice(self, invoice_id: str) -> list[RevenueSchedule]:
        """The schedules of an invoice's lines with their months, in line order."""

    @abc.abstractmethod
    async def add(self, schedules: Sequence[RevenueSchedule], *, billing_entry_id: str | None) -> None:
        """Stage new schedules with their months; months recognised at once (`posted`) are marked
        as posted by the invoice's entry."""

    async def add_many(self, bookings: Sequence[tuple[Sequence[RevenueSchedule], str | None]]) -> None:
        """`add` for many invoices at once: each one's schedules with its billing entry's id."""
        for schedules, billing_entry_id in bookings:
            await self.add(schedules, billing_entry_id=billing_entry_id)

    async def invoices_scheduled(self, invoice_ids: Collection[str]) -> set[str]:
        """Those of these invoices that have schedules already (booked), in one query."""
        return {invoice_id for invoice_id in invoice_ids if await self.of_invoice(invoice_id)}

    @abc.abstractmethod
    async def save_credited(self, schedule: RevenueSchedule, credit: ScheduleCredit) -> None:
        """Stage a schedule's new months and credited totals, and the credit taken off it."""

    @abc.abstractmethod
    async def find(self, schedule_id: str) -> RevenueSchedule | None:
        """One schedule with its months."""

    @abc.abstractmethod
    async def page(self, page: PageRequest, filters: ScheduleFilters) -> Page[RevenueSchedule]:
        """A page of schedules by id."""

    @abc.abstractmethod
    async def months_to_post(self, month: str) -> list[MonthToPost]:
        """The ratable schedule months of `month` not yet posted (locked until the transaction ends)."""

    @abc.abstractmethod
    async def mark_posted(self, months: Sequence[MonthToPost], journal_entry_id: str) -> None:
        """Record that these months were posted by an entry."""

    @abc.abstractmethod
    async def add_posting(self, posting: RecognitionPosting) -> None:
        """Stage a recognition posting."""

    @abc.abstractmethod
    async def postings_of(self, month: str) -> list[RecognitionPosting]:
        """Every recognition posting of a month, oldest first."""

    @abc.abstractmethod
    async def movements(self, currency: str | None, through: str) -> dict[str, WaterfallMovements]:
        """Billed and recognised amounts per month and currency through month `through`, from the
        schedules, their months and their credits (sums in the database)."""

    async def get(self, schedule_id: str) -> RevenueSchedule:
        """One schedule, or NotFound (404)."""
        schedule = await self.find(schedule_id)
        if schedule is None:
            raise NotFound("revenue schedule", schedule_id)
        return schedule
