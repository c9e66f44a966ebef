"""Use cases of credit notes: issue one against an issued invoice, read and list them.

The invoice's row is locked before what remains creditable is read (`invoices.lock`), so two
notes issued at once on one invoice are checked one after the other: the second sees the first
and is refused (422) if together they would credit more than remains. The note, its number
(`CN-YYYY`, gap-free), the invoice's credited total, the audit record and `credit_note.issued`
commit together.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING

from invoicing.domain.credit_notes import (
    CreditNote,
    CreditRequest,
    credit_lines,
    issue_credit_note,
    require_creditable,
)
from invoicing.domain.invoice_numbers import DocumentNumber, credit_note_series
from invoicing.events.credit_notes import outgoing_of
from invoicing.handlers.credit_notes_port import CreditNoteFilters
from libs.platform.ids import new_id
from libs.platform.pagination import Page, PageRequest

if TYPE_CHECKING:
    from invoicing.handlers.unit_of_work import InvoicingUnitOfWork


async def issue(
    *,
    uow: InvoicingUnitOfWork,
    invoice_id: str,
    lines: Sequence[CreditRequest],
    reason: str,
    currency: str | None = None,
    note_date: date | None = None,
) -> CreditNote:
    """Issue a credit note (404 unknown invoice, 409 a draft or void one, 422 another currency or more
    than remains); the invoice's amount due falls by its total."""
    note = await stage_credit_note(
        uow=uow, invoice_id=invoice_id, lines=lines, reason=reason, currency=currency, note_date=note_date
    )
    await uow.commit()
    return note


async def stage_credit_note(
    *,
    uow: InvoicingUnitOfWork,
    invoice_id: str,
    lines: Sequence[CreditRequest],
    reason: str,
    currency: str | None = None,
    note_date: date | None = None,
    dispute_id: str | None = None,
) -> CreditNote:
    """Stage a credit note in `uow` (not committed): the invoice locked, the note numbered and added."""
    invoice = await uow.invoices.lock(invoice_id)
    require_creditable(invoice, currency)
    prior = await uow.credit_notes.of_invoice(invoice.id)
    credited = credit_lines(invoice, lines, prior)
    issued_on = note_date or uow.business_date(invoice.time_zone)
    series = credit_note_series(issued_on)
    number = DocumentNumber(series, await uow.invoices.next_number(series))
    note = issue_credit_note(
        id=new_id("cn"),
        invoice=invoice,
        lines=credited,
        number=number,
        note_date=issued_on,
        reason=reason,
        at=uow.clock.now(),
        dispute_id=dispute_id,
    )
    await uow.invoices.save(invoice)
    await uow.credit_notes.add(note)
    uow.emit_recorded(note.events, outgoing_of)
    uow.audit(
        "credit_note.issued",
        "credit_note",
        note.id,
        {
            "number": note.number_text,
            "invoice_id": invoice.id,
            "total": str(note.total),
            "invoice_amount_due": str(invoice.amount_due),
            "account_credit": str(note.account_credit),
            "dispute_id": dispute_id,
        },
    )
    return note


async def get_credit_note(*, uow: InvoicingUnitOfWork, credit_note_id: str) -> CreditNote:
    """One credit note (404 when unknown)."""
    return await uow.credit_notes.get(credit_note_id)


async def list_credit_notes(
    *, uow: InvoicingUnitOfWork, filters: CreditNoteFilters, page: PageRequest
) -> Page[CreditNote]:
    """A page of credit notes in issue order, narrowed by account, invoice, currency and note dates."""
    return await uow.credit_notes.page(filters, page)
