"""Disputes in SQL: `disputes` rows <-> domain objects.

A new dispute is inserted in a savepoint: a line (or invoice) already disputed fails on
`uq_disputes_open_line` and is answered with a 409, the rest of the transaction going on.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from invoicing.domain.disputes import Dispute, DisputeConflict, DisputeState
from invoicing.handlers.disputes_port import DisputeFilters, DisputeRepository
from invoicing.models.credits import DisputeRow
from libs.platform.errors import Conflict
from libs.platform.pagination import Page, PageRequest, paginate

Row = DisputeRow


class SqlDisputeRepository(DisputeRepository):
    """Disputes over the invoicing database."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def find(self, dispute_id: str) -> Dispute | None:
        """One dispute, if it exists."""
        row = (await self.session.exec(select(Row).where(col(Row.id) == dispute_id))).first()
        return None if row is None else _dispute(row)

    async def add(self, dispute: Dispute) -> None:
        """Insert in a savepoint; a line disputed already is a 409 and changes nothing."""
        try:
            async with self.session.begin_nested():
                self.session.add(Row(**_row_values(dispute), version=1))
                await self.session.flush()
        except IntegrityError:
            what = f"line {dispute.charge_key!r} of invoice" if dispute.charge_key else "invoice"
            raise DisputeConflict(
                f"{what} {dispute.invoice_number} has an open dispute already; resolve it first"
            ) from None
        dispute.version = 1

    async def save(self, dispute: Dispute) -> None:
        """Write a changed dispute; a stale copy is a 409."""
        result: Any = await self.session.exec(
            update(Row)
            .where(col(Row.id) == dispute.id, col(Row.version) == dispute.version)
            .values(**_row_values(dispute), version=dispute.version + 1)
        )
        if result.rowcount != 1:
            raise Conflict(f"dispute {dispute.id!r} changed meanwhile; read it and retry")
        dispute.version += 1

    async def page(self, filters: DisputeFilters, page: PageRequest) -> Page[Dispute]:
        """A page ordered by id."""
        return await paginate(self.session, select(Row).where(*_filters(filters)), Row.id, page, _dispute)


def _row_values(dispute: Dispute) -> dict[str, Any]:
    return {
        "id": dispute.id,
        "invoice_id": dispute.invoice_id,
        "invoice_number": dispute.invoice_number,
        "account_id": dispute.account_id,
        "currency": dispute.currency,
        "line_key": dispute.line_key,
        "disputed_amount": dispute.disputed_amount,
        "reason": dispute.reason,
        "state": dispute.state.value,
        "resolution_note": dispute.resolution_note,
        "credited_amount": dispute.credited_amount,
        "credit_note_id": dispute.credit_note_id,
        "opened_at": dispute.opened_at,
        "resolved_at": dispute.resolved_at,
    }


def _dispute(row: Row) -> Dispute:
    return Dispute(
        id=row.id,
        invoice_id=row.invoice_id,
        invoice_number=row.invoice_number,
        account_id=row.account_id,
        currency=row.currency,
        reason=row.reason,
        opened_at=row.opened_at,
        charge_key=row.line_key or None,
        disputed_amount=row.disputed_amount,
        state=DisputeState(row.state),
        resolution_note=row.resolution_note,
        credited_amount=row.credited_amount,
        credit_note_id=row.credit_note_id,
        resolved_at=row.resolved_at,
        version=row.version,
    )


def _filters(filters: DisputeFilters) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if filters.account_id is not None:
        where.append(col(Row.account_id) == filters.account_id)
    if filters.invoice_id is not None:
        where.append(col(Row.invoice_id) == filters.invoice_id)
    if filters.state is not None:
        where.append(col(Row.state) == filters.state.value)
    return where
