"""Payments and how their money is applied: to open invoices, to the account's credit, and back.

A payment (card or ACH charged through the gateway, a check or a wire recorded as received) is
applied to the invoices the caller names, in the order named, or else to the account's open
invoices oldest first (invoice date, then number). What no invoice takes stays on the payment as
*unapplied*: the account's credit, applied to the next invoice when it is finalized.

A refund or a reversal (a bounced check, a charge-back) takes money back: first what the payment
still holds as account credit (money the customer has no use for — refunding an overpayment must
not reopen the invoice it paid), then its allocations, latest first, each reopening its invoice.
A reversal takes back everything that remains.

A declined card is recorded as an attempt with its decline code and nothing applied; it is tried
again on a schedule counted in days from the first decline (`RETRY_SCHEDULE_DAYS`), then given up.
Nothing here does I/O: handlers read invoices and payments, these rules say what moves.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from libs.platform.errors import Conflict, ValidationFailed
from libs.platform.money import minor_units, minor_units_problem

RETRY_SCHEDULE_DAYS: tuple[int, ...] = (1, 3, 7)
"""Days after the first decline on which a declined card or ACH debit is tried again."""


class PaymentMethodKind(StrEnum):
    """How the customer pays."""

    CARD = "card"
    ACH = "ach"
    CHECK = "check"
    WIRE = "wire"
    CREDIT = "credit"
    """No money moved: the excess credit an issued invoice carried to the account
    (`Invoice.account_credit_carried`); never taken from a caller."""

    @property
    def through_gateway(self) -> bool:
        """True when the money is taken through the gateway (card, ACH); checks and wires arrive."""
        return self in (PaymentMethodKind.CARD, PaymentMethodKind.ACH)


class PaymentState(StrEnum):
    """Where a payment is in its life."""

    DECLINED = "declined"
    """The gateway declined it; it is tried again on the retry schedule. Nothing is applied."""
    FAILED = "failed"
    """Declined on its last scheduled retry: given up."""
    RECEIVED = "received"
    """The money is in: applied to invoices, the rest account credit (refunds may have taken some back)."""
    REFUNDED = "refunded"
    """Refunded in full."""
    REVERSED = "reversed"
    """Taken back (a bounced check, a charge-back)."""


class AllocationSource(StrEnum):
    """Why money went to an invoice: with the payment itself, or later out of the account's credit."""

    PAYMENT = "payment"
    CREDIT = "account_credit"


class PaymentConflict(Conflict):
    """The payment's state forbids the change (409): refunding a declined or reversed payment."""


@dataclass(frozen=True, slots=True)
class OpenInvoice:
    """What allocation needs of an invoice that may take money."""

    id: str
    number: str
    invoice_date: date
    amount_due: Decimal


@dataclass(frozen=True, slots=True)
class PlannedAllocation:
    """An amount to apply to one invoice."""

    invoice_id: str
    invoice_number: str
    amount: Decimal


def oldest_first(invoices: Iterable[OpenInvoice]) -> list[OpenInvoice]:
    """Open invoices in the order an unnamed payment pays them: invoice date, then number."""
    return sorted(invoices, key=lambda invoice: (invoice.invoice_date, invoice.number))


def plan_allocations(
    amount: Decimal, invoices: Sequence[OpenInvoice]
) -> tuple[list[PlannedAllocation], Decimal]:
    """Apply `amount` to `invoices` in the order given, each up to its amount due; return the
    allocations and what remains unapplied (the account's credit)."""
    remaining = amount
    planned: list[PlannedAllocation] = []
    for invoice in invoices:
        if remaining <= 0:
            break
        take = min(remaining, invoice.amount_due)
        if take > 0:
            planned.append(PlannedAllocation(invoice.id, invoice.number, take))
            remaining -= take
    return planned, remaining


def require_payment_amount(amount: Decimal, currency: str, *, field_name: str = "amount") -> Decimal:
    """A payment or refund amount: positive, with at most the currency's minor units (else 422)."""
    problem = minor_units_problem(amount, currency)
    if problem is not None:
        raise ValidationFailed.single(field_name, problem, code="too_many_decimals")
    if amount <= 0:
        raise ValidationFailed.single(field_name, "must be positive")
    return amount.quantize(Decimal(1).scaleb(-minor_units(currency)))


