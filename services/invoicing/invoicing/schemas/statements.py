"""The view of a statement of account (`/v1/accounts/{account_id}/statements`).

Amounts are strings with exactly the currency's minor units; an entry's `amount` is signed the
way it moves the balance (an invoice +, a payment or credit note -), as are the summary lines.
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from invoicing.domain.statements import EntryKind, StatementSection
from invoicing.handlers.statements import AccountStatement
from libs.contracts.types import Amount
from libs.platform.money import amount_out


class StatementEntryPublic(BaseModel):
    """One entry of the period, with the balance after it."""

    date: dt.date = Field(description="The account-local date it counts on.")
    kind: EntryKind
    document_id: str = Field(examples=["inv_01JD0S6Y4Q7V3J6C3M9W1K2X8Z"])
    reference: str = Field(description="The document's number (INV-2026-000001, CN-…).")
    description: str
    due_date: dt.date | None = Field(description="An invoice's due date.")
    amount: Amount = Field(description="Signed: + raises the balance, - lowers it.", examples=["300.00"])
    balance: Amount = Field(description="The running balance after this entry.")


class StatementKindTotal(BaseModel):
    """The signed sum and the count of one kind of entry in the period."""

    kind: EntryKind
    amount: Amount
    count: int


class StatementSummary(BaseModel):
    """Previous balance + payments + credits and adjustments + new invoices = balance due."""

    previous_balance: Amount = Field(examples=["1000.00"])
    payments: Amount = Field(
        description="Payments less reversals and refunds (≤ 0 as a rule).", examples=["-600.00"]
    )
    credits_and_adjustments: Amount = Field(examples=["-50.00"])
    invoices: Amount = Field(
        description="New invoices less invoices voided in the period.", examples=["300.00"]
    )
    balance_due: Amount = Field(
        description="Negative: a credit balance in the customer's favour.", examples=["650.00"]
    )


class StatementPublic(BaseModel):
    """A statement of account over a period of the account's local dates, both ends included."""

    account_id: str
    account_name: str
    customer_id: str
    currency: str
    time_zone: str
    period_start: dt.date
    period_end: dt.date = Field(description="Inclusive: the statement date.")
    bills_to_account_id: str | None = Field(
        description="The parent account whose statement shows this account's charges, when it bills to it."
    )
    summary: StatementSummary
    entries: list[StatementEntryPublic]
    totals: list[StatementKindTotal]


def statement_public(found: AccountStatement) -> StatementPublic:
    """The API view of a statement."""
    account, statement = found.account, found.statement
    currency = statement.currency

    section = statement.section_total
    return StatementPublic(
        account_id=account.account_id,
        account_name=account.name,
        customer_id=account.customer_id,
        currency=currency,
        time_zone=account.time_zone,
        period_start=statement.period.start,
        period_end=statement.period.end,
        bills_to_account_id=account.parent_account_id if account.bills_to_parent else None,
        summary=StatementSummary(
            previous_balance=amount_out(statement.previous_balance, currency),
            payments=amount_out(section(StatementSection.PAYMENTS), currency),
            credits_and_adjustments=amount_out(section(StatementSection.CREDITS_AND_ADJUSTMENTS), currency),
            invoices=amount_out(section(StatementSection.INVOICES), currency),
            balance_due=amount_out(statement.balance_due, currency),
        ),
        entries=[
            StatementEntryPublic(
                date=line.entry.on,
                kind=line.entry.kind,
                document_id=line.entry.document_id,
                reference=line.entry.reference,
                description=line.entry.description,
                due_date=line.entry.due_date,
                amount=amount_out(line.entry.signed_amount, currency),
                balance=amount_out(line.balance, currency),
            )
            for line in statement.lines
        ],
        totals=[
            StatementKindTotal(kind=t.kind, amount=amount_out(t.amount, currency), count=t.count)
            for t in statement.kind_totals
        ],
    )
