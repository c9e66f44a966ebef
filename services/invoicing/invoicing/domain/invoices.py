"""The invoice: lines, totals and its life — draft → finalized → partially paid / paid, or void.

An invoice bills one account in one currency for one period of one run (the account's cycle,
or an on-demand run such as a completed fulfillment's). Its lines come from the charge
calculation and the tax calculator already rounded: each line's amount and tax once, to the
currency's minor units (DESIGN §6, §7). Totals are sums of those rounded lines; prices are
tax-exclusive, so total = subtotal + tax.

Every change is recorded for the outbox: a draft (`invoice.drafted`, for the bill run's
observers; ERP books from finalization), its finalization, its voiding. A draft can be
discarded (voided) or finalized. Finalizing gives it its number (gap-free per
series, `invoice_numbers`), its invoice date and due date (invoice date + payment terms); from
then on it is never edited — a correction is a credit note or a debit adjustment. Payments move
it to partially paid or paid; a finalized invoice nobody has paid may be voided, one with a
payment may not (the payment must be refunded or reallocated first).

An invoice never totals below zero (Kill Bill's credit balance adjustment): when its credits
(adjustments, service credits, credit lines for unused time) exceed its charges with their tax,
it gets one more line, `account_credit`, of the excess, so it totals 0; once issued, that excess
is the account's credit, which the next invoices take when they are issued (as an overpayment's).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any, Final

from invoicing.domain.billing_inputs import BillingAccount
from invoicing.domain.invoice_lines import InvoiceLine
from invoicing.domain.invoice_numbers import DocumentNumber
from libs.platform.errors import Conflict, FieldErrors, ValidationFailed
from libs.platform.money import CurrencyMismatch, minor_units, minor_units_problem

DEFAULT_LOCALE = "en_US"

ACCOUNT_CREDIT_KIND = "account_credit"
"""The kind (and source kind) of the line carrying an invoice's excess credit to the account."""
_LINE_AMOUNTS: Final = ("amount", "discount_amount", "list_amount", "tax_amount")
"""The amounts of a line that must keep to the currency's minor units (`Invoice._check`)."""


def account_credit_key(invoice_id: str) -> str:
    """The charge key of the line carrying an invoice's excess credit to the account."""
    return f"account_credit:{invoice_id}"


class InvoiceState(StrEnum):
    """Where an invoice is in its life."""

    DRAFT = "draft"
    FINALIZED = "finalized"
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"
    VOID = "void"
    WRITTEN_OFF = "written_off"
    """Collections gave up on what remained due (bad debt); nothing is due on it any more."""


class RunKind(StrEnum):
    """Which run an invoice belongs to: the account's bill cycle, or an on-demand run."""

    CYCLE = "cycle"
    ON_DEMAND = "on_demand"


class InvoiceConflict(Conflict):
    """The invoice's state forbids the change (409): an edit after finalization, a void after a payment."""


@dataclass(frozen=True, slots=True)
class BillTo:
    """Whom the invoice is addressed to: the account's name, contact and tax address."""

    name: str
    customer_id: str
    email: str | None = None
    country: str | None = None
    region: str | None = None
    postal_code: str | None = None
    tax_certificate: str | None = None
    """The exemption certificate the invoice was exempted under, if any."""


def bill_to_of(account: BillingAccount, *, exempt: bool) -> BillTo:
    """The bill-to block of an account's invoice (its certificate shown only when it exempts the invoice)."""
    tax = account.tax
    return BillTo(
        name=account.name,
        customer_id=account.customer_id,
        email=account.billing_email,
        country=tax.country,
        region=tax.region,
        postal_code=tax.postal_code,
        tax_certificate=tax.certificate_number if exempt else None,
    )


@dataclass(frozen=True, slots=True)
class InvoiceDraftedRecord:
    """Recorded when a draft is made or its note changes (published as `invoice.drafted`)."""

    invoice: Invoice
    change: str
    """`drafted` or `memo_changed`."""


@dataclass(frozen=True, slots=True)
class InvoiceFinalizedRecord:
    """Recorded when an invoice is finalized (published as `invoice.finalized`)."""

    invoice: Invoice


@dataclass(frozen=True, slots=True)
class InvoiceVoidedRecord:
    """Recorded when an invoice is voided, a draft discarded or an issued one cancelled (`invoice.voided`)."""

    invoice: Invoice
    number: str | None


