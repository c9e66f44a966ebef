"""Vendor invoices: what a vendor bills us, matched to what we expected and settled by finance.

An invoice arrives (posted by the vendor or entered by finance) as `annual` — a commitment year,
matched to the expected invoice of the same vendor, subscription (or account) and period start —
or `overage` — a month's overage licenses, matched to the overage case it settles. It is flagged
when nothing matches or when its amount differs from the expected one (the difference is kept:
received - expected). Life: received → approved → paid; a flagged invoice is approved only when
finance says it accepts the difference. Anything else is a 409. A vendor's invoice number is
taken once (the database holds it too: `uq_vendor_invoices_vendor_number`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from libs.platform.errors import Conflict, FieldErrors, ValidationFailed
from libs.platform.money import minor_units_problem
from overage.domain.vendor_commitments import ExpectedVendorInvoice


class VendorInvoiceKind(StrEnum):
    """What a vendor invoice bills."""

    ANNUAL = "annual"
    OVERAGE = "overage"


class VendorInvoiceSource(StrEnum):
    """Who recorded it."""

    VENDOR = "vendor"
    FINANCE = "finance"


class VendorInvoiceMatch(StrEnum):
    """How it compares with what we expected."""

    MATCHED = "matched"
    AMOUNT_DIFFERS = "amount_differs"
    UNMATCHED = "unmatched"


class VendorInvoiceState(StrEnum):
    """Where it is in finance's hands."""

    RECEIVED = "received"
    APPROVED = "approved"
    PAID = "paid"


class VendorInvoiceConflict(Conflict):
    """The invoice's state forbids the change, or the vendor's number is taken (409)."""


@dataclass(frozen=True, slots=True)
class VendorInvoiceRecord:
    """Recorded on each change (`vendor.invoice_received` / `_approved` / `_paid`)."""

    invoice: VendorInvoice
    change: str


@dataclass(frozen=True)
class ReceivedInvoice:
    """What the vendor's invoice says."""

    vendor_id: str
    number: str
    kind: VendorInvoiceKind
    account_id: str
    subscription_id: str | None
    overage_case_id: str | None
    currency: str
    amount: Decimal
    invoice_date: date
    period_start: date
    period_end: date
    source: VendorInvoiceSource


@dataclass(frozen=True)
class VendorInvoiceEntry:
    """What the vendor's invoice says, as posted."""

    vendor_id: str
    number: str
    kind: VendorInvoiceKind
    currency: str
    amount: Decimal
    invoice_date: date
    period_start: date
    period_end: date
    source: VendorInvoiceSource
    account_id: str | None = None
    subscription_id: str | None = None
    overage_case_id: str | None = None
    tenant_id: str | None = None
    """The vendor's id of our customer: its tenant mapping names the account and subscription."""


