"""Credit-note records -> `credit_note.issued`, keyed by the account."""

from __future__ import annotations

from invoicing.domain.credit_notes import CreditNoteIssuedRecord
from libs.contracts import invoicing as contracts
from libs.contracts.envelope import EventPayload
from libs.platform.money import amount_out, percent_out


def outgoing_of(record: CreditNoteIssuedRecord) -> tuple[EventPayload, str]:
    """The issued note as ERP books it, with the invoice's amount due after it."""
    note, invoice = record.credit_note, record.invoice
    currency = note.currency
    payload = contracts.CreditNoteIssued(
        credit_note_id=note.id,
        number=note.number_text,
        invoice_id=note.invoice_id,
        invoice_number=note.invoice_number,
        account_id=note.account_id,
        customer_id=note.customer_id,
        currency=currency,
        note_date=note.note_date,
        reason=note.reason,
        dispute_id=note.dispute_id,
        lines=[
            contracts.CreditNoteLinePayload(
                charge_key=line.charge_key,
                description=line.description,
                amount=amount_out(line.amount, currency),
                tax_code=line.tax_code,
                tax_rate=percent_out(line.tax_rate),
                tax_amount=amount_out(line.tax_amount, currency),
                tax_jurisdiction=line.tax_jurisdiction,
            )
            for line in note.lines
        ],
        subtotal=amount_out(note.subtotal, currency),
        tax_total=amount_out(note.tax_total, currency),
        total=amount_out(note.total, currency),
        invoice_credited=amount_out(invoice.credited, currency),
        invoice_amount_due=amount_out(invoice.amount_due, currency),
        invoice_state=invoice.state.value,
        account_credit=amount_out(note.account_credit, currency),
        issued_at=note.created_at,
    )
    return payload, note.account_id
