"""Adjustments in SQL: `adjustments` rows <-> domain objects; "applied" derived from the invoice lines.

An adjustment is applied when a line keyed `adjustment:{id}` of its account sits on an invoice that
is not void (`invoice_lines.voided` follows its invoice): nothing is marked when a bill run stores
its drafts, and a voided invoice gives its adjustments back to the next run. The look-up uses the
lines' index on (account_id, charge_key, billed_after).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import ColumnElement, exists, literal, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from invoicing.domain.adjustments import Adjustment, AdjustmentDirection, AdjustmentKind, AdjustmentState
from invoicing.domain.billing_inputs import PendingAdjustment
from invoicing.domain.charge_lines import adjustment_key
from invoicing.handlers.adjustments_port import AdjustmentFilters, AdjustmentRepository
from invoicing.models.credits import AdjustmentRow
from invoicing.models.invoices import InvoiceLineRow
from invoicing.repository.billing_watermarks import clear_watermarks
from libs.platform.errors import Conflict
from libs.platform.pagination import Page, PageRequest, paginate
from libs.platform.value_sets import in_values

Row = AdjustmentRow
LineRow = InvoiceLineRow


def _billing_line() -> ColumnElement[bool]:
    # A line of an invoice that is not void billing this adjustment (correlated to `adjustments`).
    return exists().where(
        col(LineRow.account_id) == col(Row.account_id),
        col(LineRow.charge_key) == literal("adjustment:").concat(col(Row.id)),
        col(LineRow.voided).is_(False),
    )


class SqlAdjustmentRepository(AdjustmentRepository):
    """Adjustments over the invoicing database."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def find(self, adjustment_id: str, *, lock: bool = False) -> Adjustment | None:
        """One adjustment with its applied invoice; `lock` takes its row lock (FOR UPDATE)."""
        stmt = select(Row).where(col(Row.id) == adjustment_id).execution_options(populate_existing=True)
        if lock:
            stmt = stmt.with_for_update()
        row = (await self.session.exec(stmt)).first()
        if row is None:
            return None
        return (await self._load([row]))[0]

    async def add(self, adjustment: Adjustment) -> None:
        """Insert the adjustment."""
        self.session.add(Row(**_row_values(adjustment), version=1))
        await self.session.flush()
        await clear_watermarks(self.session, [adjustment.account_id])  # due on its next invoice
        adjustment.version = 1

    async def save(self, adjustment: Adjustment) -> None:
        """Write a changed adjustment; a stale copy is a 409."""
        result: Any = await self.session.exec(
            update(Row)
            .where(col(Row.id) == adjustment.id, col(Row.version) == adjustment.version)
            .values(**_row_values(adjustment), version=adjustment.version + 1)
        )
        if result.rowcount != 1:
            raise Conflict(f"adjustment {adjustment.id!r} changed meanwhile; read it and retry")
        # A cancelled adjustment leaves the account's next invoice: a chunk prepared with it
        # (`account_billing.PreparedChunk`) must see the account moved and draft it again.
        await clear_watermarks(self.session, [adjustment.account_id])
        adjustment.version += 1

    async def page(self, filters: AdjustmentFilters, page: PageRequest) -> Page[Adjustment]:
        """A page ordered by id; the applied invoices of the page read in one more query."""
        rows = await paginate(self.session, select(Row).where(*_filters(filters)), Row.id, page, lambda r: r)
        adjustments = await self._load(rows.data)
        return Page[Adjustment](data=adjustments, next_cursor=rows.next_cursor, has_more=rows.has_more)

    async def pending_adjustments(self, account_ids: Collection[str]) -> dict[str, list[PendingAdjustment]]:
        """The pending adjustments of the chunk, by account, in one query (rows locked: see the port)."""
        found: dict[str, list[PendingAdjustment]] = defaultdict(list)
        if not account_ids:
            return found
        stmt = (
            select(Row)
            .where(
                in_values(col(Row.account_id), account_ids), col(Row.cancelled).is_(False), ~_billing_line()
            )
            .order_by(col(Row.account_id), col(Row.effective_date), col(Row.id))
            .with_for_update(of=Row)
        )
        for row in (await self.session.exec(stmt)).all():
            found[row.account_id].append(_adjustment(row, None).pending())
        return found

    async def _load(self, rows: Sequence[Row]) -> list[Adjustment]:
        applied = await self._applied_invoices(rows)
        return [_adjustment(row, applied.get(adjustment_key(row.id))) for row in rows]

    async def _applied_invoices(self, rows: Sequence[Row]) -> dict[str, str]:
        # The invoice (not void) billing each adjustment, by charge key: one query for the rows.
        if not rows:
            return {}
        keys = [adjustment_key(row.id) for row in rows]
        stmt = select(LineRow.charge_key, LineRow.invoice_id).where(
            col(LineRow.account_id).in_({row.account_id for row in rows}),
            col(LineRow.charge_key).in_(keys),
            col(LineRow.voided).is_(False),
        )
        return {str(key): str(invoice_id) for key, invoice_id in (await self.session.exec(stmt)).all()}


def _row_values(adjustment: Adjustment) -> dict[str, Any]:
    return {
        "id": adjustment.id,
        "account_id": adjustment.account_id,
        "currency": adjustment.currency,
        "direction": adjustment.direction.value,
        "kind": adjustment.kind.value,
        "amount": adjustment.amount,
        "reason": adjustment.reason,
        "effective_date": adjustment.effective_date,
        "subscription_id": adjustment.subscription_id,
        "service_period_start": adjustment.service_period_start,
        "service_period_end": adjustment.service_period_end,
        "invoice_id": adjustment.invoice_id,
        "dispute_id": adjustment.dispute_id,
        "cancelled": adjustment.cancelled,
        "cancelled_at": adjustment.cancelled_at,
        "cancel_reason": adjustment.cancel_reason,
        "created_at": adjustment.created_at,
    }


def _adjustment(row: Row, applied_invoice_id: str | None) -> Adjustment:
    return Adjustment(
        id=row.id,
        account_id=row.account_id,
        currency=row.currency,
        direction=AdjustmentDirection(row.direction),
        kind=AdjustmentKind(row.kind),
        amount=row.amount,
        reason=row.reason,
        effective_date=row.effective_date,
        created_at=row.created_at,
        subscription_id=row.subscription_id,
        service_period_start=row.service_period_start,
        service_period_end=row.service_period_end,
        invoice_id=row.invoice_id,
        dispute_id=row.dispute_id,
        cancelled=row.cancelled,
        cancelled_at=row.cancelled_at,
        cancel_reason=row.cancel_reason,
        applied_invoice_id=applied_invoice_id,
        version=row.version,
    )


def _filters(filters: AdjustmentFilters) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if filters.account_id is not None:
        where.append(col(Row.account_id) == filters.account_id)
    if filters.kind is not None:
        where.append(col(Row.kind) == filters.kind.value)
    if filters.direction is not None:
        where.append(col(Row.direction) == filters.direction.value)
    if filters.subscription_id is not None:
        where.append(col(Row.subscription_id) == filters.subscription_id)
    if filters.state is AdjustmentState.CANCELLED:
        where.append(col(Row.cancelled).is_(True))
    elif filters.state is AdjustmentState.APPLIED:
        where.extend([col(Row.cancelled).is_(False), _billing_line()])
    elif filters.state is AdjustmentState.PENDING:
        where.extend([col(Row.cancelled).is_(False), ~_billing_line()])
    return where
