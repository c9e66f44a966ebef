"""Payments in SQL: payment methods (and their earlier tokens), payments with their allocations and
gateway attempts, refunds; and the two invoice look-ups payments need.

A payment is written whole: its row (optimistic `version`), its allocations by position (new ones
inserted, `returned` updated on the others) and its new attempts (`uq_payment_attempts_number`).
Locks: `find(lock=True)` and `credit_holders` read their rows FOR UPDATE (SQLite holds its write
lock since BEGIN IMMEDIATE), so one payment's credit or refundable money is used by one
transaction at a time.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Collection, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from invoicing.domain.invoices import InvoiceState
from invoicing.domain.payment_methods import CardToken, PaymentMethod, TokenVersion
from invoicing.domain.payments import (
    Allocation,
    AllocationSource,
    GatewayAttempt,
    OpenInvoice,
    Payment,
    PaymentMethodKind,
    PaymentState,
    Refund,
    RefundKind,
    TakenBack,
)
from invoicing.handlers.payments_port import PaymentFilters, PaymentRepository
from invoicing.models.invoices import InvoiceRow
from invoicing.models.payments import (
    PaymentAllocationRow,
    PaymentAttemptRow,
    PaymentMethodRow,
    PaymentMethodTokenRow,
    PaymentRefundRow,
    PaymentRow,
)
from libs.platform.errors import Conflict
from libs.platform.pagination import Page, PageRequest, paginate

_OPEN = (InvoiceState.FINALIZED.value, InvoiceState.PARTIALLY_PAID.value)


class SqlPaymentRepository(PaymentRepository):
    """Payments over the invoicing database."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # --- payment methods -------------------------------------------------------------------

    async def find_method(self, method_id: str) -> PaymentMethod | None:
        """One method with its earlier tokens."""
        row = (
            await self.session.exec(select(PaymentMethodRow).where(col(PaymentMethodRow.id) == method_id))
        ).first()
        return (await self._methods([row]))[0] if row is not None else None

    async def add_method(self, method: PaymentMethod) -> None:
        """Insert the method."""
        self.session.add(PaymentMethodRow(**_method_values(method), version=1))
        await self.session.flush()
        method.version = 1

    async def save_method(self, method: PaymentMethod) -> None:
        """Update the method (a stale copy is a 409) and insert the token versions it gained."""
        result: Any = await self.session.exec(
            update(PaymentMethodRow)
            .where(col(PaymentMethodRow.id) == method.id, col(PaymentMethodRow.version) == method.version)
            .values(**_method_values(method), version=method.version + 1)
        )
        if result.rowcount != 1:
            raise Conflict(f"payment method {method.id!r} changed meanwhile; read it and retry")
        stored = set(
            (
                await self.session.exec(
                    select(PaymentMethodTokenRow.token_version).where(
                        col(PaymentMethodTokenRow.payment_method_id) == method.id
                    )
                )
            ).all()
        )
        for old in method.previous_tokens:
            if old.version not in stored:
                self.session.add(
                    PaymentMethodTokenRow(
                        payment_method_id=method.id,
                        token_version=old.version,
                        token=old.card.token,
                        brand=old.card.brand,
                        last_four=old.card.last_four,
                        exp_month=old.card.exp_month,
                        exp_year=old.card.exp_year,
                        replaced_at=old.replaced_at,
                        reason=old.reason,
                    )
                )
        await self.session.flush()
        method.version += 1

    async def page_methods(self, account_id: str | None, page: PageRequest) -> Page[PaymentMethod]:
        """A page of methods ordered by id."""
        stmt = select(PaymentMethodRow)
        if account_id is not None:
            stmt = stmt.where(col(PaymentMethodRow.account_id) == account_id)
        rows = await paginate(self.session, stmt, PaymentMethodRow.id, page, lambda r: r)
        return Page[PaymentMethod](
            data=await self._methods(rows.data), next_cursor=rows.next_cursor, has_more=rows.has_more
        )

    async def _methods(self, rows: Sequence[PaymentMethodRow]) -> list[PaymentMethod]:
        versions: dict[str, list[TokenVersion]] = defaultdict(list)
        if rows:
            stmt = (
                select(PaymentMethodTokenRow)
                .where(col(PaymentMethodTokenRow.payment_method_id).in_([r.id for r in rows]))
                .order_by(col(PaymentMethodTokenRow.token_version))
            )
            for t in (await self.session.exec(stmt)).all():
                card = CardToken(t.token, t.brand, t.last_four, t.exp_month, t.exp_year)
                versions[t.payment_method_id].append(
                    TokenVersion(t.token_version, card, t.replaced_at, t.reason)
                )
        return [_method(row, versions[row.id]) for row in rows]

    # --- payments --------------------------------------------------------------------------

    async def find(self, payment_id: str, *, lock: bool = False) -> Payment | None:
        """One payment with its allocations and attempts."""
        stmt = select(PaymentRow).where(col(PaymentRow.id) == payment_id)
        if lock:
            stmt = stmt.with_for_update().execution_options(populate_existing=True)
        row = (await self.session.exec(stmt)).first()
        return (await self._load([row]))[0] if row is not None else None

    async def add(self, payment: Payment) -> None:
        """Insert the payment, then its allocations and attempts."""
        self.session.add(PaymentRow(**_payment_values(payment), version=1))
        await self.session.flush()
        payment.version = 1
        await self._write_children(payment, set(), set())

    async def save(self, payment: Payment) -> None:
        """Update the payment (a stale copy is a 409), its allocations and its new attempts."""
        result: Any = await self.session.exec(
            update(PaymentRow)
            .where(col(PaymentRow.id) == payment.id, col(PaymentRow.version) == payment.version)
            .values(**_payment_values(payment), version=payment.version + 1)
        )
        if result.rowcount != 1:
            raise Conflict(f"payment {payment.id!r} changed meanwhile; read it and retry")
        payment.version += 1
        positions = set(
            (
                await self.session.exec(
                    select(PaymentAllocationRow.position).where(
                        col(PaymentAllocationRow.payment_id) == payment.id
                    )
                )
            ).all()
        )
        numbers = set(
            (
                await self.session.exec(
                    select(PaymentAttemptRow.number).where(col(PaymentAttemptRow.payment_id) == payment.id)
                )
            ).all()
        )
        await self._write_children(payment, positions, numbers)

    async def _write_children(self, payment: Payment, positions: set[int], numbers: set[int]) -> None:
        for allocation in payment.allocations:
            if allocation.position in positions:
                await self.session.exec(
                    update(PaymentAllocationRow)
                    .where(
                        col(PaymentAllocationRow.payment_id) == payment.id,
                        col(PaymentAllocationRow.position) == allocation.position,
                    )
                    .values(returned=allocation.returned)
                )
            else:
                self.session.add(
                    PaymentAllocationRow(
                        payment_id=payment.id,
                        position=allocation.position,
                        invoice_id=allocation.invoice_id,
                        invoice_number=allocation.invoice_number,
                        amount=allocation.amount,
                        returned=allocation.returned,
                        source=allocation.source.value,
                        applied_at=allocation.applied_at,
                    )
                )
        for attempt in payment.attempts:
            if attempt.number not in numbers:
                self.session.add(
                    PaymentAttemptRow(
                        payment_id=payment.id,
                        number=attempt.number,
                        attempted_on=attempt.attempted_on,
                        attempted_at=attempt.attempted_at,
                        outcome="approved" if attempt.approved else "declined",
                        token=attempt.token,
                        decline_code=attempt.decline_code,
                        message=attempt.message,
                        gateway_reference=attempt.gateway_reference,
                        enhanced_data=json.dumps(attempt.enhanced_data, sort_keys=True),
                    )
                )
        try:
            await self.session.flush()
        except IntegrityError:
            raise Conflict(f"payment {payment.id!r} was tried meanwhile; read it again") from None

    async def page(self, filters: PaymentFilters, page: PageRequest) -> Page[Payment]:
        """A page ordered by id; allocations and attempts read in two more queries."""
        where: list[ColumnElement[bool]] = []
        if filters.account_id is not None:
            where.append(col(PaymentRow.account_id) == filters.account_id)
        if filters.state is not None:
            where.append(col(PaymentRow.state) == filters.state.value)
        if filters.invoice_id is not None:
            paid = select(PaymentAllocationRow.payment_id).where(
                col(PaymentAllocationRow.invoice_id) == filters.invoice_id
            )
            where.append(col(PaymentRow.id).in_(paid))
        rows = await paginate(
            self.session, select(PaymentRow).where(*where), PaymentRow.id, page, lambda r: r
        )
        return Page[Payment](
            data=await self._load(rows.data), next_cursor=rows.next_cursor, has_more=rows.has_more
        )

    async def credit_holders(self, account_id: str, currency: str) -> list[Payment]:
        """Received payments of the account holding credit, locked, oldest first."""
        stmt = (
            select(PaymentRow)
            .where(
                col(PaymentRow.account_id) == account_id,
                col(PaymentRow.currency) == currency,
                col(PaymentRow.state) == PaymentState.RECEIVED.value,
                col(PaymentRow.unapplied) > 0,
            )
            .order_by(col(PaymentRow.received_at), col(PaymentRow.id))
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return await self._load((await self.session.exec(stmt)).all())

    async def accounts_holding_credit(self, account_ids: Collection[str]) -> set[tuple[str, str]]:
        """Which of the accounts hold credit, as (account id, currency), in one query (see the port)."""
        if not account_ids:
            return set()
        stmt = (
            select(PaymentRow.account_id, PaymentRow.currency)
            .where(
                col(PaymentRow.account_id).in_(list(account_ids)),
                col(PaymentRow.state) == PaymentState.RECEIVED.value,
                col(PaymentRow.unapplied) > 0,
            )
            .distinct()
        )
        return {(account_id, currency) for account_id, currency in (await self.session.exec(stmt)).all()}

    async def retries_due(self, on: date, *, limit: int) -> list[str]:
        """Declined payments due for a retry on or before `on`, by id."""
        stmt = (
            select(PaymentRow.id)
            .where(col(PaymentRow.state) == PaymentState.DECLINED.value, col(PaymentRow.next_retry_on) <= on)
            .order_by(col(PaymentRow.id))
            .limit(limit)
        )
        return list((await self.session.exec(stmt)).all())

    async def add_refund(self, refund: Refund, *, account_id: str) -> None:
        """Insert the refund, what it took back as JSON."""
        self.session.add(
            PaymentRefundRow(
                id=refund.id,
                payment_id=refund.payment_id,
                account_id=account_id,
                currency=refund.currency,
                kind=refund.kind.value,
                amount=refund.amount,
                account_credit_used=refund.account_credit_used,
                taken_back=json.dumps(
                    [
                        [t.invoice_id, t.invoice_number, str(t.amount), str(t.invoice_amount_due)]
                        for t in refund.taken_back
                    ]
                ),
                reason=refund.reason,
                gateway_reference=refund.gateway_reference,
                created_at=refund.created_at,
            )
        )
        await self.session.flush()

    async def refunds_of(self, payment_id: str) -> list[Refund]:
        """The payment's refunds and reversals in order."""
        stmt = (
            select(PaymentRefundRow)
            .where(col(PaymentRefundRow.payment_id) == payment_id)
            .order_by(col(PaymentRefundRow.created_at), col(PaymentRefundRow.id))
        )
        return [
            Refund(
                id=row.id,
                payment_id=row.payment_id,
                kind=RefundKind(row.kind),
                amount=row.amount,
                account_credit_used=row.account_credit_used,
                taken_back=tuple(
                    TakenBack(i, n, Decimal(a), Decimal(d)) for i, n, a, d in json.loads(row.taken_back)
                ),
                reason=row.reason,
                created_at=row.created_at,
                currency=row.currency,
                gateway_reference=row.gateway_reference,
            )
            for row in (await self.session.exec(stmt)).all()
        ]

    async def _load(self, rows: Sequence[PaymentRow]) -> list[Payment]:
        allocations: dict[str, list[Allocation]] = defaultdict(list)
        attempts: dict[str, list[GatewayAttempt]] = defaultdict(list)
        if rows:
            ids = [row.id for row in rows]
            stmt = (
                select(PaymentAllocationRow)
                .where(col(PaymentAllocationRow.payment_id).in_(ids))
                .order_by(col(PaymentAllocationRow.payment_id), col(PaymentAllocationRow.position))
            )
            for a in (await self.session.exec(stmt)).all():
                allocations[a.payment_id].append(
                    Allocation(
                        a.position,
                        a.invoice_id,
                        a.invoice_number,
                        a.amount,
                        a.applied_at,
                        AllocationSource(a.source),
                        a.returned,
                    )
                )
            tries = (
                select(PaymentAttemptRow)
                .where(col(PaymentAttemptRow.payment_id).in_(ids))
                .order_by(col(PaymentAttemptRow.payment_id), col(PaymentAttemptRow.number))
            )
            for t in (await self.session.exec(tries)).all():
                attempts[t.payment_id].append(
                    GatewayAttempt(
                        number=t.number,
                        attempted_on=t.attempted_on,
                        attempted_at=t.attempted_at,
                        approved=t.outcome == "approved",
                        token=t.token,
                        decline_code=t.decline_code,
                        message=t.message,
                        gateway_reference=t.gateway_reference,
                        enhanced_data=json.loads(t.enhanced_data),
                    )
                )
        return [_payment(row, allocations[row.id], attempts[row.id]) for row in rows]

    # --- the invoices payments pay ---------------------------------------------------------

    async def open_invoices(self, account_id: str, currency: str) -> list[OpenInvoice]:
        """Open invoices of the account, oldest first (invoice date, then number)."""
        stmt = (
            select(InvoiceRow)
            .where(
                col(InvoiceRow.account_id) == account_id,
                col(InvoiceRow.currency) == currency,
                col(InvoiceRow.state).in_(_OPEN),
            )
            .order_by(col(InvoiceRow.invoice_date), col(InvoiceRow.number))
        )
        return [
            OpenInvoice(
                row.id, row.number or row.id, row.invoice_date, row.total - row.amount_paid - row.credited
            )
            for row in (await self.session.exec(stmt)).all()
            if row.invoice_date is not None
        ]

    async def invoice_id_of_number(self, number: str) -> str | None:
        """The invoice with this number."""
        stmt = select(InvoiceRow.id).where(col(InvoiceRow.number) == number)
        return (await self.session.exec(stmt)).first()


def _method_values(method: PaymentMethod) -> dict[str, Any]:
    card = method.card
    return {
        "id": method.id,
        "account_id": method.account_id,
        "kind": method.kind.value,
        "label": method.label,
        "token": card.token if card else None,
        "brand": card.brand if card else None,
        "last_four": card.last_four if card else None,
        "exp_month": card.exp_month if card else None,
        "exp_year": card.exp_year if card else None,
        "token_version": method.token_version,
        "mandate_id": method.mandate_id,
        "bank_last_four": method.bank_last_four,
        "created_at": method.created_at,
        "updated_at": method.updated_at,
    }


def _method(row: PaymentMethodRow, versions: list[TokenVersion]) -> PaymentMethod:
    card = None
    if row.token is not None and row.brand is not None and row.last_four is not None:
        card = CardToken(row.token, row.brand, row.last_four, row.exp_month or 1, row.exp_year or 1)
    return PaymentMethod(
        id=row.id,
        account_id=row.account_id,
        kind=PaymentMethodKind(row.kind),
        created_at=row.created_at,
        card=card,
        mandate_id=row.mandate_id,
        bank_last_four=row.bank_last_four,
        label=row.label,
        token_version=row.token_version,
        previous_tokens=versions,
        updated_at=row.updated_at,
        version=row.version,
    )


def _payment_values(payment: Payment) -> dict[str, Any]:
    return {
        "id": payment.id,
        "account_id": payment.account_id,
        "currency": payment.currency,
        "amount": payment.amount,
        "method_kind": payment.method_kind.value,
        "payment_method_id": payment.payment_method_id,
        "reference": payment.reference,
        "requested_invoice_ids": json.dumps(list(payment.requested_invoice_ids)),
        "state": payment.state.value,
        "received_on": payment.received_on,
        "received_at": payment.received_at,
        "unapplied": payment.unapplied,
        "refunded": payment.refunded,
        "next_retry_on": payment.next_retry_on,
        "reversal_reason": payment.reversal_reason,
        "lockbox_line": payment.lockbox_line,
        "created_at": payment.created_at,
    }


def _payment(row: PaymentRow, allocations: list[Allocation], attempts: list[GatewayAttempt]) -> Payment:
    return Payment(
        id=row.id,
        account_id=row.account_id,
        currency=row.currency,
        amount=row.amount,
        method_kind=PaymentMethodKind(row.method_kind),
        created_at=row.created_at,
        state=PaymentState(row.state),
        payment_method_id=row.payment_method_id,
        reference=row.reference,
        requested_invoice_ids=tuple(json.loads(row.requested_invoice_ids)),
        received_on=row.received_on,
        received_at=row.received_at,
        unapplied=row.unapplied,
        refunded=row.refunded,
        allocations=allocations,
        attempts=attempts,
        next_retry_on=row.next_retry_on,
        reversal_reason=row.reversal_reason,
        lockbox_line=row.lockbox_line,
        version=row.version,
    )
