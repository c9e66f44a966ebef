"""Requests and views of invoices (`/v1/invoices`).

Amounts are strings with exactly the currency's minor units ("3000.00", "1235" in JPY); unit
prices and quantities in their shortest exact form; tax rates are percents ("8.875").
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from invoicing.domain.invoices import Invoice, InvoiceLine, InvoiceState, RunKind
from invoicing.events.invoices import line_payload
from libs.contracts.invoicing import InvoiceLinePayload
from libs.contracts.types import Amount
from libs.platform.money import amount_out
from libs.platform.text import MULTI_LINE

Note = Annotated[str, StringConstraints(max_length=2000), MULTI_LINE]
Reason = Annotated[str, StringConstraints(max_length=500), MULTI_LINE]


class InvoiceVoid(BaseModel):
    """Why an invoice is voided (a draft is discarded; an issued invoice must have no payment)."""

    model_config = ConfigDict(extra="forbid")

    reason: Reason | None = Field(default=None, examples=["billed to the wrong account"])


class InvoiceChange(BaseModel):
    """What may change on a draft: the note printed on it. A finalized invoice is never edited."""

    model_config = ConfigDict(extra="forbid")

    memo: Note | None = Field(description="Printed under the lines; null removes it.", examples=["PO 4711"])


class BillToPublic(BaseModel):
    """Whom the invoice is addressed to."""

    name: str
    customer_id: str
    email: str | None
    country: str | None
    region: str | None
    postal_code: str | None
    tax_certificate: str | None = Field(description="The exemption certificate, when it exempts the invoice.")


class InvoiceLinePublic(InvoiceLinePayload):
    """One line: its period, quantity, unit price, discount, amount and tax — the fields and wire
    form of the line `invoice.finalized` carries (`events.invoices.line_payload` maps both)."""


class InvoicePublic(BaseModel):
    """An invoice: its state, number and dates once finalized, bill-to, lines and totals."""

    id: str = Field(examples=["inv_01JD0S6Y4Q7V3J6C3M9W1K2X8Z"])
    number: str | None = Field(description="INV-YYYY-NNNNNN, given at finalization.")
    state: InvoiceState
    account_id: str
    currency: str
    run_kind: RunKind
    run_source_id: str = Field(
        description="What an on-demand run bills (a fulfillment id); empty for a cycle."
    )
    period_start: date
    period_end: date = Field(description="Exclusive end of the billed period.")
    invoice_date: date | None
    due_date: date | None = Field(description="Invoice date + payment terms.")
    payment_terms_days: int
    bill_to: BillToPublic
    locale: str
    lines: list[InvoiceLinePublic]
    subtotal: Amount = Field(
        description="Sum of the lines' amounts, tax-exclusive (the `account_credit` line aside)."
    )
    discount_total: Amount
    tax_total: Amount
    total: Amount = Field(description="subtotal + tax_total + account_credit_carried; never negative.")
    amount_paid: Amount
    credited: Amount = Field(description="The totals of the credit notes issued against it.")
    written_off: Amount = Field(description="What collections wrote off (bad debt).")
    amount_due: Amount = Field(description="total - amount_paid - credited - written_off, never below 0.")
    account_credit_carried: Amount = Field(
        description="What its credits exceeded its charges by: carried to the account as credit (its "
        "`account_credit` line), so the invoice totals 0; the next invoices take it when issued."
    )
    tax_exemption_note: str | None
    memo: str | None
    created_at: datetime
    finalized_at: datetime | None
    voided_at: datetime | None
    void_reason: str | None


def invoice_public(invoice: Invoice) -> InvoicePublic:
    """The API view of an invoice."""
    currency = invoice.currency
    bill_to = invoice.bill_to
    return InvoicePublic(
        id=invoice.id,
        number=invoice.number_text,
        state=invoice.state,
        account_id=invoice.account_id,
        currency=currency,
        run_kind=invoice.run_kind,
        run_source_id=invoice.run_source_id,
        period_start=invoice.period_start,
        period_end=invoice.period_end,
        invoice_date=invoice.invoice_date,
        due_date=invoice.due_date,
        payment_terms_days=invoice.payment_terms_days,
        bill_to=BillToPublic(
            name=bill_to.name,
            customer_id=bill_to.customer_id,
            email=bill_to.email,
            country=bill_to.country,
            region=bill_to.region,
            postal_code=bill_to.postal_code,
            tax_certificate=bill_to.tax_certificate,
        ),
        locale=invoice.locale,
        lines=[_line(line) for line in invoice.lines],
        subtotal=amount_out(invoice.subtotal, currency),
        discount_total=amount_out(invoice.discount_total, currency),
        tax_total=amount_out(invoice.tax_total, currency),
        total=amount_out(invoice.total, currency),
        amount_paid=amount_out(invoice.amount_paid, currency),
        credited=amount_out(invoice.credited, currency),
        written_off=amount_out(invoice.written_off, currency),
        amount_due=amount_out(invoice.amount_due, currency),
        account_credit_carried=amount_out(invoice.account_credit_carried, currency),
        tax_exemption_note=invoice.tax_exemption_note,
        memo=invoice.memo,
        created_at=invoice.created_at,
        finalized_at=invoice.finalized_at,
        voided_at=invoice.voided_at,
        void_reason=invoice.void_reason,
    )


def _line(line: InvoiceLine) -> InvoiceLinePublic:
    return line_payload(line, InvoiceLinePublic)
