"""Vendor commitments, expected vendor invoices and vendor invoices in SQL.

New rows are inserted in a savepoint: a subscription committed already, a vendor's invoice number
taken, or an expected invoice matched meanwhile fail on their unique constraints and are answered
without spoiling the rest of the transaction.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from libs.platform.errors import Conflict
from libs.platform.pagination import Page, PageRequest, paginate
from overage.domain.margins import BilledAmount, NoticeCharge, spread_overage_invoice
from overage.domain.vendor_commitments import CommitmentSource, ExpectedVendorInvoice, VendorCommitment
from overage.domain.vendor_invoices import (
    VendorInvoice,
    VendorInvoiceConflict,
    VendorInvoiceKind,
    VendorInvoiceMatch,
    VendorInvoiceSource,
    VendorInvoiceState,
)
from overage.handlers.vendor_payables_port import (
    CommitmentFilters,
    CommitmentTaken,
    VendorCommitmentRepository,
    VendorInvoiceFilters,
    VendorInvoiceRepository,
)
from overage.models.cases import CaseNoticeRow
from overage.models.vendor_payables import ExpectedVendorInvoiceRow, VendorCommitmentRow, VendorInvoiceRow


class SqlVendorCommitmentRepository(VendorCommitmentRepository):
    """Vendor commitments over the overage database."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def find(self, commitment_id: str) -> VendorCommitment | None:
        """One commitment with its expected invoices."""
        row = await self.session.get(VendorCommitmentRow, commitment_id)
        return None if row is None else (await self._with_expected([row]))[0]

    async def of_subscription(self, subscription_id: str) -> VendorCommitment | None:
        """The subscription's commitment."""
        stmt = select(VendorCommitmentRow).where(col(VendorCommitmentRow.subscription_id) == subscription_id)
        row = (await self.session.exec(stmt)).first()
        return None if row is None else (await self._with_expected([row]))[0]

    async def add(self, commitment: VendorCommitment) -> None:
        """Insert the commitment and its expected invoices in a savepoint."""
        try:
            async with self.session.begin_nested():
                self.session.add(_commitment_row(commitment))
                await self.session.flush()
                self.session.add_all([_expected_row(e) for e in commitment.expected_invoices])
                await self.session.flush()
        except IntegrityError:
            raise CommitmentTaken(commitment.subscription_id) from None

    async def save_seats(self, commitment: VendorCommitment, changed: list[ExpectedVendorInvoice]) -> None:
        """Update the commitment's seats and cost and the repriced expected invoices."""
        await self.session.exec(
            update(VendorCommitmentRow)
            .where(col(VendorCommitmentRow.id) == commitment.id)
            .values(
                seats=commitment.seats,
                cost_book_version=commitment.cost_book_version,
                unit_cost=commitment.unit_cost,
                annual_amount=commitment.annual_amount,
            )
        )
        for expected in changed:
            await self.session.exec(
                update(ExpectedVendorInvoiceRow)
                .where(col(ExpectedVendorInvoiceRow.id) == expected.id)
                .values(amount=expected.amount)
            )

    async def page(self, filters: CommitmentFilters, page: PageRequest) -> Page[VendorCommitment]:
        """A page ordered by id."""
        Row = VendorCommitmentRow
        where: list[ColumnElement[bool]] = []
        for column, value in (
            (Row.account_id, filters.account_id),
            (Row.vendor_id, filters.vendor_id),
            (Row.subscription_id, filters.subscription_id),
        ):
            if value is not None:
                where.append(col(column) == value)
        found = await paginate(self.session, select(Row).where(*where), Row.id, page, lambda row: row)
        data = await self._with_expected(list(found.data)) if found.data else []
        return Page[VendorCommitment](data=data, next_cursor=found.next_cursor, has_more=found.has_more)

    async def unmatched_expected(
        self, *, vendor_id: str, period_start: date, subscription_id: str | None, account_id: str
    ) -> list[ExpectedVendorInvoice]:
        """Expected invoices for the period start with no received invoice matched."""
        Row = ExpectedVendorInvoiceRow
        matched = select(VendorInvoiceRow.expected_invoice_id).where(
            col(VendorInvoiceRow.expected_invoice_id).is_not(None)
        )
        stmt = select(Row).where(
            col(Row.vendor_id) == vendor_id,
            col(Row.period_start) == period_start,
            col(Row.account_id) == account_id,
            col(Row.id).not_in(matched),
        )
        if subscription_id is not None:
            stmt = stmt.where(col(Row.subscription_id) == subscription_id)
        return [_expected(row) for row in (await self.session.exec(stmt.order_by(col(Row.id)))).all()]

    async def _with_expected(self, rows: list[VendorCommitmentRow]) -> list[VendorCommitment]:
        ids = [row.id for row in rows]
        stmt = (
            select(ExpectedVendorInvoiceRow)
            .where(col(ExpectedVendorInvoiceRow.commitment_id).in_(ids))
            .order_by(col(ExpectedVendorInvoiceRow.commitment_id), col(ExpectedVendorInvoiceRow.sequence))
        )
        expected: dict[str, list[ExpectedVendorInvoice]] = {}
        for row in (await self.session.exec(stmt)).all():
            expected.setdefault(row.commitment_id, []).append(_expected(row))
        return [_commitment(row, expected.get(row.id, [])) for row in rows]