@dataclass(eq=False)
class VendorInvoice:
    """A vendor's invoice to us; `events` holds what it recorded."""

    id: str
    vendor_id: str
    number: str
    kind: VendorInvoiceKind
    account_id: str
    subscription_id: str | None
    overage_case_id: str | None
    expected_invoice_id: str | None
    currency: str
    amount: Decimal
    expected_amount: Decimal | None
    match: VendorInvoiceMatch
    invoice_date: date
    period_start: date
    period_end: date
    source: VendorInvoiceSource
    received_at: datetime
    received_by: str
    state: VendorInvoiceState = VendorInvoiceState.RECEIVED
    approved_at: datetime | None = None
    approved_by: str | None = None
    approval_note: str | None = None
    paid_at: datetime | None = None
    paid_by: str | None = None
    payment_reference: str | None = None
    version: int = 0
    events: list[VendorInvoiceRecord] = field(default_factory=list)

    @classmethod
    def receive(
        cls,
        *,
        id: str,
        received: ReceivedInvoice,
        expected: ExpectedVendorInvoice | None,
        at: datetime,
        by: str,
    ) -> VendorInvoice:
        """Record a received invoice, matched to `expected` (annual) or to its overage case."""
        check_received(received, expected)
        if received.kind is VendorInvoiceKind.ANNUAL:
            matched = expected is not None
        else:
            matched = received.overage_case_id is not None
        expected_amount = expected.amount if expected is not None else None
        if not matched:
            match = VendorInvoiceMatch.UNMATCHED
        elif expected_amount is not None and expected_amount != received.amount:
            match = VendorInvoiceMatch.AMOUNT_DIFFERS
        else:
            match = VendorInvoiceMatch.MATCHED
        invoice = cls(
            id=id,
            vendor_id=received.vendor_id,
            number=received.number,
            kind=received.kind,
            account_id=received.account_id,
            subscription_id=received.subscription_id or (expected.subscription_id if expected else None),
            overage_case_id=received.overage_case_id,
            expected_invoice_id=expected.id if expected is not None else None,
            currency=received.currency,
            amount=received.amount,
            expected_amount=expected_amount,
            match=match,
            invoice_date=received.invoice_date,
            period_start=received.period_start,
            period_end=received.period_end,
            source=received.source,
            received_at=at,
            received_by=by,
        )
        invoice.events.append(VendorInvoiceRecord(invoice, "received"))
        return invoice

    @property
    def difference(self) -> Decimal | None:
        """Received - expected (None when nothing was expected)."""
        return None if self.expected_amount is None else self.amount - self.expected_amount

    @property
    def flagged(self) -> bool:
        """True when finance must look at it: nothing matched, or the amount differs."""
        return self.match is not VendorInvoiceMatch.MATCHED

    def approve(
        self, *, by: str, at: datetime, accept_difference: bool = False, note: str | None = None
    ) -> None:
        """Approve a received invoice for payment (a flagged one only with `accept_difference`)."""
        if self.state is not VendorInvoiceState.RECEIVED:
            raise VendorInvoiceConflict(
                f"vendor invoice {self.id!r} is {self.state.value}: only a received one is approved"
            )
        if self.flagged and not accept_difference:
            raise VendorInvoiceConflict(
                f"vendor invoice {self.id!r} is flagged ({self.match.value}"
                + (f", difference {self.difference}" if self.difference is not None else "")
                + "): approve it with accept_difference true once reviewed"
            )
        self.state = VendorInvoiceState.APPROVED
        self.approved_at, self.approved_by, self.approval_note = at, by, note
        self.events.append(VendorInvoiceRecord(self, "approved"))

    def mark_paid(self, *, by: str, at: datetime, reference: str | None = None) -> None:
        """Record that finance paid an approved invoice."""
        if self.state is not VendorInvoiceState.APPROVED:
            raise VendorInvoiceConflict(
                f"vendor invoice {self.id!r} is {self.state.value}: only an approved one is paid"
            )
        self.state = VendorInvoiceState.PAID
        self.paid_at, self.paid_by, self.payment_reference = at, by, reference
        self.events.append(VendorInvoiceRecord(self, "paid"))


def check_received(received: ReceivedInvoice, expected: ExpectedVendorInvoice | None) -> None:
    """Refuse (422) an amount that is not positive money of its currency, or a period backwards."""
    errors = FieldErrors()
    problem = minor_units_problem(received.amount, received.currency)
    if problem is not None:
        errors.add("amount", problem)
    elif received.amount <= 0:
        errors.add("amount", "a vendor invoice bills a positive amount")
    if received.period_end <= received.period_start:
        errors.add("period_end", "the billed period must end after it starts")
    if expected is not None and expected.currency != received.currency:
        errors.add(
            "currency",
            f"the commitment is billed in {expected.currency}, not {received.currency}",
        )
    if received.kind is VendorInvoiceKind.ANNUAL and received.overage_case_id is not None:
        errors.add("overage_case_id", "an annual invoice settles no overage case")
    errors.raise_if_any("The vendor invoice is not valid")


def require_account(account_id: str | None, known_account: str | None) -> str:
    """The account a vendor invoice is for: given, or the subscription's (422 when they disagree)."""
    if account_id is not None and known_account is not None and account_id != known_account:
        raise ValidationFailed.single(
            "account_id", f"the subscription belongs to account {known_account!r}, not {account_id!r}"
        )
    resolved = account_id or known_account
    if resolved is None:
        raise ValidationFailed.single(
            "account_id", "say which of our accounts it bills (or a subscription we know)"
        )
    return resolved
