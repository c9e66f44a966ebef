"""Use cases of the general ledger: the journal of a period and the trial balance."""

from __future__ import annotations

from datetime import date

from invoicing.domain.ledger import JournalEntry
from invoicing.handlers.unit_of_work import InvoicingUnitOfWork
from invoicing.schemas.ledger import (
    JournalEntryPublic,
    TrialBalancePublic,
    entry_public,
    trial_balance_public,
)
from libs.platform.errors import ValidationFailed
from libs.platform.pagination import Page, PageRequest


def _check_range(date_from: date, date_to: date) -> None:
    if date_from > date_to:
        raise ValidationFailed.single("from", f"from {date_from} is after to {date_to}")


async def journal_page(
    *, uow: InvoicingUnitOfWork, page: PageRequest, date_from: date, date_to: date
) -> Page[JournalEntryPublic]:
    """A page of the entries dated in [date_from, date_to]."""
    _check_range(date_from, date_to)
    found = await uow.ledger.page(page, date_from=date_from, date_to=date_to)
    return Page[JournalEntryPublic](
        data=[entry_public(e) for e in found.data], next_cursor=found.next_cursor, has_more=found.has_more
    )


async def journal_export(*, uow: InvoicingUnitOfWork, date_from: date, date_to: date) -> list[JournalEntry]:
    """Every entry dated in [date_from, date_to], by date (the period's export for the ERP)."""
    _check_range(date_from, date_to)
    return await uow.ledger.between(date_from=date_from, date_to=date_to)


async def trial_balance(*, uow: InvoicingUnitOfWork, as_of: date, currency: str | None) -> TrialBalancePublic:
    """Every account's debits, credits and balance as of a day; the balances of a currency sum to zero."""
    return trial_balance_public(as_of, await uow.ledger.trial_balance(as_of=as_of, currency=currency))