class SqlVendorInvoiceRepository(VendorInvoiceRepository):
    """Vendor invoices over the overage database."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def find(self, vendor_invoice_id: str) -> VendorInvoice | None:
        """One vendor invoice."""
        row = await self.session.get(VendorInvoiceRow, vendor_invoice_id)
        return None if row is None else _invoice(row)

    async def add(self, invoice: VendorInvoice) -> None:
        """Insert in a savepoint; a taken number (or a matched expected invoice) is a 409."""
        try:
            async with self.session.begin_nested():
                self.session.add(VendorInvoiceRow(**_invoice_values(invoice), version=1))
                await self.session.flush()
        except IntegrityError:
            taken = (
                await self.session.exec(
                    select(VendorInvoiceRow.id).where(
                        col(VendorInvoiceRow.vendor_id) == invoice.vendor_id,
                        col(VendorInvoiceRow.number) == invoice.number,
                    )
                )
            ).first()
            if taken is not None:
                raise VendorInvoiceConflict(
                    f"vendor {invoice.vendor_id!r} invoice {invoice.number!r} is recorded already ({taken})"
                ) from None
            raise VendorInvoiceConflict(
                f"expected invoice {invoice.expected_invoice_id!r} was matched meanwhile; post it again"
            ) from None
        invoice.version = 1

    async def save(self, invoice: VendorInvoice) -> None:
        """Write a changed invoice; a stale copy is a 409."""
        result: Any = await self.session.exec(
            update(VendorInvoiceRow)
            .where(col(VendorInvoiceRow.id) == invoice.id, col(VendorInvoiceRow.version) == invoice.version)
            .values(**_invoice_values(invoice), version=invoice.version + 1)
        )
        if result.rowcount != 1:
            raise Conflict(f"vendor invoice {invoice.id!r} changed meanwhile; read it and retry")
        invoice.version += 1

    async def page(self, filters: VendorInvoiceFilters, page: PageRequest) -> Page[VendorInvoice]:
        """A page ordered by id."""
        Row = VendorInvoiceRow
        where: list[ColumnElement[bool]] = []
        for column, value in (
            (Row.account_id, filters.account_id),
            (Row.vendor_id, filters.vendor_id),
            (Row.state, filters.state.value if filters.state else None),
            (Row.match, filters.match.value if filters.match else None),
        ):
            if value is not None:
                where.append(col(column) == value)
        return await paginate(self.session, select(Row).where(*where), Row.id, page, _invoice)

    async def matching(self, expected_ids: list[str]) -> dict[str, VendorInvoice]:
        """The received invoice of each expected one that has one."""
        if not expected_ids:
            return {}
        stmt = select(VendorInvoiceRow).where(col(VendorInvoiceRow.expected_invoice_id).in_(expected_ids))
        return {
            row.expected_invoice_id: _invoice(row)
            for row in (await self.session.exec(stmt)).all()
            if row.expected_invoice_id
        }

    async def billed_amounts(self, start: date, end: date, account_id: str | None) -> list[BilledAmount]:
        """Sums per account, currency and period start; an overage invoice settling a case is
        spread over its charged notices' months (`spread_overage_invoice`)."""
        Row = VendorInvoiceRow
        settles_case = (col(Row.kind) == VendorInvoiceKind.OVERAGE.value) & col(Row.overage_case_id).is_not(
            None
        )
        stmt = select(
            col(Row.account_id), col(Row.currency), col(Row.period_start), func.sum(col(Row.amount))
        ).where(col(Row.period_start) >= start, col(Row.period_start) < end, ~settles_case)
        overage = select(Row).where(settles_case, col(Row.period_start) < end, col(Row.period_end) > start)
        if account_id is not None:
            stmt = stmt.where(col(Row.account_id) == account_id)
            overage = overage.where(col(Row.account_id) == account_id)
        stmt = stmt.group_by(col(Row.account_id), col(Row.currency), col(Row.period_start))
        amounts = [BilledAmount(a, c, p, amount) for a, c, p, amount in (await self.session.exec(stmt)).all()]
        invoices = (await self.session.exec(overage)).all()
        charges = await self._notice_charges({row.overage_case_id for row in invoices if row.overage_case_id})
        for row in invoices:
            billed = BilledAmount(row.account_id, row.currency, row.period_start, row.amount)
            amounts.extend(
                spread_overage_invoice(billed, row.period_end, charges.get(row.overage_case_id or "", []))
            )
        return amounts

    async def _notice_charges(self, case_ids: set[str]) -> dict[str, list[NoticeCharge]]:
        """The vendor's charge (overage x unit cost) of each notice on the cases."""
        if not case_ids:
            return {}
        N = CaseNoticeRow
        stmt = select(
            col(N.case_id), col(N.period_start), col(N.overage_count), col(N.vendor_unit_cost)
        ).where(col(N.case_id).in_(case_ids))
        charges: dict[str, list[NoticeCharge]] = {}
        for case_id, period_start, overage_count, unit_cost in (await self.session.exec(stmt)).all():
            charges.setdefault(case_id, []).append(NoticeCharge(period_start, overage_count * unit_cost))
        return charges


