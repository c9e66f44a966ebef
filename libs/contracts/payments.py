"""Payments and receivables: what invoicing publishes on `invoicing.events` when money moves.

`payment.received` says a payment (card, ACH, check, wire, a lockbox line) was taken and how it
was applied: to which invoices, how much each, and what stayed on the account as credit.
`payment.refunded` and `payment.reversed` (a bounced check, a charge-back) give money back or take
a payment back; the invoices they reopen are named. `invoice.paid` tells that an invoice has
nothing left due. `invoice.written_off` closes what collections gave up on. The general ledger
and ERP book from these events alone. `payment.declined` tells a charge was declined (and whether it
is retried); `payment_method.*` follow stored methods (brand, last four, expiry, never a token);
`lockbox_file.imported` sums up a bank's check file. Amounts are decimal strings with the
currency's minor units.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import Field

from libs.contracts.envelope import EventPayload
from libs.contracts.registry import event_type
from libs.contracts.topics import INVOICING_EVENTS
from libs.contracts.types import Amount, CurrencyCode

PaymentMethodKind = Literal["card", "ach", "check", "wire", "credit"]
"""`credit`: no money moved — the excess credit an issued invoice carried to the account."""


class PaymentAllocation(EventPayload):
    """The part of a payment applied to (or, on a refund or reversal, taken back from) an invoice."""

    invoice_id: str
    invoice_number: str = Field(examples=["INV-2026-000042"])
    amount: Amount = Field(description="Positive: applied; taken back on a refund or reversal.")
    invoice_amount_due: Amount = Field(description="What remains due on the invoice after this.")


class PaymentPayload(EventPayload):
    """Which payment, whose, how much and by what means."""

    payment_id: str = Field(examples=["pay_01JD0S6Y4Q7V3J6C3M9W1K2X8Z"])
    account_id: str
    currency: CurrencyCode
    amount: Amount = Field(description="The payment's full amount, positive.")
    method_kind: PaymentMethodKind
    reference: str | None = Field(default=None, description="Check number, wire reference, gateway id.")


@event_type("payment.received", topic=INVOICING_EVENTS)
class PaymentReceived(PaymentPayload):
    """A payment was taken and applied to open invoices; the rest is account credit."""

    received_on: date
    allocations: list[PaymentAllocation]
    unapplied: Amount = Field(description="What no invoice took: kept as the account's credit.")
    received_at: datetime


@event_type("payment.credit_applied", topic=INVOICING_EVENTS)
class PaymentCreditApplied(PaymentPayload):
    """Account credit an earlier payment left was applied to an invoice finalized later (no cash
    moves: the ledger books it from customer credit to A/R)."""

    allocations: list[PaymentAllocation] = Field(description="Invoices the credit went to now.")
    unapplied: Amount = Field(description="What the payment still holds as account credit after.")
    applied_at: datetime


@event_type("payment.refunded", topic=INVOICING_EVENTS)
class PaymentRefunded(PaymentPayload):
    """Money of a payment was given back to the customer (all or part of it)."""

    refund_id: str
    refunded: Amount = Field(description="What this refund gave back.")
    allocations: list[PaymentAllocation] = Field(description="Invoices reopened by the refund.")
    account_credit_used: Amount = Field(description="What came out of the account's credit.")
    refunded_at: datetime


@event_type("payment.reversed", topic=INVOICING_EVENTS)
class PaymentReversed(PaymentPayload):
    """A payment was taken back (a bounced check, a charge-back): its invoices are open again."""

    reason: str
    allocations: list[PaymentAllocation] = Field(description="Invoices reopened by the reversal.")
    account_credit_used: Amount = Field(description="What came out of the account's credit.")
    reversed_at: datetime


@event_type("payment.declined", topic=INVOICING_EVENTS)
class PaymentDeclined(PaymentPayload):
    """A card or ACH charge was declined: retried on `next_retry_on`, or given up (None)."""

    payment_method_id: str | None = None
    decline_code: str | None = Field(default=None, examples=["insufficient_funds"])
    attempt_number: int = Field(description="1 for the first charge, 2 for the first retry, ...")
    attempted_on: date
    next_retry_on: date | None = Field(description="None: no retry left, the payment failed.")
    given_up: bool = Field(description="True when this was the last retry (state `failed`).")
    declined_at: datetime


class PaymentMethodShown(EventPayload):
    """A payment method as events show it: never a token, only brand, last four and expiry."""

    payment_method_id: str = Field(examples=["pm_01JD0S6Y4Q7V3J6C3M9W1K2X8Z"])
    account_id: str
    kind: PaymentMethodKind
    brand: str | None = Field(default=None, examples=["visa"])
    last_four: str | None = Field(default=None, examples=["4242"])
    exp_month: int | None = None
    exp_year: int | None = None
    bank_last_four: str | None = Field(default=None, description="ACH: the account's last four.")


@event_type("payment_method.added", topic=INVOICING_EVENTS)
class PaymentMethodAdded(PaymentMethodShown):
    """A payment method was stored for an account (tokens only: nothing of the card is published)."""

    added_at: datetime


@event_type("payment_method.token_updated", topic=INVOICING_EVENTS)
class PaymentMethodTokenUpdated(PaymentMethodShown):
    """The account updater replaced a card's token and expiry; the method and its retries go on."""

    token_version: int = Field(description="2 after the first update.")
    previous_last_four: str | None = None
    previous_exp_month: int | None = None
    previous_exp_year: int | None = None
    reason: str | None = None
    updated_at: datetime


class LockboxPayment(EventPayload):
    """A payment a lockbox line made."""

    line_number: int
    payment_id: str
    account_id: str
    currency: CurrencyCode
    amount: Amount
    check_number: str
    status: Literal["matched", "partly_matched"]


@event_type("lockbox_file.imported", topic=INVOICING_EVENTS)
class LockboxFileImported(EventPayload):
    """A bank's lockbox file was imported: how many lines matched, and the payments they made."""

    file_id: str = Field(examples=["lbx_01JD0S6Y4Q7V3J6C3M9W1K2X8Z"])
    filename: str | None = None
    content_hash: str = Field(description="SHA-256 of the file's bytes, hex.")
    lines: int
    matched: int
    partly_matched: int
    unmatched: int
    payments: list[LockboxPayment] = Field(description="Each `payment.received` of the file, by line.")
    imported_at: datetime


@event_type("invoice.paid", topic=INVOICING_EVENTS)
class InvoicePaid(EventPayload):
    """An invoice has nothing left due."""

    invoice_id: str
    invoice_number: str
    account_id: str
    currency: CurrencyCode
    total: Amount
    paid_at: datetime


@event_type("invoice.written_off", topic=INVOICING_EVENTS)
class InvoiceWrittenOff(EventPayload):
    """Collections wrote off what remained due on an invoice (bad debt)."""

    invoice_id: str
    invoice_number: str
    account_id: str
    currency: CurrencyCode
    amount: Amount = Field(description="What was written off: the invoice's amount due then.")
    reason: str
    written_off_at: datetime


__all__ = [
    "InvoicePaid",
    "InvoiceWrittenOff",
    "LockboxFileImported",
    "LockboxPayment",
    "PaymentAllocation",
    "PaymentCreditApplied",
    "PaymentDeclined",
    "PaymentMethodAdded",
    "PaymentMethodKind",
    "PaymentMethodShown",
    "PaymentMethodTokenUpdated",
    "PaymentPayload",
    "PaymentReceived",
    "PaymentRefunded",
    "PaymentReversed",
]
