"""Invoice records -> `invoice.drafted` / `invoice.finalized` / `invoice.voided`, keyed by the account."""

from __future__ import annotations

from typing import TypeVar

from invoicing.domain.invoices import (
    Invoice,
    InvoiceDraftedRecord,
    InvoiceFinalizedRecord,
    InvoiceLine,
    InvoiceRecord,
)
from libs.contracts import invoicing as contracts
from libs.contracts.envelope import EventPayload
from libs.platform.money import amount_out, decimal_out, percent_out, unit_price_out

Outgoing = tuple[EventPayload, str]
"""An invoice payload and its partition key (the account id)."""


def outgoing_of(record: InvoiceRecord) -> Outgoing:
    """The contract payload of what an invoice recorded, keyed by its account."""
    invoice = record.invoice
    payload: EventPayload
    if isinstance(record, InvoiceFinalizedRecord):
        payload = invoice_finalized(invoice)
    elif isinstance(record, InvoiceDraftedRecord):
        payload = invoice_drafted(invoice, record.change)
    else:
        assert invoice.voided_at is not None
        payload = contracts.InvoiceVoided(
            invoice_id=invoice.id,
            number=record.number,
            account_id=invoice.account_id,
            currency=invoice.currency,
            total=amount_out(invoice.total, invoice.currency),
            reason=invoice.void_reason,
            voided_at=invoice.voided_at,
        )
    return payload, invoice.account_id


def invoice_drafted(invoice: Invoice, change: str) -> contracts.InvoiceDrafted:
    """A draft as the bill run's observers see it."""
    currency = invoice.currency
    return contracts.InvoiceDrafted(
        invoice_id=invoice.id,
        change="memo_changed" if change == "memo_changed" else "drafted",
        account_id=invoice.account_id,
        currency=currency,
        run_kind=invoice.run_kind.value,
        run_source_id=invoice.run_source_id,
        period_start=invoice.period_start,
        period_end=invoice.period_end,
        line_count=len(invoice.lines),
        subtotal=amount_out(invoice.subtotal, currency),
        tax_total=amount_out(invoice.tax_total, currency),
        total=amount_out(invoice.total, currency),
        memo=invoice.memo,
        drafted_at=invoice.created_at,
    )


def invoice_finalized(invoice: Invoice) -> contracts.InvoiceFinalized:
    """The issued invoice as ERP books it."""
    assert invoice.number_text is not None and invoice.invoice_date is not None
    assert invoice.due_date is not None and invoice.finalized_at is not None
    currency = invoice.currency
    return contracts.InvoiceFinalized(
        invoice_id=invoice.id,
        number=invoice.number_text,
        account_id=invoice.account_id,
        customer_id=invoice.bill_to.customer_id,
        bill_to_name=invoice.bill_to.name,
        currency=currency,
        run_kind=invoice.run_kind.value,
        period_start=invoice.period_start,
        period_end=invoice.period_end,
        invoice_date=invoice.invoice_date,
        due_date=invoice.due_date,
        payment_terms_days=invoice.payment_terms_days,
        subtotal=amount_out(invoice.subtotal, currency),
        discount_total=amount_out(invoice.discount_total, currency),
        tax_total=amount_out(invoice.tax_total, currency),
        account_credit_carried=amount_out(invoice.account_credit_carried, currency),
        total=amount_out(invoice.total, currency),
        amount_due=amount_out(invoice.amount_due, currency),
        tax_exemption_note=invoice.tax_exemption_note,
        lines=[line_payload(line) for line in invoice.lines],
        finalized_at=invoice.finalized_at,
    )


Line = TypeVar("Line", bound=contracts.InvoiceLinePayload)


def line_payload(line: InvoiceLine, model: type[Line] = contracts.InvoiceLinePayload) -> Line:  # type: ignore[assignment]
    """One line as ERP and the API see it (`model`: the contract, or the API's view of it, which
    adds nothing): the one mapping of a line's fields to the wire."""
    currency = line.currency
    return model(
        charge_key=line.charge_key,
        kind=line.kind,
        description=line.description,
        subscription_id=line.subscription_id,
        product_id=line.product_id,
        price_id=line.price_id,
        price_version=line.price_version,
        period_start=line.period_start,
        period_end=line.period_end,
        quantity=decimal_out(line.quantity),
        unit_price=unit_price_out(line.unit_price),
        list_amount=amount_out(line.list_amount, currency),
        discount_amount=amount_out(line.discount_amount, currency),
        amount=amount_out(line.amount, currency),
        tax_code=line.tax_code,
        tax_rate=percent_out(line.tax_rate),
        tax_amount=amount_out(line.tax_amount, currency),
        tax_jurisdiction=line.tax_jurisdiction,
        source_kind=line.source_kind,
        source_id=line.source_id,
    )
