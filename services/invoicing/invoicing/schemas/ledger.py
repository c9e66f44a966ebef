"""Views of the general ledger: journal entries and the trial balance."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, Field

from invoicing.domain.ledger import EntryKind, JournalEntry, TrialBalanceRow
from libs.contracts.types import Amount, CurrencyCode
from libs.platform.money import amount_out


class JournalLinePublic(BaseModel):
    """A debit or a credit to an account of the chart."""

    account: str = Field(description="The account's code in the chart.", examples=["1100"])
    account_name: str = Field(examples=["Accounts receivable"])
    debit: Amount
    credit: Amount


class JournalEntryPublic(BaseModel):
    """A balanced posting in one currency."""

    id: str
    kind: EntryKind
    entry_date: date
    currency: CurrencyCode
    source_id: str = Field(description="What it books: an invoice, credit note, payment, refund or month.")
    account_id: str | None = Field(description="The customer account, if any.")
    description: str
    lines: list[JournalLinePublic]


def entry_public(entry: JournalEntry) -> JournalEntryPublic:
    """The view of an entry."""
    currency = entry.currency
    return JournalEntryPublic(
        id=entry.id,
        kind=entry.kind,
        entry_date=entry.entry_date,
        currency=currency,
        source_id=entry.source_id,
        account_id=entry.account_id,
        description=entry.description,
        lines=[
            JournalLinePublic(
                account=line.account.code,
                account_name=line.account.name,
                debit=amount_out(line.debit, currency),
                credit=amount_out(line.credit, currency),
            )
            for line in entry.lines
        ],
    )


class TrialBalanceLine(BaseModel):
    """An account's debits, credits and balance (debits - credits) in one currency."""

    account: str
    account_name: str
    currency: CurrencyCode
    debit: Amount
    credit: Amount
    balance: Amount


class TrialBalanceTotal(BaseModel):
    """The sum of the balances of a currency: zero when every entry balances."""

    currency: CurrencyCode
    debit: Amount
    credit: Amount
    balance: Amount


class TrialBalancePublic(BaseModel):
    """Every account's balance as of a day."""

    as_of: date
    accounts: list[TrialBalanceLine]
    totals: list[TrialBalanceTotal]


def trial_balance_public(as_of: date, rows: list[TrialBalanceRow]) -> TrialBalancePublic:
    """The view of a trial balance, with the totals per currency."""
    totals: dict[str, list[TrialBalanceRow]] = {}
    for row in rows:
        totals.setdefault(row.currency, []).append(row)
    return TrialBalancePublic(
        as_of=as_of,
        accounts=[
            TrialBalanceLine(
                account=row.account.code,
                account_name=row.account.name,
                currency=row.currency,
                debit=amount_out(row.debit, row.currency),
                credit=amount_out(row.credit, row.currency),
                balance=amount_out(row.balance, row.currency),
            )
            for row in rows
        ],
        totals=[
            TrialBalanceTotal(
                currency=currency,
                debit=amount_out(sum((r.debit for r in group), Decimal(0)), currency),
                credit=amount_out(sum((r.credit for r in group), Decimal(0)), currency),
                balance=amount_out(sum((r.balance for r in group), Decimal(0)), currency),
            )
            for currency, group in sorted(totals.items())
        ],
    )
