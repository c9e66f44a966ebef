"""What a credit note document shows: the same layout as an invoice (`view.InvoiceDocument`), its
lines the credited amounts with their tax, and the invoice it credits. Presentation only."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal

from babel.numbers import format_percent, get_currency_symbol

from invoicing.documents.view import (
    DocumentLine,
    InvoiceDocument,
    Issuer,
    TaxSummary,
    document_locale,
    format_amount,
    format_day,
    format_period,
)
from invoicing.domain.credit_notes import CreditNote
from invoicing.domain.invoices import Invoice


def credit_note_document(
    note: CreditNote, invoice: Invoice, issuer: Issuer, *, drawable: Callable[[str], bool] | None = None
) -> InvoiceDocument:
    """The printed form of a credit note on `invoice` (amounts in the invoice's currency and locale)."""
    locale = document_locale(invoice.locale)
    currency = note.currency
    symbol = drawable is None or drawable(get_currency_symbol(currency, locale=locale))

    def money(amount: Decimal) -> str:
        return format_amount(amount, currency, locale, symbol=symbol)

    def percent(rate: Decimal) -> str:
        return format_percent(rate / 100, locale=locale, decimal_quantization=False)

    periods = {line.charge_key: (line.period_start, line.period_end) for line in invoice.lines}
    lines = []
    for line in note.lines:
        period = periods.get(line.charge_key) if line.charge_key else None
        lines.append(
            DocumentLine(
                description=line.description,
                period=format_period(*period, locale) if period else "",
                quantity="",
                unit_price="",
                discount="",
                amount=money(line.amount),
                tax_rate=percent(line.tax_rate),
                tax_amount=money(line.tax_amount),
            )
        )
    facts = [
        ("Credit note number", note.number_text),
        ("Credit note date", format_day(note.note_date, locale)),
        ("Credits invoice", note.invoice_number),
    ]
    if invoice.invoice_date is not None:
        facts.append(("Invoice date", format_day(invoice.invoice_date, locale)))
    facts += [("Account", note.account_id), ("Currency", currency)]
    notes = [f"Reason: {note.reason}"]
    if note.account_credit:
        notes.append(
            f"{money(note.account_credit)} exceeded what was due on invoice {note.invoice_number} "
            "and is held as credit on your account."
        )
    return InvoiceDocument(
        title="Credit note",
        number=note.number_text,
        state="ISSUED",
        watermark=None,
        issuer=issuer,
        facts=facts,
        bill_to=_bill_to(invoice),
        lines=lines,
        totals=[
            ("Subtotal credited (excl. tax)", money(note.subtotal)),
            ("Tax credited", money(note.tax_total)),
        ],
        amount_due_label="Total credited",
        amount_due=money(note.total),
        taxes=_taxes(note, money, percent),
        notes=notes,
        currency=currency,
        locale=str(locale),
    )


def _bill_to(invoice: Invoice) -> list[str]:
    to = invoice.bill_to
    place = ", ".join(p for p in (to.region, to.postal_code, to.country) if p)
    return [to.name] + [p for p in (place, to.email) if p] + [f"Customer {to.customer_id}"]


def _taxes(
    note: CreditNote, money: Callable[[Decimal], str], percent: Callable[[Decimal], str]
) -> list[TaxSummary]:
    taxable: dict[tuple[str, Decimal], Decimal] = defaultdict(Decimal)
    tax: dict[tuple[str, Decimal], Decimal] = defaultdict(Decimal)
    for line in note.lines:
        key = (line.tax_jurisdiction or "No jurisdiction", line.tax_rate)
        taxable[key] += line.amount
        tax[key] += line.tax_amount
    return [
        TaxSummary(label=f"{j} {percent(rate)}", taxable=money(taxable[(j, rate)]), tax=money(tax[(j, rate)]))
        for j, rate in sorted(taxable)
    ]
