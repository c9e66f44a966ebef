"""What an invoice document shows, as formatted text: amounts for the currency and locale (Babel,
CLDR data), with exactly the currency's ISO 4217 minor units — so the document shows the amounts
as stored (CLDR's own digits differ for a few currencies, e.g. IQD), dates in the locale's
medium form, tax rates as percents, and the tax summed per jurisdiction and rate.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.numbers import NumberPattern, format_decimal, format_percent, get_currency_symbol

from invoicing.domain.invoices import ACCOUNT_CREDIT_KIND, DEFAULT_LOCALE, Invoice, InvoiceState
from libs.platform.money import UNIT_PRICE_PLACES, minor_units

EN_DASH = "\u2013"
TITLES = {
    InvoiceState.DRAFT: "Draft invoice",
    InvoiceState.VOID: "Void invoice",
}
WATERMARKS = {InvoiceState.DRAFT: "DRAFT", InvoiceState.VOID: "VOID"}
STATE_LABELS = {
    InvoiceState.DRAFT: "DRAFT",
    InvoiceState.FINALIZED: "OPEN",
    InvoiceState.PARTIALLY_PAID: "PARTIALLY PAID",
    InvoiceState.PAID: "PAID",
    InvoiceState.VOID: "VOID",
    InvoiceState.WRITTEN_OFF: "WRITTEN OFF",
}


@dataclass(frozen=True)
class Issuer:
    """Who issues the invoices (the service's settings)."""

    name: str
    address_lines: tuple[str, ...] = ()
    tax_id: str = ""
    email: str = ""
    payment_instructions: str = ""


@dataclass(frozen=True)
class DocumentLine:
    """One line as printed."""

    description: str
    period: str
    quantity: str
    unit_price: str
    discount: str
    amount: str
    tax_rate: str
    tax_amount: str


@dataclass(frozen=True)
class TaxSummary:
    """The tax of one jurisdiction and rate, summed over its lines."""

    label: str
    taxable: str
    tax: str


@dataclass(frozen=True)
class InvoiceDocument:
    """Every string an invoice document prints."""

    title: str
    number: str
    state: str
    watermark: str | None
    issuer: Issuer
    facts: list[tuple[str, str]]
    bill_to: list[str]
    lines: list[DocumentLine]
    totals: list[tuple[str, str]]
    amount_due_label: str
    amount_due: str
    taxes: list[TaxSummary] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    currency: str = ""
    locale: str = DEFAULT_LOCALE


@lru_cache(maxsize=64)
def document_locale(name: str) -> Locale:
    """The Babel locale of an invoice (en_US when the stored name is not one Babel knows)."""
    try:
        return Locale.parse(name.replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        return Locale.parse(DEFAULT_LOCALE)


def format_amount(
    amount: Decimal, currency: str, locale: Locale, *, max_places: int | None = None, symbol: bool = True
) -> str:
    """An amount in the locale's currency format, with the currency's minor units (or up to
    `max_places` for a unit price): `$36,000.00`, `-1.234,50 €`, `BHD1.235`; with `symbol=False`
    the number in the locale's format followed by the ISO code (`1,235 JPY`)."""
    places = minor_units(currency)
    pattern: NumberPattern = copy.copy(
        locale.currency_formats["standard"] if symbol else locale.decimal_formats[None]
    )
    pattern.frac_prec = (places, max(places, max_places or places))
    if not symbol:
        return f"{pattern.apply(amount, locale)}\u00a0{currency}"
    return pattern.apply(amount, locale, currency=currency, currency_digits=False)


def format_day(day: date, locale: Locale) -> str:
    """A date in the locale's medium form (`Aug 1, 2026`, `01.08.2026`)."""
    return format_date(day, format="medium", locale=locale)


def format_period(start: date, end: date, locale: Locale) -> str:
    """A half-open period as people read it: its first and its last day, inclusive."""
    last = end - timedelta(days=1)
    if last <= start:
        return format_day(start, locale)
    return f"{format_day(start, locale)} {EN_DASH} {format_day(last, locale)}"


def invoice_document(
    invoice: Invoice, issuer: Issuer, *, drawable: Callable[[str], bool] | None = None
) -> InvoiceDocument:
    """The printed form of an invoice; where `drawable` says the output cannot draw the locale's
    currency symbol (a PDF font without ￥), amounts show the ISO code instead."""
    locale = document_locale(invoice.locale)
    currency = invoice.currency
    symbol = drawable is None or drawable(get_currency_symbol(currency, locale=locale))

    def money(amount: Decimal, max_places: int | None = None) -> str:
        return format_amount(amount, currency, locale, max_places=max_places, symbol=symbol)

    number = invoice.number_text or "not numbered until finalized"
    facts = [("Invoice number", number)]
    if invoice.invoice_date is not None:
        facts.append(("Invoice date", format_day(invoice.invoice_date, locale)))
    if invoice.due_date is not None:
        facts.append(("Due date", format_day(invoice.due_date, locale)))
    facts += [
        ("Billing period", format_period(invoice.period_start, invoice.period_end, locale)),
        ("Payment terms", f"Net {invoice.payment_terms_days} days"),
        ("Account", invoice.account_id),
        ("Currency", currency),
    ]
    lines = [
        DocumentLine(
            description=line.description,
            period=format_period(line.period_start, line.period_end, locale),
            quantity=format_decimal(line.quantity, locale=locale, decimal_quantization=False),
            unit_price="" if line.unit_price is None else money(line.unit_price, UNIT_PRICE_PLACES),
            discount=money(line.discount_amount) if line.discount_amount else "",
            amount=money(line.amount),
            tax_rate=_percent(line.tax_rate, locale),
            tax_amount=money(line.tax_amount),
        )
        for line in invoice.lines
        if line.kind != ACCOUNT_CREDIT_KIND
    ]
    totals = [("Subtotal (excl. tax)", money(invoice.subtotal))]
    if invoice.discount_total:
        totals.append(("Discounts included above", money(invoice.discount_total)))
    totals.append(("Tax", money(invoice.tax_total)))
    if invoice.account_credit_carried:
        totals.append(("Credit carried to your account", money(invoice.account_credit_carried)))
    totals.append(("Total", money(invoice.total)))
    if invoice.amount_paid:
        totals.append(("Amount paid", money(-invoice.amount_paid)))
    if invoice.credited:
        totals.append(("Credit notes", money(-invoice.credited)))
    return InvoiceDocument(
        title=TITLES.get(invoice.state, "Invoice"),
        number=number,
        state=STATE_LABELS[invoice.state],
        watermark=WATERMARKS.get(invoice.state),
        issuer=issuer,
        facts=facts,
        bill_to=_bill_to(invoice),
        lines=lines,
        totals=totals,
        amount_due_label="Amount due" if invoice.state is not InvoiceState.DRAFT else "Total to be invoiced",
        amount_due=money(invoice.amount_due if invoice.state is not InvoiceState.DRAFT else invoice.total),
        taxes=_taxes(invoice, locale, money),
        notes=_notes(invoice, issuer, money, locale),
        currency=currency,
        locale=str(locale),
    )


def _percent(rate: Decimal, locale: Locale) -> str:
    return format_percent(rate / 100, locale=locale, decimal_quantization=False)


def _bill_to(invoice: Invoice) -> list[str]:
    to = invoice.bill_to
    place = ", ".join(
        part for part in (" ".join(p for p in (to.region, to.postal_code) if p), to.country) if part
    )
    lines = [to.name] + [part for part in (place, to.email) if part] + [f"Customer {to.customer_id}"]
    if to.tax_certificate:
        lines.append(f"Tax exemption certificate {to.tax_certificate}")
    return lines


def _taxes(invoice: Invoice, locale: Locale, money: Callable[[Decimal], str]) -> list[TaxSummary]:
    taxable: dict[tuple[str, Decimal], Decimal] = defaultdict(Decimal)
    tax: dict[tuple[str, Decimal], Decimal] = defaultdict(Decimal)
    for line in invoice.lines:
        if line.kind == ACCOUNT_CREDIT_KIND:
            continue  # no supply: the excess of credits, carried to the account
        key = (line.tax_jurisdiction or "No jurisdiction", line.tax_rate)
        taxable[key] += line.amount
        tax[key] += line.tax_amount
    return [
        TaxSummary(
            label=f"{jurisdiction} {_percent(rate, locale)}",
            taxable=money(taxable[(jurisdiction, rate)]),
            tax=money(tax[(jurisdiction, rate)]),
        )
        for jurisdiction, rate in sorted(taxable)
    ]


def _notes(invoice: Invoice, issuer: Issuer, money: Callable[[Decimal], str], locale: Locale) -> list[str]:
    notes: list[str] = []
    if invoice.tax_exemption_note:
        notes.append(invoice.tax_exemption_note)
    if invoice.memo:
        notes.append(invoice.memo)
    if invoice.account_credit_carried:
        notes.append(
            f"Credits exceeded the charges: {money(invoice.account_credit_carried)} is carried to your "
            "account and taken off your next invoices."
        )
    if invoice.state in (InvoiceState.FINALIZED, InvoiceState.PARTIALLY_PAID) and invoice.due_date:
        notes.append(
            f"Please pay {money(invoice.amount_due)} by {format_day(invoice.due_date, locale)}, "
            f"quoting invoice number {invoice.number_text}."
        )
    if invoice.state is InvoiceState.VOID:
        reason = f" Reason: {invoice.void_reason}" if invoice.void_reason else ""
        notes.append(f"This invoice is void: nothing is due on it.{reason}")
    if issuer.payment_instructions and invoice.state is not InvoiceState.VOID:
        notes.append(issuer.payment_instructions)
    return notes
