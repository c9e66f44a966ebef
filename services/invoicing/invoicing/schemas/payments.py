"""Requests and views of payments (`/v1/payments`), their refunds and reversals.

Amounts are decimal strings with at most the currency's minor units (JPY "1000", USD "12.50",
BHD "1.250"); a payment, a refund and a retry run answer what a finance person checks: the
allocations to invoices, the account credit left, the gateway attempts and their decline codes.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from invoicing.domain.payments import (
    AllocationSource,
    Payment,
    PaymentMethodKind,
    PaymentState,
    Refund,
    RefundKind,
)
from invoicing.handlers.payments import PaymentRequest
from libs.contracts.types import Amount, CurrencyCode, IsoDate, NonNegativeAmount
from libs.platform.money import amount_out
from libs.platform.text import ONE_LINE

EntityId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
Reference = Annotated[str, StringConstraints(min_length=1, max_length=200), ONE_LINE]
Reason = Annotated[str, StringConstraints(min_length=1, max_length=500), ONE_LINE]


class PaymentCreate(BaseModel):
    """A payment: card or ACH through a stored method (`payment_method_id`), or a check or wire
    received (`method_kind`); applied to `invoice_ids` in that order, else to the account's open
    invoices oldest first; the rest stays as account credit."""

    model_config = ConfigDict(extra="forbid")

    account_id: EntityId
    amount: NonNegativeAmount = Field(description="Positive, the currency's minor units at most.")
    currency: CurrencyCode = Field(description="The account's currency.")
    payment_method_id: EntityId | None = Field(default=None, description="A stored card or ACH method.")
    method_kind: PaymentMethodKind | None = Field(
        default=None, description="check or wire when no method is stored; else must be the method's kind."
    )
    reference: Reference | None = Field(default=None, examples=["CHK 10442"])
    invoice_ids: list[EntityId] = Field(default_factory=list, max_length=100)
    received_on: IsoDate | None = Field(
        default=None, description="A check's or wire's received date; default today in the account's zone."
    )

    def request(self) -> PaymentRequest:
        """The payment as the handler takes it."""
        return PaymentRequest(
            account_id=self.account_id,
            amount=self.amount,
            currency=self.currency,
            method_kind=self.method_kind,
            payment_method_id=self.payment_method_id,
            reference=self.reference,
            invoice_ids=tuple(self.invoice_ids),
            received_on=self.received_on,
        )


class RefundCreate(BaseModel):
    """A refund of (part of) a payment; without an amount, all that remains."""

    model_config = ConfigDict(extra="forbid")

    amount: NonNegativeAmount | None = None
    reason: Reason | None = None


class ReversalCreate(BaseModel):
    """A payment taken back whole: a bounced check, a charge-back."""

    model_config = ConfigDict(extra="forbid")

    reason: Reason = Field(examples=["check returned: insufficient funds"])


class RetryRun(BaseModel):
    """Run the declined-payment retries due on a day (default: today, UTC)."""

    model_config = ConfigDict(extra="forbid")

    on: IsoDate | None = None


class RetryOutcome(BaseModel):
    """What a retry run did: approved, declined again (and rescheduled), given up."""

    on: date
    approved: int
    declined: int
    failed: int
    skipped: int = Field(description="Refused by the rules (logged), left as they were.")


class AllocationPublic(BaseModel):
    """Money of the payment on one invoice."""

    invoice_id: str
    invoice_number: str
    amount: Amount
    returned: Amount = Field(description="Taken back by refunds and reversals.")
    source: AllocationSource
    applied_at: datetime


class AttemptPublic(BaseModel):
    """One try through the gateway."""

    number: int
    attempted_on: date
    outcome: str = Field(examples=["approved", "declined"])
    decline_code: str | None
    message: str | None
    gateway_reference: str | None
    enhanced_data: dict[str, Any] = Field(description="The Level 2/3 data sent with the charge.")


class PaymentPublic(BaseModel):
    """A payment and where its money is."""

    id: str = Field(examples=["pay_01JD0S6Y4Q7V3J6C3M9W1K2X8Z"])
    account_id: str
    currency: str
    amount: Amount
    method_kind: PaymentMethodKind
    payment_method_id: str | None
    reference: str | None
    state: PaymentState
    received_on: date | None
    applied: Amount
    unapplied: Amount = Field(description="Held as the account's credit.")
    refunded: Amount
    allocations: list[AllocationPublic]
    attempts: list[AttemptPublic]
    next_retry_on: date | None
    reversal_reason: str | None
    lockbox_line: str | None
    created_at: datetime


class TakenBackPublic(BaseModel):
    """What a refund took back from one invoice."""

    invoice_id: str
    invoice_number: str
    amount: Amount
    invoice_amount_due: Amount


class RefundPublic(BaseModel):
    """A refund or reversal."""

    id: str
    payment_id: str
    kind: RefundKind
    amount: Amount
    account_credit_used: Amount
    invoices_reopened: list[TakenBackPublic]
    reason: str | None
    created_at: datetime


def payment_public(payment: Payment) -> PaymentPublic:
    """The view of a payment."""
    c = payment.currency
    return PaymentPublic(
        id=payment.id,
        account_id=payment.account_id,
        currency=c,
        amount=amount_out(payment.amount, c),
        method_kind=payment.method_kind,
        payment_method_id=payment.payment_method_id,
        reference=payment.reference,
        state=payment.state,
        received_on=payment.received_on,
        applied=amount_out(payment.applied, c),
        unapplied=amount_out(payment.unapplied, c),
        refunded=amount_out(payment.refunded, c),
        allocations=[
            AllocationPublic(
                invoice_id=a.invoice_id,
                invoice_number=a.invoice_number,
                amount=amount_out(a.amount, c),
                returned=amount_out(a.returned, c),
                source=a.source,
                applied_at=a.applied_at,
            )
            for a in payment.allocations
        ],
        attempts=[
            AttemptPublic(
                number=t.number,
                attempted_on=t.attempted_on,
                outcome="approved" if t.approved else "declined",
                decline_code=t.decline_code,
                message=t.message,
                gateway_reference=t.gateway_reference,
                enhanced_data=t.enhanced_data,
            )
            for t in payment.attempts
        ],
        next_retry_on=payment.next_retry_on,
        reversal_reason=payment.reversal_reason,
        lockbox_line=payment.lockbox_line,
        created_at=payment.created_at,
    )


def refund_public(refund: Refund) -> RefundPublic:
    """The view of a refund or reversal."""
    currency = refund.currency
    return RefundPublic(
        id=refund.id,
        payment_id=refund.payment_id,
        kind=refund.kind,
        amount=amount_out(refund.amount, currency),
        account_credit_used=amount_out(refund.account_credit_used, currency),
        invoices_reopened=[
            TakenBackPublic(
                invoice_id=t.invoice_id,
                invoice_number=t.invoice_number,
                amount=amount_out(t.amount, currency),
                invoice_amount_due=amount_out(t.invoice_amount_due, currency),
            )
            for t in refund.taken_back
        ],
        reason=refund.reason,
        created_at=refund.created_at,
    )
