"""Credit notes in SQL: `credit_notes` and `credit_note_lines` rows <-> domain objects.

Numbers come from the invoices' series counter (`invoice_number_series`, series `CN-YYYY`),
incremented in the issuing transaction; the invoice's row is locked first (`invoices.lock`), so
what remains creditable is checked by one transaction at a time.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import ColumnElement
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from invoicing.domain.credit_notes import CreditNote, CreditNoteLine, CreditNoteState
from invoicing.domain.invoice_numbers import DocumentNumber
from invoicing.handlers.credit_notes_port import CreditNoteFilters, CreditNoteRepository
from invoicing.models.credits import CreditNoteLineRow, CreditNoteRow
from libs.platform.pagination import Page, PageRequest, paginate

Row = CreditNoteRow
LineRow = CreditNoteLineRow


class SqlCreditNoteRepository(CreditNoteRepository):
    """Credit notes over the invoicing database."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def find(self, credit_note_id: str) -> CreditNote | None:
        """One credit note with its lines, if it exists."""
        found = await self._notes(col(Row.id) == credit_note_id)
        return found[0] if found else None

    async def of_invoice(self, invoice_id: str) -> list[CreditNote]:
        """Every credit note of an invoice, in issue order."""
        return await self._notes(col(Row.invoice_id) == invoice_id)

    async def add(self, note: CreditNote) -> None:
        """Insert the note, then its lines."""
        self.session.add(
            Row(
                id=note.id,
                invoice_id=note.invoice_id,
                invoice_number=note.invoice_number,
                account_id=note.account_id,
                customer_id=note.customer_id,
                currency=note.currency,
                state=note.state.value,
                series=note.number.series,
                sequence_number=note.number.sequence,
                number=note.number_text,
                note_date=note.note_date,
                reason=note.reason,
                subtotal=note.subtotal,
                tax_total=note.tax_total,
                total=note.total,
                account_credit=note.account_credit,
                dispute_id=note.dispute_id,
                created_at=note.created_at,
            )
        )
        await self.session.flush()
        self.session.add_all(
            LineRow(
                credit_note_id=note.id,
                position=position,
                charge_key=line.charge_key,
                description=line.description,
                amount=line.amount,
                tax_amount=line.tax_amount,
                tax_rate=line.tax_rate,
                tax_code=line.tax_code,
                tax_jurisdiction=line.tax_jurisdiction,
            )
            for position, line in enumerate(note.lines)
        )
        await self.session.flush()

    async def page(self, filters: CreditNoteFilters, page: PageRequest) -> Page[CreditNote]:
        """A page ordered by id, their lines read in one more query."""
        rows = await paginate(self.session, select(Row).where(*_filters(filters)), Row.id, page, lambda r: r)
        return Page[CreditNote](
            data=await self._load(rows.data), next_cursor=rows.next_cursor, has_more=rows.has_more
        )

    async def _notes(self, *where: ColumnElement[bool]) -> list[CreditNote]:
        rows = (await self.session.exec(select(Row).where(*where).order_by(col(Row.id)))).all()
        return await self._load(rows)

    async def _load(self, rows: Sequence[Row]) -> list[CreditNote]:
        lines: dict[str, list[CreditNoteLine]] = defaultdict(list)
        if rows:
            stmt = (
                select(LineRow)
                .where(col(LineRow.credit_note_id).in_([row.id for row in rows]))
                .order_by(col(LineRow.credit_note_id), col(LineRow.position))
            )
            for line in (await self.session.exec(stmt)).all():
                lines[line.credit_note_id].append(
                    CreditNoteLine(
                        charge_key=line.charge_key,
                        description=line.description,
                        amount=line.amount,
                        tax_amount=line.tax_amount,
                        tax_rate=line.tax_rate,
                        tax_code=line.tax_code,
                        tax_jurisdiction=line.tax_jurisdiction,
                    )
                )
        return [
            CreditNote(
                id=row.id,
                invoice_id=row.invoice_id,
                invoice_number=row.invoice_number,
                account_id=row.account_id,
                customer_id=row.customer_id,
                currency=row.currency,
                number=DocumentNumber(row.series, row.sequence_number),
                note_date=row.note_date,
                reason=row.reason,
                lines=tuple(lines[row.id]),
                created_at=row.created_at,
                account_credit=row.account_credit,
                dispute_id=row.dispute_id,
                state=CreditNoteState(row.state),
            )
            for row in rows
        ]


def _filters(filters: CreditNoteFilters) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if filters.account_id is not None:
        where.append(col(Row.account_id) == filters.account_id)
    if filters.invoice_id is not None:
        where.append(col(Row.invoice_id) == filters.invoice_id)
    if filters.currency is not None:
        where.append(col(Row.currency) == filters.currency)
    if filters.note_date_from is not None:
        where.append(col(Row.note_date) >= filters.note_date_from)
    if filters.note_date_to is not None:
        where.append(col(Row.note_date) <= filters.note_date_to)
    return where