@dataclass(slots=True)
class Allocation:
    """Money of a payment applied to one invoice; `returned` is what refunds and reversals took back."""

    position: int
    invoice_id: str
    invoice_number: str
    amount: Decimal
    applied_at: datetime
    source: AllocationSource = AllocationSource.PAYMENT
    returned: Decimal = Decimal(0)

    @property
    def net(self) -> Decimal:
        """What the invoice still holds of this allocation."""
        return self.amount - self.returned


@dataclass(frozen=True, slots=True)
class GatewayAttempt:
    """One try at taking the money through the gateway, approved or declined, with what was sent."""

    number: int
    attempted_on: date
    attempted_at: datetime
    approved: bool
    token: str
    decline_code: str | None = None
    message: str | None = None
    gateway_reference: str | None = None
    enhanced_data: dict[str, Any] = field(default_factory=dict)
    """The Level 2/3 data sent with the charge (customer code, tax amount, line items)."""


@dataclass(frozen=True, slots=True)
class TakenBack:
    """What a refund or a reversal took back from one invoice, and what remained due on it after."""

    invoice_id: str
    invoice_number: str
    amount: Decimal
    invoice_amount_due: Decimal


class RefundKind(StrEnum):
    """Money given back on request, or a payment taken back by the bank."""

    REFUND = "refund"
    REVERSAL = "reversal"


@dataclass(frozen=True, slots=True)
class Refund:
    """A refund or a reversal of (part of) a payment."""

    id: str
    payment_id: str
    kind: RefundKind
    amount: Decimal
    account_credit_used: Decimal
    taken_back: tuple[TakenBack, ...]
    reason: str | None
    created_at: datetime
    currency: str
    gateway_reference: str | None = None


