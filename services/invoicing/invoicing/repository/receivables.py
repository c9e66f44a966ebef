"""Receivables in SQL: issued invoices and the credit notes against them, a page of accounts at a time.

Every read is one query for the whole page of accounts (never one per account or invoice). Money
is summed in Python: SQLite arithmetic on a money column is not exact. What was paid is the
invoice's `amount_paid` as it is now; when payments keep their allocations with dates, what was
paid on or before `as_of` plugs in here (`receivable_facts`), nothing else changes.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select as sa_select
from sqlalchemy import union
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from invoicing.domain.billing_inputs import BillingAccount
from invoicing.domain.collections import CaseState, OpenInvoice
from invoicing.domain.invoices import InvoiceState
from invoicing.domain.payments import AllocationSource, PaymentState
from invoicing.domain.receivables import ReceivableFacts
from invoicing.handlers.receivables_port import ReceivablesRepository
from invoicing.models.billing_inputs import BillingAccountRow
from invoicing.models.collections import CollectionsCaseRow
from invoicing.models.credits import CreditNoteRow
from invoicing.models.invoices import InvoiceRow
from invoicing.models.payments import PaymentAllocationRow, PaymentRefundRow, PaymentRow
from invoicing.repository.billing_accounts import ACCOUNTS, account_of, accounts_where

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
        paid = await self._paid_by(account_ids, as_of)
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
                    paid=paid.get(row.id, Decimal(0)),
                    credited=credited.get(row.id, Decimal(0)),
                    written_off=row.written_off,
                    written_off_on=_utc_date(row.written_off_at),
                    voided_on=_utc_date(row.voided_at) if row.state == InvoiceState.VOID.value else None,
                )
            )
        return facts

    async def _paid_by(self, account_ids: Collection[str], as_of: date) -> dict[str, Decimal]:
        """Per invoice, what payments had paid of it by `as_of`: the allocations made by then (a
        payment's on its received date, account credit's on the day it was applied) less what
        refunds and reversals made by then took back (UTC dates, as voids and write-offs)."""
        paid: dict[str, Decimal] = {}
        a: Any = PaymentAllocationRow.__table__  # type: ignore[attr-defined]
        p: Any = PaymentRow.__table__  # type: ignore[attr-defined]
        stmt = (
            sa_select(a.c.invoice_id, a.c.amount, a.c.source, a.c.applied_at, p.c.received_on)
            .select_from(a.join(p, a.c.payment_id == p.c.id))
            .where(p.c.account_id.in_(sorted(account_ids)))
        )
        allocations = await self.session.exec(stmt)  # type: ignore[call-overload]
        for invoice_id, amount, source, applied_at, received_on in allocations.all():
            by_payment = source == AllocationSource.PAYMENT.value and received_on is not None
            made_on = received_on if by_payment else _utc_date(applied_at)
            if made_on is not None and made_on <= as_of:
                paid[invoice_id] = paid.get(invoice_id, Decimal(0)) + Decimal(amount)
        refunds = await self.session.exec(
            select(col(PaymentRefundRow.taken_back), col(PaymentRefundRow.created_at)).where(
                col(PaymentRefundRow.account_id).in_(sorted(account_ids))
            )
        )
        for taken_back, created_at in refunds.all():
            taken_on = _utc_date(created_at)
            if taken_on is not None and taken_on <= as_of:
                for invoice_id, _number, amount, _due in json.loads(taken_back):
                    paid[invoice_id] = paid.get(invoice_id, Decimal(0)) - Decimal(amount)
        return paid

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
        rows = await self.session.exec(accounts_where(ACCOUNTS.c.account_id.in_(sorted(account_ids))))
        return {row[0]: account_of(row) for row in rows.all()}

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
        """Per currency, what credit notes left beyond their invoices plus the money of received
        payments no invoice has taken yet (`payments.unapplied`)."""
        notes = select(col(CreditNoteRow.currency), col(CreditNoteRow.account_credit)).where(
            col(CreditNoteRow.account_id) == account_id
        )
        unapplied = select(col(PaymentRow.currency), col(PaymentRow.unapplied)).where(
            col(PaymentRow.account_id) == account_id,
            col(PaymentRow.state) == PaymentState.RECEIVED.value,
            col(PaymentRow.unapplied) > 0,
        )
        credit: dict[str, Decimal] = {}
        for query in (notes, unapplied):
            for currency, amount in (await self.session.exec(query)).all():
                credit[currency] = credit.get(currency, Decimal(0)) + Decimal(amount)
        return credit
