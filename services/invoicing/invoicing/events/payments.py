"""Payments -> `payment.received`, `payment.declined`, `payment.credit_applied`, `payment.refunded`,
`payment.reversed` and `invoice.paid`, keyed by the account (libs/contracts/payments.py)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal

from invoicing.domain.invoices import Invoice
from invoicing.domain.payments import Allocation, GatewayAttempt, Payment, PaymentState, Refund, RefundKind
from libs.contracts import payments as contracts
from libs.contracts.envelope import EventPayload
from libs.platform.money import amount_out


def _base(payment: Payment) -> dict[str, object]:
    return {
        "payment_id": payment.id,
        "account_id": payment.account_id,
        "currency": payment.currency,
        "amount": amount_out(payment.amount, payment.currency),
        "method_kind": payment.method_kind.value,
        "reference": payment.reference,
    }


def _allocations(
    payment: Payment, allocations: Sequence[Allocation], due_after: Mapping[str, Decimal]
) -> list[contracts.PaymentAllocation]:
    return [
        contracts.PaymentAllocation(
            invoice_id=allocation.invoice_id,
            invoice_number=allocation.invoice_number,
            amount=amount_out(allocation.amount, payment.currency),
            invoice_amount_due=amount_out(due_after[allocation.invoice_id], payment.currency),
        )
        for allocation in allocations
    ]


def payment_received(payment: Payment, due_after: Mapping[str, Decimal]) -> tuple[EventPayload, str]:
    """A received payment, how it was applied and the credit it left."""
    assert payment.received_on is not None and payment.received_at is not None
    payload = contracts.PaymentReceived(
        **_base(payment),
        received_on=payment.received_on,
        allocations=_allocations(payment, payment.allocations, due_after),
        unapplied=amount_out(payment.unapplied, payment.currency),
        received_at=payment.received_at,
    )
    return payload, payment.account_id


def payment_declined(payment: Payment, attempt: GatewayAttempt) -> tuple[EventPayload, str]:
    """A declined charge (first or a retry): its code, and the next retry or none (given up)."""
    payload = contracts.PaymentDeclined(
        **_base(payment),
        payment_method_id=payment.payment_method_id,
        decline_code=attempt.decline_code,
        attempt_number=attempt.number,
        attempted_on=attempt.attempted_on,
        next_retry_on=payment.next_retry_on,
        given_up=payment.state is PaymentState.FAILED,
        declined_at=attempt.attempted_at,
    )
    return payload, payment.account_id


def credit_applied(
    payment: Payment, allocations: Sequence[Allocation], due_after: Mapping[str, Decimal], at: datetime
) -> tuple[EventPayload, str]:
    """A payment's account credit applied to a newly finalized invoice."""
    payload = contracts.PaymentCreditApplied(
        **_base(payment),
        allocations=_allocations(payment, allocations, due_after),
        unapplied=amount_out(payment.unapplied, payment.currency),
        applied_at=at,
    )
    return payload, payment.account_id


def payment_given_back(payment: Payment, refund: Refund) -> tuple[EventPayload, str]:
    """A refund (`payment.refunded`) or a reversal (`payment.reversed`) with the invoices it reopened."""
    currency = payment.currency
    allocations = [
        contracts.PaymentAllocation(
            invoice_id=taken.invoice_id,
            invoice_number=taken.invoice_number,
            amount=amount_out(taken.amount, currency),
            invoice_amount_due=amount_out(taken.invoice_amount_due, currency),
        )
        for taken in refund.taken_back
    ]
    credit_used = amount_out(refund.account_credit_used, currency)
    payload: EventPayload
    if refund.kind is RefundKind.REVERSAL:
        payload = contracts.PaymentReversed(
            **_base(payment),
            reason=refund.reason or "",
            allocations=allocations,
            account_credit_used=credit_used,
            reversed_at=refund.created_at,
        )
    else:
        payload = contracts.PaymentRefunded(
            **_base(payment),
            refund_id=refund.id,
            refunded=amount_out(refund.amount, currency),
            allocations=allocations,
            account_credit_used=credit_used,
            refunded_at=refund.created_at,
        )
    return payload, payment.account_id


def invoice_paid(invoice: Invoice, at: datetime) -> tuple[EventPayload, str]:
    """An invoice with nothing left due."""
    payload = contracts.InvoicePaid(
        invoice_id=invoice.id,
        invoice_number=invoice.number_text or invoice.id,
        account_id=invoice.account_id,
        currency=invoice.currency,
        total=amount_out(invoice.total, invoice.currency),
        paid_at=at,
    )
    return payload, invoice.account_id
