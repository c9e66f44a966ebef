"""Credit notes: the correction of an issued invoice (a finalized invoice is never edited, DESIGN §6).

A credit note credits an invoice that is finalized, partially paid or paid — never a draft (edit
or void it instead) nor a void one (409). Its lines either reference an invoice line by charge
key (crediting part or all of that line) or are a plain amount against the whole invoice. Amounts
asked are net (prices are tax-exclusive); each line's tax is credited in proportion to the tax the
invoice charged — a referenced line's own tax, a plain amount's share of the invoice's tax — and
rounded on the line, half up, to the currency's minor units. The last credit of a line takes
exactly the tax that is left on it, so a line fully credited gives back exactly its tax — unless
plain amounts took their share of the invoice's tax before: the tax credited over all notes never
exceeds the invoice's tax.

What can be credited is the invoice's total less the credit notes already issued against it:
payments do not reduce it. A finance person's view: a credit note says the customer was billed
too much; if the customer has paid already, the credit does not vanish — what exceeds the amount
still due becomes account credit (`account_credit`), to be refunded or applied to a later
invoice. A referenced line is never credited beyond its own amount. Asking for more, a line that
is not on the invoice or a currency other than the invoice's is a 422 naming the field; nothing
changes. Credit notes are numbered `CN-YYYY-NNNNNN` when issued, gap-free (`invoice_numbers`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from invoicing.domain.invoice_numbers import DocumentNumber
from invoicing.domain.invoices import Invoice, InvoiceConflict, InvoiceLine, InvoiceState
from libs.platform.errors import FieldErrors
from libs.platform.money import CurrencyMismatch, minor_units, minor_units_problem, round_money

CREDITABLE_STATES = frozenset({InvoiceState.FINALIZED, InvoiceState.PARTIALLY_PAID, InvoiceState.PAID})


class CreditNoteState(StrEnum):
    """A credit note is issued when it is made (numbered at once); it is never edited."""

    ISSUED = "issued"


@dataclass(frozen=True, slots=True)
class CreditRequest:
    """One line asked for: a net amount against an invoice line (its charge key) or the whole invoice."""

    amount: Decimal
    charge_key: str | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class CreditNoteLine:
    """One credited line: net amount and its tax, both positive and rounded to minor units."""

    charge_key: str | None
    """The invoice line it credits; None for a plain amount against the whole invoice."""
    description: str
    amount: Decimal
    tax_amount: Decimal
    tax_rate: Decimal = Decimal(0)
    tax_code: str | None = None
    tax_jurisdiction: str | None = None

    @property
    def total(self) -> Decimal:
        """The line with its tax."""
        return self.amount + self.tax_amount


@dataclass(frozen=True, slots=True)
class CreditNoteIssuedRecord:
    """Recorded when a credit note is issued (published as `credit_note.issued`)."""

    credit_note: CreditNote
    invoice: Invoice


@dataclass(eq=False)
class CreditNote:
    """A credit note against one issued invoice; `events` holds what it recorded."""

    id: str
    invoice_id: str
    invoice_number: str
    account_id: str
    customer_id: str
    currency: str
    number: DocumentNumber
    note_date: date
    reason: str
    lines: tuple[CreditNoteLine, ...]
    created_at: datetime
    account_credit: Decimal
    """What exceeded the invoice's amount due when issued: left to the account as credit."""
    dispute_id: str | None = None
    state: CreditNoteState = CreditNoteState.ISSUED
    events: list[CreditNoteIssuedRecord] = field(default_factory=list)

    @property
    def subtotal(self) -> Decimal:
        """Sum of the credited net amounts."""
        return _sum((line.amount for line in self.lines), self.currency)

    @property
    def tax_total(self) -> Decimal:
        """Sum of the credited tax, each rounded on its line."""
        return _sum((line.tax_amount for line in self.lines), self.currency)

    @property
    def total(self) -> Decimal:
        """What the note credits: subtotal + tax."""
        return self.subtotal + self.tax_total

    @property
    def number_text(self) -> str:
        """The printed number (`CN-2026-000007`)."""
        return self.number.text


