"""Use cases of accounts receivable: the aging of the book as of a date (a page of accounts at a
time, so a large book streams), and an account's balance — billed, credit, unbilled."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from invoicing.domain.collections import past_due_of
from invoicing.domain.receivables import AgingRow, AgingTotals, aging_rows, zero
from invoicing.handlers.bill_runs import preview_invoice
from invoicing.handlers.bill_runs_port import AccountBilling
from libs.platform.errors import NotFound, ValidationFailed
from libs.platform.money import minor_units, round_money

if TYPE_CHECKING:
    from invoicing.handlers.unit_of_work import InvoicingUnitOfWork

UnitsOfWork = Callable[[], "InvoicingUnitOfWork"]
"""A new unit of work each call (a page of a streamed report each)."""

AGING_PAGE_ACCOUNTS = 500
"""Accounts read per query (and per transaction when streaming)."""


async def aging_pages(
    units_of_work: UnitsOfWork,
    *,
    as_of: date,
    currency: str | None = None,
    page_accounts: int = AGING_PAGE_ACCOUNTS,
) -> AsyncIterator[list[AgingRow]]:
    """The aging rows at `as_of`, a page of accounts at a time, each page in its own short transaction."""
    if currency is not None:
        minor_units(currency)  # an unknown currency is a 422
    after: str | None = None
    while True:
        async with units_of_work() as uow:
            account_ids = await uow.receivables.aging_accounts_page(
                as_of=as_of, currency=currency, after=after, limit=page_accounts
            )
            if not account_ids:
                return
            facts = await uow.receivables.receivable_facts(account_ids, as_of=as_of, currency=currency)
            names = await uow.receivables.account_names(account_ids)
        rows = aging_rows(facts, as_of)
        for row in rows:
            row.account_name = names.get(row.account_id)
        yield rows
        if len(account_ids) < page_accounts:
            return
        after = account_ids[-1]


@dataclass
class AgingReport:
    """The whole book's aging at a date: a row per account and currency, totals per currency."""

    as_of: date
    rows: list[AgingRow] = field(default_factory=list)
    totals: AgingTotals = field(default_factory=AgingTotals)


async def aging_report(
    units_of_work: UnitsOfWork, *, as_of: date, currency: str | None = None
) -> AgingReport:
    """The aging at `as_of` in one answer (the CSV streams the same pages instead)."""
    report = AgingReport(as_of)
    async for rows in aging_pages(units_of_work, as_of=as_of, currency=currency):
        for row in rows:
            report.rows.append(row)
            report.totals.add(row)
    return report


@dataclass(frozen=True)
class CurrencyBalance:
    """An account's receivables in one currency."""

    currency: str
    billed: Decimal
    """What its issued invoices still have due."""
    past_due: Decimal
    """The part of `billed` due before today."""
    account_credit: Decimal
    unbilled: Decimal | None
    """Charges due through today but not invoiced yet (None when they cannot be computed)."""
    open_invoices: int

    @property
    def net(self) -> Decimal:
        """billed + unbilled - credit."""
        return self.billed + (self.unbilled or Decimal(0)) - self.account_credit


@dataclass(frozen=True)
class AccountBalance:
    """An account's balance today (its local date), per currency."""

    account_id: str
    as_of: date
    currencies: list[CurrencyBalance]
    unbilled_note: str | None = None


async def account_balance(
    *, uow: InvoicingUnitOfWork, account_id: str, billing: AccountBilling | None
) -> AccountBalance:
    """Billed, past due, credit and unbilled receivables of an account, per currency (404 unknown).

    Unbilled is what a bill run through today would invoice (the invoice preview's calculation; a
    dry run, nothing stored); without a wired biller, or for an account it cannot bill, it is unknown.
    """
    account = await uow.billing_inputs.find_account(account_id)
    if account is None:
        raise NotFound("account", account_id)
    today = uow.business_date(account.time_zone)
    invoices = await uow.receivables.open_invoices([account_id])
    credit = await uow.receivables.account_credit(account_id)
    unbilled: dict[str, Decimal] = {}
    note: str | None = None
    if billing is None:
        note = "bill runs are not wired in this process: unbilled charges are unknown"
    else:
        try:
            preview = await preview_invoice(uow, billing=billing, account_id=account_id, bill_date=today)
        except (ValidationFailed, NotFound) as exc:
            note = f"unbilled charges are unknown: {exc}"
        else:
            for invoice in preview.invoices:
                if invoice.existing_invoice_id is None:
                    unbilled[invoice.currency] = unbilled.get(invoice.currency, Decimal(0)) + invoice.total
    currencies = sorted({i.currency for i in invoices} | set(credit) | set(unbilled) | {account.currency})
    balances = []
    for currency in currencies:
        mine = [i for i in invoices if i.currency == currency]
        nothing = zero(currency)
        balances.append(
            CurrencyBalance(
                currency=currency,
                billed=sum((i.amount_due for i in mine), nothing),
                past_due=past_due_of(mine, account_id=account_id, currency=currency, on=today).amount,
                account_credit=round_money(credit.get(currency, nothing), currency),
                unbilled=None if note is not None else round_money(unbilled.get(currency, nothing), currency),
                open_invoices=len(mine),
            )
        )
    return AccountBalance(account_id, today, balances, note)
