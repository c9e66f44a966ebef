"""Factories of the credits' tests: issued invoices to credit, credit requests."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from invoicing.domain.credit_notes import CreditNote, CreditRequest, credit_lines, issue_credit_note
from invoicing.domain.invoice_numbers import DocumentNumber
from invoicing.domain.invoices import Invoice, InvoiceLine
from tests.invoicing.factories import draft, invoice_line

ISSUED_AT = datetime(2026, 8, 1, 12, tzinfo=UTC)


def issued(*lines: InvoiceLine, **overrides: Any) -> Invoice:
    """An issued (finalized) invoice, INV-2026-000001 dated 2026-08-01; by default two USD lines:
    3,000.00 + 266.25 tax and 92.59 + 8.22 tax (total 3,367.06)."""
    invoice = draft(
        *(lines or (invoice_line("sub_1"), invoice_line("ru_1", quantity="12345", unit_price="0.0075"))),
        **overrides,
    )
    invoice.finalize(number=DocumentNumber("INV-2026", 1), invoice_date=date(2026, 8, 1), at=ISSUED_AT)
    invoice.events.clear()
    return invoice


def credit(amount: str, charge_key: str | None = None) -> CreditRequest:
    """A net credit on a line (or the whole invoice)."""
    return CreditRequest(Decimal(amount), charge_key)


def credit_note(
    invoice: Invoice, *requests: CreditRequest, prior: list[CreditNote] | None = None
) -> CreditNote:
    """A credit note issued on `invoice` after `prior`, numbered after them."""
    before = prior or []
    return issue_credit_note(
        id=f"cn_{len(before) + 1}",
        invoice=invoice,
        lines=credit_lines(invoice, requests, before),
        number=DocumentNumber("CN-2026", len(before) + 1),
        note_date=date(2026, 8, 10),
        reason="Billed too many seats",
        at=ISSUED_AT,
    )
