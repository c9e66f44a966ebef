"""Invoices <-> their rows: what `invoices` and `invoice_lines` store of an invoice, and back."""

from __future__ import annotations

from typing import Any

from invoicing.domain.invoice_numbers import DocumentNumber
from invoicing.domain.invoices import BillTo, Invoice, InvoiceLine, InvoiceState, RunKind
from invoicing.handlers.invoices_port import BillingPeriodKey
from invoicing.models.invoices import InvoiceLineRow, InvoiceRow

Row = InvoiceRow
LineRow = InvoiceLineRow


def invoice_values(invoice: Invoice) -> dict[str, Any]:
    """The `invoices` row of an invoice, by column."""
    number = invoice.number
    return {
        "id": invoice.id,
        "account_id": invoice.account_id,
        "customer_id": invoice.bill_to.customer_id,
        "currency": invoice.currency,
        "period_start": invoice.period_start,
        "period_end": invoice.period_end,
        "run_kind": invoice.run_kind.value,
        "run_source_id": invoice.run_source_id,
        "state": invoice.state.value,
        "bill_to_name": invoice.bill_to.name,
        "bill_to_email": invoice.bill_to.email,
        "bill_to_country": invoice.bill_to.country,
        "bill_to_region": invoice.bill_to.region,
        "bill_to_postal_code": invoice.bill_to.postal_code,
        "tax_certificate": invoice.bill_to.tax_certificate,
        "time_zone": invoice.time_zone,
        "payment_terms_days": invoice.payment_terms_days,
        "locale": invoice.locale,
        "tax_exemption_note": invoice.tax_exemption_note,
        "memo": invoice.memo,
        "series": None if number is None else number.series,
        "sequence_number": None if number is None else number.sequence,
        "number": invoice.number_text,
        "invoice_date": invoice.invoice_date,
        "due_date": invoice.due_date,
        "subtotal": invoice.subtotal,
        "discount_total": invoice.discount_total,
        "tax_total": invoice.tax_total,
        "total": invoice.total,
        "amount_paid": invoice.amount_paid,
        "credited": invoice.credited,
        "written_off": invoice.written_off,
        "written_off_at": invoice.written_off_at,
        "created_at": invoice.created_at,
        "finalized_at": invoice.finalized_at,
        "voided_at": invoice.voided_at,
        "void_reason": invoice.void_reason,
    }


def row_key(row: Row) -> BillingPeriodKey:
    """The billing period key an `invoices` row is stored under."""
    return BillingPeriodKey(
        row.account_id,
        row.currency,
        row.period_start,
        row.period_end,
        RunKind(row.run_kind),
        row.run_source_id,
    )


def line_row(invoice: Invoice, position: int, line: InvoiceLine) -> LineRow:
    """The `invoice_lines` row of an invoice's line at `position`."""
    return LineRow(**line_values(invoice, position, line))


def line_values(invoice: Invoice, position: int, line: InvoiceLine) -> dict[str, Any]:
    """The `invoice_lines` row of an invoice's line at `position`, by column."""
    return {
        "invoice_id": invoice.id,
        "position": position,
        "account_id": invoice.account_id,
        "charge_key": line.charge_key,
        "billed_after": line.billed_after,
        "voided": invoice.state is InvoiceState.VOID,
        "kind": line.kind,
        "description": line.description,
        "currency": line.currency,
        "subscription_id": line.subscription_id,
        "product_id": line.product_id,
        "price_id": line.price_id,
        "price_version": line.price_version,
        "period_start": line.period_start,
        "period_end": line.period_end,
        "quantity": line.quantity,
        "unit_price": line.unit_price,
        "list_amount": line.list_amount,
        "discount_amount": line.discount_amount,
        "amount": line.amount,
        "tax_code": line.tax_code,
        "tax_rate": line.tax_rate,
        "tax_amount": line.tax_amount,
        "tax_jurisdiction": line.tax_jurisdiction,
        "source_kind": line.source_kind,
        "source_id": line.source_id,
    }


def invoice_line(row: LineRow) -> InvoiceLine:
    """The line an `invoice_lines` row holds."""
    return InvoiceLine(
        charge_key=row.charge_key,
        kind=row.kind,
        description=row.description,
        account_id=row.account_id,
        currency=row.currency,
        period_start=row.period_start,
        period_end=row.period_end,
        quantity=row.quantity,
        unit_price=row.unit_price,
        list_amount=row.list_amount,
        discount_amount=row.discount_amount,
        amount=row.amount,
        source_kind=row.source_kind,
        source_id=row.source_id,
        subscription_id=row.subscription_id,
        product_id=row.product_id,
        price_id=row.price_id,
        price_version=row.price_version,
        tax_code=row.tax_code,
        tax_rate=row.tax_rate,
        tax_amount=row.tax_amount,
        tax_jurisdiction=row.tax_jurisdiction,
        billed_after=row.billed_after,
    )


def invoice_of(row: Row, lines: list[InvoiceLine]) -> Invoice:
    """The invoice an `invoices` row and its lines hold."""
    number = None
    if row.series is not None and row.sequence_number is not None:
        number = DocumentNumber(row.series, row.sequence_number)
    return Invoice(
        id=row.id,
        account_id=row.account_id,
        currency=row.currency,
        period_start=row.period_start,
        period_end=row.period_end,
        run_kind=RunKind(row.run_kind),
        run_source_id=row.run_source_id,
        bill_to=BillTo(
            name=row.bill_to_name,
            customer_id=row.customer_id,
            email=row.bill_to_email,
            country=row.bill_to_country,
            region=row.bill_to_region,
            postal_code=row.bill_to_postal_code,
            tax_certificate=row.tax_certificate,
        ),
        time_zone=row.time_zone,
        payment_terms_days=row.payment_terms_days,
        lines=tuple(lines),
        created_at=row.created_at,
        state=InvoiceState(row.state),
        locale=row.locale,
        tax_exemption_note=row.tax_exemption_note,
        memo=row.memo,
        number=number,
        invoice_date=row.invoice_date,
        due_date=row.due_date,
        amount_paid=row.amount_paid,
        credited=row.credited,
        written_off=row.written_off,
        written_off_at=row.written_off_at,
        finalized_at=row.finalized_at,
        voided_at=row.voided_at,
        void_reason=row.void_reason,
        version=row.version,
    )