def _commitment_row(c: VendorCommitment) -> VendorCommitmentRow:
    return VendorCommitmentRow(
        id=c.id,
        vendor_id=c.vendor_id,
        account_id=c.account_id,
        subscription_id=c.subscription_id,
        product_id=c.product_id,
        cost_book_id=c.cost_book_id,
        cost_book_version=c.cost_book_version,
        currency=c.currency,
        seats=c.seats,
        term_start=c.term_start,
        term_end=c.term_end,
        unit_cost=c.unit_cost,
        book_period=c.book_period,
        annual_amount=c.annual_amount,
        source=c.source.value,
        created_at=c.created_at,
    )


def _commitment(row: VendorCommitmentRow, expected: list[ExpectedVendorInvoice]) -> VendorCommitment:
    return VendorCommitment(
        id=row.id,
        vendor_id=row.vendor_id,
        account_id=row.account_id,
        subscription_id=row.subscription_id,
        product_id=row.product_id,
        cost_book_id=row.cost_book_id,
        cost_book_version=row.cost_book_version,
        currency=row.currency,
        seats=row.seats,
        term_start=row.term_start,
        term_end=row.term_end,
        unit_cost=row.unit_cost,
        book_period=row.book_period,
        annual_amount=row.annual_amount,
        source=CommitmentSource(row.source),
        created_at=row.created_at,
        expected_invoices=expected,
    )


def _expected_row(e: ExpectedVendorInvoice) -> ExpectedVendorInvoiceRow:
    return ExpectedVendorInvoiceRow(
        id=e.id,
        commitment_id=e.commitment_id,
        sequence=e.sequence,
        vendor_id=e.vendor_id,
        account_id=e.account_id,
        subscription_id=e.subscription_id,
        currency=e.currency,
        period_start=e.period_start,
        period_end=e.period_end,
        amount=e.amount,
    )


def _expected(row: ExpectedVendorInvoiceRow) -> ExpectedVendorInvoice:
    return ExpectedVendorInvoice(
        id=row.id,
        commitment_id=row.commitment_id,
        sequence=row.sequence,
        vendor_id=row.vendor_id,
        account_id=row.account_id,
        subscription_id=row.subscription_id,
        currency=row.currency,
        period_start=row.period_start,
        period_end=row.period_end,
        amount=row.amount,
    )


def _invoice_values(i: VendorInvoice) -> dict[str, Any]:
    return {
        "id": i.id,
        "vendor_id": i.vendor_id,
        "number": i.number,
        "kind": i.kind.value,
        "account_id": i.account_id,
        "subscription_id": i.subscription_id,
        "overage_case_id": i.overage_case_id,
        "expected_invoice_id": i.expected_invoice_id,
        "currency": i.currency,
        "amount": i.amount,
        "expected_amount": i.expected_amount,
        "match": i.match.value,
        "invoice_date": i.invoice_date,
        "period_start": i.period_start,
        "period_end": i.period_end,
        "source": i.source.value,
        "state": i.state.value,
        "received_at": i.received_at,
        "received_by": i.received_by,
        "approved_at": i.approved_at,
        "approved_by": i.approved_by,
        "approval_note": i.approval_note,
        "paid_at": i.paid_at,
        "paid_by": i.paid_by,
        "payment_reference": i.payment_reference,
    }


def _invoice(row: VendorInvoiceRow) -> VendorInvoice:
    return VendorInvoice(
        id=row.id,
        vendor_id=row.vendor_id,
        number=row.number,
        kind=VendorInvoiceKind(row.kind),
        account_id=row.account_id,
        subscription_id=row.subscription_id,
        overage_case_id=row.overage_case_id,
        expected_invoice_id=row.expected_invoice_id,
        currency=row.currency,
        amount=row.amount,
        expected_amount=row.expected_amount,
        match=VendorInvoiceMatch(row.match),
        invoice_date=row.invoice_date,
        period_start=row.period_start,
        period_end=row.period_end,
        source=VendorInvoiceSource(row.source),
        received_at=row.received_at,
        received_by=row.received_by,
        state=VendorInvoiceState(row.state),
        approved_at=row.approved_at,
        approved_by=row.approved_by,
        approval_note=row.approval_note,
        paid_at=row.paid_at,
        paid_by=row.paid_by,
        payment_reference=row.payment_reference,
        version=row.version,
    )
