"""Receivables in SQL: issued invoices and the credit notes against them, a page of accounts at a time.

Every read is one query for the whole page of accounts (never one per account or invoice). Money
is summed in Python: SQLite arithmetic on a money column is not exact. What was paid is the
invoice's `amount_paid` as it is now; when payments keep their allocations with dates, what was
paid on or before `as_of` plugs in here (`receivable_facts`), nothing else changes.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import union
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from invoicing.domain.billing_inputs import BillingAccount
from invoicing.domain.collections import CaseState, OpenInvoice
from invoicing.domain.invoices import InvoiceState
from invoicing.domain.receivables import ReceivableFacts
from invoicing.handlers.receivables_port import ReceivablesRepository
from invoicing.models.billing_inputs import BillingAccountRow
from invoicing.models.collections import CollectionsCaseRow
from invoicing.models.credits import CreditNoteRow
from invoicing.models.invoices import InvoiceRow
from invoicing.repository.billing_inputs import account_of

Row = InvoiceRow
_OPEN_STATES = (InvoiceState.FINALIZED.value, InvoiceState.PARTIALLY_PAID.value)


def _issued_by(as_of: date, currency: str | None) -> list[object]:
    where: list[object] = [
        col(Row.state) != InvoiceState.DRAFT.value,
        col(Row.invoice_date).is_not(None),
        col(Row.invoice_date) <= as_of,
    ]
    if currency is not None:
        where.append(col(Row.currency) == currency)
    return where


def _utc_date(at: datetime | None) -> date | None:
    if at is None:
        return None
    return (at if at.tzinfo is not None else at.replace(tzinfo=UTC)).astimezone(UTC).date()


class SqlReceivablesRepository(ReceivablesRepository):
    """Receivables over the invoicing database."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def aging_accounts_page(
        self, *, as_of: date, currency: str | None, after: str | None, limit: int
    ) -> list[str]:
        """One DISTINCT over the issued invoices, by account id."""
        stmt = select(Row.account_id).where(*_issued_by(as_of, currency)).distinct()  # type: ignore[arg-type]
        if after is not None:
            stmt = stmt.where(col(Row.account_id) > after)
        rows = await self.session.exec(stmt.order_by(col(Row.account_id)).limit(limit))
        return list(rows.all())

    async def receivable_facts(
        self, account_ids: Collection[str], *, as_of: date, currency: str | None
    ) -> list[ReceivableFacts]:
        """The page's invoices, then the credit notes issued by `as_of` on them."""
        if not account_ids:
            return []
        invoices = (
            await self.session.exec(
                select(Row)
                .where(col(Row.account_id).in_(sorted(account_ids)), *_issued_by(as_of, currency))  # type: ignore[arg-type]
                .order_by(col(Row.account_id), col(Row.invoice_date), col(Row.id))
            )
        ).all()
        credited: dict[str, Decimal] = {}
        notes = await self.session.exec(
            select(col(CreditNoteRow.invoice_id), col(CreditNoteRow.total)).where(
                col(CreditNoteRow.account_id).in_(sorted(account_ids)), col(CreditNoteRow.note_date) <= as_of
            )
        )
        for invoice_id, total in notes.all():
            credited[invoice_id] = credited.get(invoice_id, Decimal(0)) + Decimal(total)
        facts: list[ReceivableFacts] = []
        for row in invoices:
            assert row.invoice_date is not None and row.due_date is not None
            facts.append(
                ReceivableFacts(
                    invoice_id=row.id,
                    invoice_number=row.number,
                    account_id=row.account_id,
                    currency=row.currency,
                    invoice_date=row.invoice_date,
                    due_date=row.due_date,
                    total=row.total,
                    paid=row.amount_paid,
                    credited=credited.get(row.id, Decimal(0)),
                    written_off=row.written_off,
                    written_off_on=_utc_date(row.written_off_at),
                    voided_on=_utc_date(row.voided_at) if row.state == InvoiceState.VOID.value else None,
                )
            )
        return facts

    async def account_names(self, account_ids: Collection[str]) -> dict[str, str]:
        """One query over the read model's accounts."""
        if not account_ids:
            return {}
        rows = await self.session.exec(
            select(BillingAccountRow.account_id, BillingAccountRow.name).where(
                col(BillingAccountRow.account_id).in_(sorted(account_ids))
            )
        )
        return dict(rows.all())

    async def accounts(self, account_ids: Collection[str]) -> dict[str, BillingAccount]:
        """One query over the read model's accounts."""
        if not account_ids:
            return {}
        rows = await self.session.exec(
            select(BillingAccountRow).where(col(BillingAccountRow.account_id).in_(sorted(account_ids)))
        )
        return {row.account_id: account_of(row) for row in rows.all()}

    async def open_invoices(self, account_ids: Collection[str]) -> list[OpenInvoice]:
        """The page's finalized and partially paid invoices, with what remains due on each."""
        if not account_ids:
            return []
        rows = (
            await self.session.exec(
                select(Row).where(
                    col(Row.account_id).in_(sorted(account_ids)), col(Row.state).in_(_OPEN_STATES)
                )
            )
        ).all()
        found: list[OpenInvoice] = []
        for row in rows:
            due = row.total - row.amount_paid - row.credited - row.written_off
            if due > 0 and row.due_date is not None:
                found.append(OpenInvoice(row.id, row.number, row.account_id, row.currency, row.due_date, due))
        return found

    async def past_due_accounts_page(self, *, on: date, after: str | None, limit: int) -> list[str]:
        """Accounts with an open invoice due before `on`, and accounts with an open case, in one UNION."""
        late = select(Row.account_id).where(col(Row.state).in_(_OPEN_STATES), col(Row.due_date) < on)
        cases = select(CollectionsCaseRow.account_id).where(
            col(CollectionsCaseRow.state) == CaseState.OPEN.value
        )
        if after is not None:
            late = late.where(col(Row.account_id) > after)
            cases = cases.where(col(CollectionsCaseRow.account_id) > after)
        both = union(late, cases).subquery()
        rows = await self.session.exec(select(both.c.account_id).order_by(both.c.account_id).limit(limit))
        return list(rows.all())

    async def account_credit(self, account_id: str) -> dict[str, Decimal]:
        """The credit notes' `account_credit`, summed per currency."""
        rows = await self.session.exec(
            select(col(CreditNoteRow.currency), col(CreditNoteRow.account_credit)).where(
                col(CreditNoteRow.account_id) == account_id
            )
        )
        credit: dict[str, Decimal] = {}
        for currency, amount in rows.all():
            credit[currency] = credit.get(currency, Decimal(0)) + Decimal(amount)
        return credit