def require_creditable(invoice: Invoice, currency: str | None = None) -> None:
    """Refuse a draft or void invoice (409) and a credit in another currency (422)."""
    if invoice.state not in CREDITABLE_STATES:
        shown = invoice.number_text or invoice.id
        advice = (
            "edit or void the draft instead" if invoice.state is InvoiceState.DRAFT else "it bills nothing"
        )
        raise InvoiceConflict(
            f"invoice {shown} is {invoice.state.value}: only an issued invoice is credited ({advice})"
        )
    if currency is not None and currency != invoice.currency:
        raise CurrencyMismatch.single(
            "currency",
            f"invoice {invoice.number_text} is in {invoice.currency}, not {currency}: currencies never mix",
            "currency_mismatch",
        )


def credit_lines(
    invoice: Invoice, requests: Sequence[CreditRequest], prior: Iterable[CreditNote]
) -> tuple[CreditNoteLine, ...]:
    """The lines of a new credit note on `invoice`, after the notes `prior` issued against it.

    Refuses (422, every problem at once) an empty note, a non-positive or unrounded amount, a line
    not on the invoice or asked twice, more than is left on a line, and a total beyond what
    remains creditable on the invoice (its total less the credit notes already issued).
    """
    require_creditable(invoice)
    currency = invoice.currency
    zero = _sum((), currency)
    prior_notes = list(prior)
    net_left: dict[str, Decimal] = {}
    tax_left: dict[str, Decimal] = {}
    for line in invoice.lines:
        net_left[line.charge_key] = line.amount
        tax_left[line.charge_key] = line.tax_amount
    invoice_tax_left = invoice.tax_total
    for note in prior_notes:
        for credited in note.lines:
            invoice_tax_left -= credited.tax_amount
            if credited.charge_key is not None and credited.charge_key in net_left:
                net_left[credited.charge_key] -= credited.amount
                tax_left[credited.charge_key] -= credited.tax_amount
    by_key = {line.charge_key: line for line in invoice.lines}
    errors = FieldErrors()
    if not requests:
        errors.add("lines", "a credit note credits at least one line")
    lines: list[CreditNoteLine] = []
    seen: set[str] = set()
    for index, asked in enumerate(requests):
        where = f"lines.{index}"
        problem = minor_units_problem(asked.amount, currency)
        if problem is not None or asked.amount <= 0:
            errors.add(f"{where}.amount", problem or "a credit is a positive net amount")
            continue
        # Exactly the currency's minor units from here on ("500" is 500.00).
        request = replace(asked, amount=round_money(asked.amount, currency))
        if request.charge_key is None:
            tax = _plain_tax(invoice, request.amount, max(zero, invoice_tax_left))
            invoice_tax_left -= tax
            lines.append(
                CreditNoteLine(
                    charge_key=None,
                    description=request.description or f"Credit on invoice {invoice.number_text}",
                    amount=request.amount,
                    tax_amount=tax,
                    tax_rate=_effective_rate(invoice),
                    tax_jurisdiction=_sole_jurisdiction(invoice),
                )
            )
            continue
        invoice_line = by_key.get(request.charge_key)
        if invoice_line is None:
            errors.add(
                f"{where}.charge_key", f"invoice {invoice.number_text} has no line {request.charge_key!r}"
            )
            continue
        if request.charge_key in seen:
            errors.add(f"{where}.charge_key", f"line {request.charge_key!r} is asked twice; ask once")
            continue
        seen.add(request.charge_key)
        left = net_left[request.charge_key]
        if request.amount > left:
            errors.add(
                f"{where}.amount",
                f"{request.amount} {currency} is more than the {max(zero, left)} {currency} left to "
                f"credit on line {request.charge_key!r}",
                "exceeds_creditable",
            )
            continue
        # Never more tax than the invoice has left: plain credits took their share of it already.
        line_tax = _line_tax(invoice_line, request.amount, left, tax_left[request.charge_key])
        tax = min(line_tax, max(zero, invoice_tax_left))
        invoice_tax_left -= tax
        lines.append(
            CreditNoteLine(
                charge_key=request.charge_key,
                description=request.description or invoice_line.description,
                amount=request.amount,
                tax_amount=tax,
                tax_rate=invoice_line.tax_rate,
                tax_code=invoice_line.tax_code,
                tax_jurisdiction=invoice_line.tax_jurisdiction,
            )
        )
    errors.raise_if_any("The credit note is not valid")
    # The net and the tax are each credited at most once: a plain amount that took less than its
    # share of tax (the invoice's tax was used up by rounding) must not credit more net than is left.
    net_remaining = invoice.subtotal - _sum((note.subtotal for note in prior_notes), currency)
    net = _sum((line.amount for line in lines), currency)
    if net > net_remaining:
        errors.add(
            "lines",
            f"the note credits {net} {currency} before tax, more than the {max(zero, net_remaining)} "
            f"{currency} of charges that remain creditable on invoice {invoice.number_text}",
            "exceeds_creditable",
        )
        errors.raise_if_any("The credit note credits more than remains on the invoice")
    total = _sum((line.total for line in lines), currency)
    remaining = invoice.creditable
    if total > remaining:
        errors.add(
            "lines",
            f"the note credits {total} {currency} with tax, more than the {max(zero, remaining)} {currency} "
            f"that remains creditable on invoice {invoice.number_text}",
            "exceeds_creditable",
        )
        errors.raise_if_any("The credit note credits more than remains on the invoice")
    return tuple(lines)


