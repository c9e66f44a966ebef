"""Invoices <-> their rows: what `invoices` and `invoice_lines` store of an invoice, and back."""

from __future__ import annotations

from typing import Any, Final

from invoicing.domain.invoice_numbers import DocumentNumber
from invoicing.domain.invoices import BillTo, Invoice, InvoiceLine, InvoiceState, RunKind
from invoicing.handlers.invoices_port import BillingPeriodKey
from invoicing.models.invoices import InvoiceLineRow, InvoiceRow

Row = InvoiceRow
LineRow = InvoiceLineRow


INVOICE_COLUMNS: Final = (
    "id",
    "account_id",
    "customer_id",
    "currency",
    "period_start",
    "period_end",
    "run_kind",
    "run_source_id",
    "state",
    "bill_to_name",
    "bill_to_email",
    "bill_to_country",
    "bill_to_region",
    "bill_to_postal_code",
    "tax_certificate",
    "time_zone",
    "payment_terms_days",
    "locale",
    "tax_exemption_note",
    "memo",
    "series",
    "sequence_number",
    "number",
    "invoice_date",
    "due_date",
    "subtotal",
    "discount_total",
    "tax_total",
    "total",
    "amount_paid",
    "credited",
    "written_off",
    "written_off_at",
    "created_at",
    "finalized_at",
    "voided_at",
    "void_reason",
)
"""The `invoices` columns an invoice is written to, in the order of `invoice_row`'s values."""


def invoice_row(invoice: Invoice) -> tuple[Any, ...]:
    """The `invoices` row of an invoice: its values in `INVOICE_COLUMNS` order (a tuple, as the
    driver takes it: a bill run's chunk writes hundreds, and a dict a row cost its building)."""
    number = invoice.number
    bill_to = invoice.bill_to
    return (
        invoice.id,
        invoice.account_id,
        bill_to.customer_id,
        invoice.currency,
        invoice.period_start,
        invoice.period_end,
        invoice.run_kind.value,
        invoice.run_source_id,
        invoice.state.value,
        bill_to.name,
        bill_to.email,
        bill_to.country,
        bill_to.region,
        bill_to.postal_code,
        bill_to.tax_certificate,
        invoice.time_zone,
        invoice.payment_terms_days,
        invoice.locale,
        invoice.tax_exemption_note,
        invoice.memo,
        None if number is None else number.series,
        None if number is None else number.sequence,
        invoice.number_text,
        invoice.invoice_date,
        invoice.due_date,
        invoice.subtotal,
        invoice.discount_total,
        invoice.tax_total,
        invoice.total,
        invoice.amount_paid,
        invoice.credited,
        invoice.written_off,
        invoice.written_off_at,
        invoice.created_at,
        invoice.finalized_at,
        invoice.voided_at,
        invoice.void_reason,
    )


def invoice_values(invoice: Invoice) -> dict[str, Any]:
    """The `invoices` row of an invoice, by column."""
    return dict(zip(INVOICE_COLUMNS, invoice_row(invoice), strict=True))


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


LINE_COLUMNS: Final = (
    "invoice_id",
    "position",
    "account_id",
    "charge_key",
    "billed_after",
    "voided",
    "kind",
    "description",
    "currency",
    "subscription_id",
    "product_id",
    "price_id",
    "price_version",
    "period_start",
    "period_end",
    "quantity",
    "unit_price",
    "list_amount",
    "discount_amount",
    "amount",
    "tax_code",
    "tax_rate",
    "tax_amount",
    "tax_jurisdiction",
    "source_kind",
    "source_id",
)
"""The `invoice_lines` columns a line is written to, in the order of `line_row_values`."""


def line_row_values(invoice: Invoice, position: int, line: InvoiceLine) -> tuple[Any, ...]:
    """The `invoice_lines` row of an invoice's line at `position`: its values in `LINE_COLUMNS`
    order."""
    return (
        invoice.id,
        position,
        invoice.account_id,
        line.charge_key,
        line.billed_after,
        invoice.state is InvoiceState.VOID,
        line.kind,
        line.description,
        line.currency,
        line.subscription_id,
        line.product_id,
        line.price_id,
        line.price_version,
        line.period_start,
        line.period_end,
        line.quantity,
        line.unit_price,
        line.list_amount,
        line.discount_amount,
        line.amount,
        line.tax_code,
        line.tax_rate,
        line.tax_amount,
        line.tax_jurisdiction,
        line.source_kind,
        line.source_id,
    )


def line_values(invoice: Invoice, position: int, line: InvoiceLine) -> dict[str, Any]:
    """The `invoice_lines` row of an invoice's line at `position`, by column."""
    return dict(zip(LINE_COLUMNS, line_row_values(invoice, position, line), strict=True))


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