@dataclass(eq=False)
class Payment:
    """A payment aggregate: its money, where it went, and its gateway attempts."""

    id: str
    account_id: str
    currency: str
    amount: Decimal
    method_kind: PaymentMethodKind
    created_at: datetime
    state: PaymentState
    payment_method_id: str | None = None
    reference: str | None = None
    requested_invoice_ids: tuple[str, ...] = ()
    """The invoices the caller named (empty: the account's open invoices, oldest first)."""
    received_on: date | None = None
    received_at: datetime | None = None
    unapplied: Decimal = Decimal(0)
    """What no invoice took: the account's credit still held by this payment."""
    refunded: Decimal = Decimal(0)
    """What refunds and reversals gave back."""
    allocations: list[Allocation] = field(default_factory=list)
    attempts: list[GatewayAttempt] = field(default_factory=list)
    next_retry_on: date | None = None
    reversal_reason: str | None = None
    lockbox_line: str | None = None
    """`{file id}:{line number}` when the payment came from a lockbox file."""
    version: int = 0

    @property
    def applied(self) -> Decimal:
        """What invoices hold of this payment now."""
        return self._sum(allocation.net for allocation in self.allocations)

    @property
    def refundable(self) -> Decimal:
        """What may still be refunded: the amount less what was given back."""
        if self.state not in (PaymentState.RECEIVED,):
            return self._sum(())
        return self.amount - self.refunded

    @property
    def first_declined_on(self) -> date | None:
        """The day of the first decline: the retry schedule counts from it."""
        declined = [attempt.attempted_on for attempt in self.attempts if not attempt.approved]
        return min(declined) if declined else None

    def receive(self, *, on: date, at: datetime, allocations: Sequence[PlannedAllocation]) -> None:
        """The money is in: apply it as planned, the rest account credit."""
        if self.received_at is not None:
            raise PaymentConflict(f"payment {self.id} was already received")
        self.state = PaymentState.RECEIVED
        self.received_on, self.received_at = on, at
        self.next_retry_on = None
        for planned in allocations:
            self.allocate(planned, at=at, source=AllocationSource.PAYMENT)
        self.unapplied = self.amount - self.applied

    def allocate(self, planned: PlannedAllocation, *, at: datetime, source: AllocationSource) -> Allocation:
        """Apply money to an invoice (out of the account credit when `source` says so)."""
        allocation = Allocation(
            len(self.allocations), planned.invoice_id, planned.invoice_number, planned.amount, at, source
        )
        self.allocations.append(allocation)
        if source is AllocationSource.CREDIT:
            if planned.amount > self.unapplied:
                raise ValueError(f"{planned.amount} is more than the {self.unapplied} credit of {self.id}")
            self.unapplied -= planned.amount
        return allocation

    def decline(self, attempt: GatewayAttempt, *, schedule: Sequence[int] = RETRY_SCHEDULE_DAYS) -> None:
        """Record a declined attempt; schedule the next retry, or give up after the last."""
        self.attempts.append(attempt)
        due = next_retry_on(self.first_declined_on or attempt.attempted_on, self.retries, schedule)
        # Retries run late (a job that did not run for days) are never due again the same day.
        self.next_retry_on = None if due is None else max(due, attempt.attempted_on + timedelta(days=1))
        self.state = PaymentState.DECLINED if self.next_retry_on is not None else PaymentState.FAILED

    @property
    def retries(self) -> int:
        """How many times the payment was tried again after its first attempt."""
        return max(0, len(self.attempts) - 1)

    def plan_take_back(self, amount: Decimal) -> tuple[Decimal, list[tuple[Allocation, Decimal]]]:
        """What a refund of `amount` takes: account credit first, then allocations latest first."""
        if self.state is not PaymentState.RECEIVED:
            raise PaymentConflict(f"payment {self.id} is {self.state.value}: nothing can be given back")
        if amount > self.refundable:
            raise RefundTooLarge.single(
                "amount",
                f"{amount} {self.currency} is more than the {self.refundable} {self.currency} "
                "that remains of the payment",
                code="more_than_remains",
            )
        credit = min(amount, self.unapplied)
        remaining = amount - credit
        taken: list[tuple[Allocation, Decimal]] = []
        for allocation in sorted(self.allocations, key=lambda a: a.position, reverse=True):
            if remaining <= 0:
                break
            take = min(remaining, allocation.net)
            if take > 0:
                taken.append((allocation, take))
                remaining -= take
        return credit, taken

    def give_back(
        self,
        credit: Decimal,
        taken: Sequence[tuple[Allocation, Decimal]],
        *,
        kind: RefundKind,
        reason: str | None,
    ) -> None:
        """Apply a planned take-back: the credit and allocations reduced, the state moved on."""
        self.unapplied -= credit
        for allocation, amount in taken:
            allocation.returned += amount
        self.refunded += credit + sum((amount for _, amount in taken), Decimal(0))
        if kind is RefundKind.REVERSAL:
            self.state = PaymentState.REVERSED
            self.reversal_reason = reason
        elif self.refunded == self.amount:
            self.state = PaymentState.REFUNDED

    def _sum(self, amounts: Iterable[Decimal]) -> Decimal:
        return sum(amounts, Decimal(0).scaleb(-minor_units(self.currency)))


class RefundTooLarge(ValidationFailed):
    """A refund of more than remains of the payment (422)."""

    code = "refund_more_than_remains"


def next_retry_on(first_declined_on: date, retries_done: int, schedule: Sequence[int]) -> date | None:
    """The day of the next retry after `retries_done` retries, or None when the schedule is spent."""
    if retries_done >= len(schedule):
        return None
    return first_declined_on + timedelta(days=schedule[retries_done])


def take_credit(holders: Sequence[Payment], amount_due: Decimal) -> list[tuple[Payment, Decimal]]:
    """Which payments' credit pays an invoice of `amount_due`: the oldest credit first."""
    remaining = amount_due
    taken: list[tuple[Payment, Decimal]] = []
    for payment in sorted(holders, key=lambda p: (p.received_at or p.created_at, p.id)):
        if remaining <= 0:
            break
        take = min(remaining, payment.unapplied)
        if take > 0:
            taken.append((payment, take))
            remaining -= take
    return taken