def issue_credit_note(
    *,
    id: str,
    invoice: Invoice,
    lines: tuple[CreditNoteLine, ...],
    number: DocumentNumber,
    note_date: date,
    reason: str,
    at: datetime,
    dispute_id: str | None = None,
) -> CreditNote:
    """Issue the note: the invoice's amount due falls by its total, the excess becomes account credit."""
    total = _sum((line.total for line in lines), invoice.currency)
    account_credit = invoice.apply_credit(total)
    note = CreditNote(
        id=id,
        invoice_id=invoice.id,
        invoice_number=invoice.number_text or invoice.id,
        account_id=invoice.account_id,
        customer_id=invoice.bill_to.customer_id,
        currency=invoice.currency,
        number=number,
        note_date=note_date,
        reason=reason,
        lines=lines,
        created_at=at,
        account_credit=account_credit,
        dispute_id=dispute_id,
    )
    note.events.append(CreditNoteIssuedRecord(note, invoice))
    return note


def _line_tax(line: InvoiceLine, amount: Decimal, net_left: Decimal, tax_left: Decimal) -> Decimal:
    # Crediting all that is left of a line gives back exactly the tax left on it, so rounding
    # over several partial notes never leaves a minor unit of tax behind or credits one too many.
    if amount == net_left:
        return tax_left
    if line.amount == 0:
        return _sum((), line.currency)
    proportional = round_money(line.tax_amount * amount / line.amount, line.currency)
    return min(proportional, tax_left)


def _plain_tax(invoice: Invoice, amount: Decimal, tax_left: Decimal) -> Decimal:
    # A plain amount credits its share of the invoice's tax at the invoice's effective rate.
    if invoice.subtotal <= 0:
        return _sum((), invoice.currency)
    proportional = round_money(invoice.tax_total * amount / invoice.subtotal, invoice.currency)
    return min(proportional, tax_left)


def _effective_rate(invoice: Invoice) -> Decimal:
    # The percent the invoice charged overall, shown on a plain amount's line (informational).
    if invoice.subtotal <= 0:
        return Decimal(0)
    return (invoice.tax_total * 100 / invoice.subtotal).quantize(Decimal("0.0001")).normalize()


def _sole_jurisdiction(invoice: Invoice) -> str | None:
    # A plain amount names the invoice's tax jurisdiction when all its taxed lines share one.
    found = {line.tax_jurisdiction for line in invoice.lines if line.tax_amount}
    return found.pop() if len(found) == 1 else None


def _sum(amounts: Iterable[Decimal], currency: str) -> Decimal:
    return sum(amounts, Decimal(0).scaleb(-minor_units(currency)))
