"""In-memory revenue schedules and journal for the unit tests, answering as the SQL repositories do
(`invoicing.repository.revenue`, `invoicing.repository.ledger`). They write to their tables at once:
the handlers that use them commit once, at their end."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal

from invoicing.domain.ledger import EntryKind, GlAccount, JournalEntry, TrialBalanceRow
from invoicing.domain.revenue import RevenueSchedule, ScheduleCredit, WaterfallMovements, month_key
from invoicing.handlers.ledger_port import LedgerRepository
from invoicing.handlers.revenue_port import (
    MonthToPost,
    RecognitionPosting,
    RevenueRepository,
    ScheduleFilters,
)
from libs.contracts.vocabulary import RevenueRule
from libs.platform.pagination import Page, PageRequest, encode_cursor


@dataclass
class LedgerTables:
    """What the revenue and ledger tables would hold."""

    product_rules: dict[str, RevenueRule] = field(default_factory=dict)
    schedules: dict[str, RevenueSchedule] = field(default_factory=dict)
    credits: list[ScheduleCredit] = field(default_factory=list)
    postings: list[RecognitionPosting] = field(default_factory=list)
    entries: dict[str, JournalEntry] = field(default_factory=dict)


def _page(items: list, page: PageRequest) -> Page:  # type: ignore[type-arg]
    after = [item for item in items if page.after is None or item.id > page.after]
    data = after[: page.limit]
    has_more = len(after) > page.limit
    return Page(data=data, next_cursor=encode_cursor(data[-1].id) if has_more else None, has_more=has_more)


class FakeRevenueRepository(RevenueRepository):
    """Schedules in the tables."""

    def __init__(self, tables: LedgerTables) -> None:
        self.tables = tables

    async def product_rules(self, product_ids: Collection[str]) -> dict[str, RevenueRule]:
        return {p: r for p, r in self.tables.product_rules.items() if p in product_ids}

    async def of_invoice(self, invoice_id: str) -> list[RevenueSchedule]:
        return sorted(
            (s for s in self.tables.schedules.values() if s.invoice_id == invoice_id), key=lambda s: s.id
        )

    async def add(self, schedules: Sequence[RevenueSchedule], *, billing_entry_id: str | None) -> None:
        for schedule in schedules:
            self.tables.schedules[schedule.id] = schedule

    async def save_credited(self, schedule: RevenueSchedule, credit: ScheduleCredit) -> None:
        self.tables.schedules[schedule.id] = schedule
        self.tables.credits.append(credit)

    async def find(self, schedule_id: str) -> RevenueSchedule | None:
        return self.tables.schedules.get(schedule_id)

    async def page(self, page: PageRequest, filters: ScheduleFilters) -> Page[RevenueSchedule]:
        found = [
            s
            for s in sorted(self.tables.schedules.values(), key=lambda s: s.id)
            if filters.account_id in (None, s.account_id)
            and filters.invoice_id in (None, s.invoice_id)
            and filters.product_id in (None, s.product_id)
        ]
        return _page(found, page)

    async def months_to_post(self, month: str) -> list[MonthToPost]:
        return [
            MonthToPost(s.id, m.month, s.currency, m.amount)
            for s in sorted(self.tables.schedules.values(), key=lambda s: s.id)
            if s.rule is RevenueRule.RATABLE
            for m in s.months
            if m.month == month and not m.posted
        ]

    async def mark_posted(self, months: Sequence[MonthToPost], journal_entry_id: str) -> None:
        for item in months:
            schedule = self.tables.schedules[item.schedule_id]
            posted = tuple(replace(m, posted=True) if m.month == item.month else m for m in schedule.months)
            self.tables.schedules[item.schedule_id] = replace(schedule, months=posted)

    async def add_posting(self, posting: RecognitionPosting) -> None:
        self.tables.postings.append(posting)

    async def postings_of(self, month: str) -> list[RecognitionPosting]:
        return [p for p in self.tables.postings if p.month == month]

    async def movements(self, currency: str | None, through: str) -> dict[str, WaterfallMovements]:
        result: dict[str, WaterfallMovements] = {}
        for s in self.tables.schedules.values():
            if currency in (None, s.currency):
                found = result.setdefault(s.currency, WaterfallMovements())
                found.add(
                    billed=[(month_key(s.invoice_date), s.amount)],
                    recognized=[(m.month, m.amount) for m in s.months if m.month <= through],
                )
        for c in self.tables.credits:
            if currency in (None, c.currency):
                found = result.setdefault(c.currency, WaterfallMovements())
                month = month_key(c.credit_date)
                found.add(billed=[(month, -c.amount)], recognized=[(month, -c.recognized_share)])
        return result


class FakeLedgerRepository(LedgerRepository):
    """Journal entries in the tables; a second entry of one source is refused as the unique key does."""

    def __init__(self, tables: LedgerTables) -> None:
        self.tables = tables

    async def add(self, entry: JournalEntry) -> None:
        if any(
            (e.kind, e.source_id, e.currency) == (entry.kind, entry.source_id, entry.currency)
            for e in self.tables.entries.values()
        ):
            raise AssertionError(f"uq_journal_entries_source: {entry.kind} {entry.source_id}")
        self.tables.entries[entry.id] = entry

    async def posted(self, kind: EntryKind, source_id: str) -> bool:
        return any((e.kind, e.source_id) == (kind, source_id) for e in self.tables.entries.values())

    def _between(self, date_from: date, date_to: date) -> list[JournalEntry]:
        return [e for e in self.tables.entries.values() if date_from <= e.entry_date <= date_to]

    async def page(self, page: PageRequest, *, date_from: date, date_to: date) -> Page[JournalEntry]:
        return _page(sorted(self._between(date_from, date_to), key=lambda e: e.id), page)

    async def between(self, *, date_from: date, date_to: date) -> list[JournalEntry]:
        return sorted(self._between(date_from, date_to), key=lambda e: (e.entry_date, e.id))

    async def trial_balance(self, *, as_of: date, currency: str | None) -> list[TrialBalanceRow]:
        sums: dict[tuple[str, str], tuple[GlAccount, Decimal, Decimal]] = {}
        for entry in self.tables.entries.values():
            if entry.entry_date > as_of or currency not in (None, entry.currency):
                continue
            for line in entry.lines:
                account, debit, credit = sums.get(
                    (entry.currency, line.account.code), (line.account, Decimal(0), Decimal(0))
                )
                sums[(entry.currency, line.account.code)] = (
                    account,
                    debit + line.debit,
                    credit + line.credit,
                )
        return [TrialBalanceRow(a, c, d, cr) for (c, _), (a, d, cr) in sorted(sums.items())]