@functools.lru_cache(maxsize=256)
def _zero_of(currency: str) -> Decimal:
    """0 with the currency's minor units (0.00 in USD): where an invoice's sums start."""
    return Decimal(0).scaleb(-minor_units(currency))


InvoiceRecord = InvoiceDraftedRecord | InvoiceFinalizedRecord | InvoiceVoidedRecord
"""What an invoice records for the outbox."""


@dataclass(eq=False)
class Invoice:
    """An invoice aggregate; `events` holds what it recorded for the outbox."""

    id: str
    account_id: str
    currency: str
    period_start: date
    period_end: date
    run_kind: RunKind
    run_source_id: str
    """What the run bills ("" for the cycle run; the fulfillment id of an on-demand run)."""
    bill_to: BillTo
    time_zone: str
    payment_terms_days: int
    lines: tuple[InvoiceLine, ...]
    created_at: datetime
    state: InvoiceState = InvoiceState.DRAFT
    locale: str = DEFAULT_LOCALE
    tax_exemption_note: str | None = None
    memo: str | None = None
    number: DocumentNumber | None = None
    invoice_date: date | None = None
    due_date: date | None = None
    amount_paid: Decimal = Decimal(0)
    credited: Decimal = Decimal(0)
    """The totals (with tax) of the credit notes issued against it."""
    written_off: Decimal = Decimal(0)
    """What collections wrote off (bad debt): no longer due."""
    written_off_at: datetime | None = None
    finalized_at: datetime | None = None
    voided_at: datetime | None = None
    void_reason: str | None = None
    version: int = 0
    events: list[InvoiceRecord] = field(default_factory=list)
    _line_sums: tuple[tuple[InvoiceLine, ...], str, Decimal, Decimal, Decimal, Decimal, Decimal] | None = (
        field(default=None, init=False, repr=False, compare=False)
    )
    """(the lines and currency they were summed for, subtotal, discounts, tax, credit carried, total):
    the totals are read a dozen times while an invoice is issued (events, audit, rows)."""

    @classmethod
    def draft(cls, *, lines: Iterable[InvoiceLine], **fields: Any) -> Invoice:
        """A new draft; refuses lines in another currency, unrounded amounts and a charge twice."""
        invoice = cls(lines=tuple(lines), **fields)
        if not invoice.lines:
            raise ValidationFailed.single("lines", "an invoice bills at least one line")
        invoice._carry_excess_credit()
        invoice.events.append(InvoiceDraftedRecord(invoice, "drafted"))
        invoice._check()
        return invoice

    # --- totals (sums of the rounded lines) ------------------------------------------------

    @property
    def subtotal(self) -> Decimal:
        """Sum of the lines' amounts, before tax (the line carrying credit to the account aside)."""
        return self._sums()[2]

    @property
    def discount_total(self) -> Decimal:
        """Sum of the lines' discounts (already taken off their amounts)."""
        return self._sums()[3]

    @property
    def tax_total(self) -> Decimal:
        """Sum of the lines' tax, each rounded on its line."""
        return self._sums()[4]

    def _sums(self) -> tuple[tuple[InvoiceLine, ...], str, Decimal, Decimal, Decimal, Decimal, Decimal]:
        cached = self._line_sums
        if cached is None or cached[0] is not self.lines or cached[1] != self.currency:
            # One pass over the lines, each sum added up in the lines' order from the currency's 0.
            subtotal = tax = carried = discounts = _zero_of(self.currency)
            for line in self.lines:
                if line.kind == ACCOUNT_CREDIT_KIND:
                    carried += line.amount
                else:
                    subtotal += line.amount
                tax += line.tax_amount
                discounts += line.discount_amount
            cached = (self.lines, self.currency, subtotal, discounts, tax, carried, subtotal + tax + carried)
            self._line_sums = cached
        return cached

    @property
    def total(self) -> Decimal:
        """What the invoice bills: subtotal + tax + the credit carried to the account; never negative
        once drafted (the sum of all its lines)."""
        return self._sums()[6]

    @property
    def account_credit_carried(self) -> Decimal:
        """The excess of its credits over its charges, carried to the account (0 when none)."""
        return self._sums()[5]

    @property
    def amount_due(self) -> Decimal:
        """What remains to pay: total less payments and credit notes, never below 0 (0 for a draft
        or a void invoice; a credit beyond what was due is the account's credit, not a negative due)."""
        if self.state in (InvoiceState.DRAFT, InvoiceState.VOID):
            return self._sum(())
        return max(self._sum(()), self.total - self.amount_paid - self.credited - self.written_off)

    @property
    def creditable(self) -> Decimal:
        """What credit notes may still credit: the total less the notes already issued (payments
        do not reduce it: a credit on a paid invoice becomes account credit)."""
        return self.total - self.credited

    @property
    def number_text(self) -> str | None:
        """The printed number, once finalized."""
        return None if self.number is None else self.number.text

    # --- life -----------------------------------------------------------------------------

    def change_draft(self, *, memo: str | None) -> None:
        """Change the note printed on a draft; a finalized invoice is never edited."""
        self._require_draft("edited")
        self.memo = memo
        self.events.append(InvoiceDraftedRecord(self, "memo_changed"))

    def require_draft(self, verb: str) -> None:
        """Refuse (409) anything but a draft: a finalized invoice is never edited nor issued again."""
        self._require_draft(verb)

    def finalize(self, *, number: DocumentNumber, invoice_date: date, at: datetime) -> None:
        """Issue the draft: its number, invoice date and due date (invoice date + payment terms)."""
        self._require_draft("finalized")
        self.number = number
        self.invoice_date = invoice_date
        self.due_date = invoice_date + timedelta(days=self.payment_terms_days)
        self.finalized_at = at
        self.state = InvoiceState.PAID if self.total == 0 else InvoiceState.FINALIZED
        self.events.append(InvoiceFinalizedRecord(self))

    def void(self, *, reason: str | None, at: datetime) -> None:
        """Void a draft (discard it) or a finalized invoice nobody has paid anything on."""
        if self.state is InvoiceState.VOID:
            raise InvoiceConflict(f"invoice {self.id!r} is already void")
        if self.credited > 0:
            raise InvoiceConflict(
                f"invoice {self.number_text or self.id} has credit notes of {self.credited} {self.currency}; "
                "an invoice with credit notes is corrected further by credit notes, not voided"
            )
        if self.state is not InvoiceState.DRAFT and self.account_credit_carried > 0:
            raise InvoiceConflict(
                f"invoice {self.number_text or self.id} carried {self.account_credit_carried} "
                f"{self.currency} of credit to the account; correct it with a debit adjustment, "
                "not a void"
            )
        if self.amount_paid > 0:
            raise InvoiceConflict(
                f"invoice {self.id!r} has payments of {self.amount_paid} {self.currency}; "
                "refund or reallocate them before voiding it, or issue a credit note"
            )
        self.state = InvoiceState.VOID
        self.voided_at = at
        self.void_reason = reason
        self.events.append(InvoiceVoidedRecord(self, self.number_text))

    def apply_payment(self, amount: Decimal, currency: str) -> InvoiceState:
        """Apply a payment: partially paid, or paid once nothing remains; never more than remains."""
        if self.state not in (InvoiceState.FINALIZED, InvoiceState.PARTIALLY_PAID):
            raise InvoiceConflict(f"a payment applies to an open invoice, not a {self.state.value} one")
        if currency != self.currency:
            raise CurrencyMismatch.single(
                "currency", f"a {currency} payment cannot pay a {self.currency} invoice"
            )
        problem = minor_units_problem(amount, currency)
        if problem is not None or amount <= 0:
            raise ValidationFailed.single("amount", problem or "a payment is a positive amount")
        if amount > self.amount_due:
            raise InvoiceConflict(
                f"{amount} {currency} is more than the {self.amount_due} {currency} that remains due"
            )
        self.amount_paid += amount
        self.state = InvoiceState.PAID if self.amount_due == 0 else InvoiceState.PARTIALLY_PAID
        return self.state

    def take_back_payment(self, amount: Decimal) -> InvoiceState:
        """Take back money a payment applied (a refund, a reversal): the invoice is open again —
        partially paid while other payments remain on it, else finalized; paid only if credit notes
        still settle it."""
        if self.state not in (InvoiceState.FINALIZED, InvoiceState.PARTIALLY_PAID, InvoiceState.PAID):
            raise InvoiceConflict(f"a {self.state.value} invoice holds no payment to take back")
        if amount <= 0 or amount > self.amount_paid:
            raise InvoiceConflict(
                f"{amount} {self.currency} is not within the {self.amount_paid} {self.currency} paid on it"
            )
        self.amount_paid -= amount
        if self.amount_due == 0:
            self.state = InvoiceState.PAID
        else:
            self.state = InvoiceState.PARTIALLY_PAID if self.amount_paid > 0 else InvoiceState.FINALIZED
        return self.state

    def apply_credit(self, total: Decimal) -> Decimal:
        """Take an issued credit note's total off what remains; return what exceeds the amount due
        (left to the account as credit). Settled (paid) once nothing remains due."""
        if self.state not in (InvoiceState.FINALIZED, InvoiceState.PARTIALLY_PAID, InvoiceState.PAID):
            raise InvoiceConflict(f"only an issued invoice is credited, not a {self.state.value} one")
        if total <= 0 or total > self.creditable:
            raise InvoiceConflict(
                f"{total} {self.currency} is not within the {self.creditable} {self.currency} creditable"
            )
        due_before = self.amount_due
        self.credited += total
        if self.amount_due == 0:
            self.state = InvoiceState.PAID
        return max(self._sum(()), total - due_before)

    def write_off(self, *, at: datetime) -> Decimal:
        """Write off what remains due on an open invoice (bad debt); the amount written off."""
        if self.state not in (InvoiceState.FINALIZED, InvoiceState.PARTIALLY_PAID):
            raise InvoiceConflict(
                f"only an open invoice is written off, not a {self.state.value} one "
                f"({self.number_text or self.id})"
            )
        amount = self.amount_due
        self.written_off += amount
        self.written_off_at = at
        self.state = InvoiceState.WRITTEN_OFF
        return amount

    # --- rules ----------------------------------------------------------------------------

    def _require_draft(self, verb: str) -> None:
        if self.state is not InvoiceState.DRAFT:
            shown = self.number_text or self.id
            raise InvoiceConflict(
                f"invoice {shown} is {self.state.value}: only a draft can be {verb}; "
                "correct an issued invoice with a credit note or a debit adjustment"
            )

    def _sum(self, amounts: Iterable[Decimal]) -> Decimal:
        return sum(amounts, _zero_of(self.currency))

    def _carry_excess_credit(self) -> None:
        # Credits beyond the charges (tax included) never make the invoice negative: the excess goes
        # to the account as one line of its own, so the total is 0 and still the sum of the lines.
        if self.total >= 0 or any(line.kind == ACCOUNT_CREDIT_KIND for line in self.lines):
            return
        excess = -self.total
        carried = InvoiceLine(
            charge_key=account_credit_key(self.id),
            kind=ACCOUNT_CREDIT_KIND,
            description="Credit carried to the account (applied to the next invoices)",
            account_id=self.account_id,
            currency=self.currency,
            period_start=self.period_start,
            period_end=self.period_end,
            quantity=Decimal(1),
            unit_price=None,
            list_amount=excess,
            discount_amount=self._sum(()),
            amount=excess,
            source_kind=ACCOUNT_CREDIT_KIND,
            source_id=self.id,
        )
        self.lines = (*self.lines, carried)

    def _check(self) -> None:
        minor_units(self.currency)  # an unknown currency is a 422
        if self.period_end <= self.period_start:
            raise ValidationFailed.single("period_end", "the period ends after it starts")
        errors = FieldErrors()
        seen: set[str] = set()
        for index, line in enumerate(self.lines):
            if line.currency != self.currency:
                raise CurrencyMismatch.single(
                    f"lines.{index}.currency",
                    f"a {line.currency} line cannot go on a {self.currency} invoice: currencies never mix",
                )
            if line.charge_key in seen:
                errors.add(f"lines.{index}.charge_key", f"charge {line.charge_key!r} is on the invoice twice")
            seen.add(line.charge_key)
            amounts = (line.amount, line.discount_amount, line.list_amount, line.tax_amount)
            for name, amount in zip(_LINE_AMOUNTS, amounts, strict=True):
                problem = minor_units_problem(amount, self.currency)
                if problem is not None:
                    errors.add(f"lines.{index}.{name}", f"{problem} (lines are rounded once, before)")
        errors.raise_if_any("The invoice's lines are not valid")
