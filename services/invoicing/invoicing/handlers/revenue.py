"""Use cases of revenue recognition: schedules, a month's recognition run, the waterfall."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

from invoicing.domain.ledger import ChartOfAccounts, EntryKind, JournalEntry, recognition_postings
from invoicing.domain.revenue import (
    WaterfallMonth,
    WaterfallMovements,
    month_end,
    month_start,
    months_between,
    waterfall,
)
from invoicing.handlers.revenue_port import RecognitionPosting, ScheduleFilters
from invoicing.handlers.unit_of_work import InvoicingUnitOfWork
from invoicing.schemas.revenue import (
    CurrencyAmount,
    RecognitionPostingPublic,
    RecognitionRunPublic,
    RevenueSchedulePublic,
    WaterfallPublic,
    schedule_public,
    waterfall_currency,
)
from libs.contracts.revenue import RevenueRecognized
from libs.platform.errors import ValidationFailed
from libs.platform.ids import new_id
from libs.platform.money import amount_out
from libs.platform.pagination import Page, PageRequest

MAX_WATERFALL_MONTHS = 240
"""Twenty years a request: a waterfall is read per month."""


async def get_schedule(*, uow: InvoicingUnitOfWork, schedule_id: str) -> RevenueSchedulePublic:
    """One schedule with its months."""
    return schedule_public(await uow.revenue.get(schedule_id))


async def list_schedules(
    *, uow: InvoicingUnitOfWork, page: PageRequest, filters: ScheduleFilters
) -> Page[RevenueSchedulePublic]:
    """A page of schedules, by account, invoice or product."""
    found = await uow.revenue.page(page, filters)
    return Page[RevenueSchedulePublic](
        data=[schedule_public(s) for s in found.data], next_cursor=found.next_cursor, has_more=found.has_more
    )


def _posting_public(posting: RecognitionPosting) -> RecognitionPostingPublic:
    return RecognitionPostingPublic(
        journal_entry_id=posting.journal_entry_id,
        currency=posting.currency,
        amount=amount_out(posting.amount, posting.currency),
        schedule_months=posting.schedule_months,
    )


async def run_recognition(
    *, uow: InvoicingUnitOfWork, month: str, chart: ChartOfAccounts
) -> RecognitionRunPublic:
    """Post a month's ratable revenue not posted yet, one entry per currency on the month's last
    day (Dr deferred revenue, Cr revenue). Repeated, it posts only what arrived since: nothing."""
    first = month_start(month)
    last = month_end(first)
    today = uow.clock.now().date()
    if last > today:
        raise ValidationFailed.single("month", f"{month} has not ended: it can be recognised from {last}")
    due = await uow.revenue.months_to_post(month)
    by_currency: dict[str, list[Decimal]] = defaultdict(list)
    for item in due:
        by_currency[item.currency].append(item.amount)
    now = uow.clock.now()
    posted: list[RecognitionPosting] = []
    for currency in sorted(by_currency):
        amount = sum(by_currency[currency], Decimal(0))
        items = [item for item in due if item.currency == currency]
        entry_id = new_id("je")
        lines = recognition_postings(chart, amount=amount)
        if lines:
            await uow.ledger.add(
                JournalEntry(
                    id=entry_id,
                    kind=EntryKind.RECOGNITION,
                    entry_date=last,
                    currency=currency,
                    source_id=entry_id,
                    account_id=None,
                    description=f"Revenue recognised for {month}",
                    lines=lines,
                )
            )
        await uow.revenue.mark_posted(items, entry_id)
        posting = RecognitionPosting(entry_id, month, currency, amount, len(items), now)
        await uow.revenue.add_posting(posting)
        posted.append(posting)
        uow.emit(
            RevenueRecognized(
                month=month,
                currency=currency,
                amount=amount_out(amount, currency),
                journal_entry_id=entry_id,
                entry_date=last,
                schedule_months=len(items),
                posted_at=now,
            ),
            key=f"revenue:{month}",
        )
        uow.audit(
            "revenue.recognized",
            "revenue_month",
            month,
            {"currency": currency, "amount": str(amount), "journal_entry_id": entry_id},
        )
    everything = await uow.revenue.postings_of(month)
    await uow.commit()
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for posting in everything:
        totals[posting.currency] += posting.amount
    return RecognitionRunPublic(
        month=month,
        posted=[_posting_public(p) for p in posted],
        recognized=[CurrencyAmount(currency=c, amount=amount_out(a, c)) for c, a in sorted(totals.items())],
    )


async def revenue_waterfall(
    *, uow: InvoicingUnitOfWork, month_from: str, month_to: str, currency: str | None
) -> tuple[WaterfallPublic, dict[str, list[WaterfallMonth]]]:
    """The waterfall from `month_from` to `month_to` (both included) per currency (or one)."""
    months = months_between(month_from, month_to)
    if len(months) > MAX_WATERFALL_MONTHS:
        raise ValidationFailed.single("to", f"at most {MAX_WATERFALL_MONTHS} months at a time")
    movements = await uow.revenue.movements(currency, through=month_to)
    if currency is not None:
        movements.setdefault(currency, WaterfallMovements())
    rows = {code: waterfall(found, months) for code, found in sorted(movements.items())}
    public = WaterfallPublic(
        from_month=month_from,
        to_month=month_to,
        currencies=[waterfall_currency(code, found) for code, found in rows.items()],
    )
    return public, rows


def last_day(month: str) -> date:
    """The last day of a `YYYY-MM` month."""
    return month_end(month_start(month))


def empty_waterfall(month_from: str, month_to: str) -> list[WaterfallMonth]:
    """The waterfall of a currency with nothing billed (every month zero)."""
    return waterfall(WaterfallMovements(), months_between(month_from, month_to))
