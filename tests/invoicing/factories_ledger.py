"""Invoicing's own events as the ledger reads them: issued invoices, credit notes, voids, payments,
refunds, reversals and write-offs, built from `libs.contracts` (no other engineer's code)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from libs.contracts import invoicing, payments

D = Decimal


def _at(day: date) -> datetime:
    return datetime.combine(day, time(15), tzinfo=UTC)


def invoice_line(
    charge_key: str,
    amount: str,
    *,
    period: tuple[date, date],
    product_id: str | None = "prod_seats",
    kind: str = "recurring",
    tax: str = "0.00",
) -> invoicing.InvoiceLinePayload:
    """A line of an issued invoice."""
    return invoicing.InvoiceLinePayload(
        charge_key=charge_key,
        kind=kind,
        description=f"{kind} {charge_key}",
        product_id=product_id,
        period_start=period[0],
        period_end=period[1],
        quantity=D(1),
        unit_price=D(amount),
        list_amount=D(amount),
        discount_amount=D(0),
        amount=D(amount),
        tax_rate=D("8.75") if D(tax) else D(0),
        tax_amount=D(tax),
        source_kind="subscription",
        source_id="sub_1",
    )


def invoice_finalized(
    invoice_id: str,
    number: str,
    on: date,
    lines: list[invoicing.InvoiceLinePayload],
    account_id: str = "acct_1",
) -> invoicing.InvoiceFinalized:
    """`invoice.finalized` of these lines, totals summed from them."""
    subtotal = sum((line.amount for line in lines), D(0))
    tax = sum((line.tax_amount for line in lines), D(0))
    return invoicing.InvoiceFinalized(
        invoice_id=invoice_id,
        number=number,
        account_id=account_id,
        customer_id="cus_1",
        bill_to_name="Acme Staffing",
        currency="USD",
        run_kind="cycle",
        period_start=min(line.period_start for line in lines),
        period_end=max(line.period_end for line in lines),
        invoice_date=on,
        due_date=on,
        payment_terms_days=0,
        subtotal=subtotal,
        discount_total=D(0),
        tax_total=tax,
        total=subtotal + tax,
        amount_due=subtotal + tax,
        lines=lines,
        finalized_at=_at(on),
    )


def credit_note_issued(
    credit_note_id: str,
    invoice: invoicing.InvoiceFinalized,
    on: date,
    lines: list[tuple[str | None, str, str]],
    *,
    account_credit: str = "0.00",
) -> invoicing.CreditNoteIssued:
    """`credit_note.issued` on an invoice: lines of (charge key or None, amount, tax)."""
    subtotal = sum((D(a) for _, a, _ in lines), D(0))
    tax = sum((D(t) for _, _, t in lines), D(0))
    return invoicing.CreditNoteIssued(
        credit_note_id=credit_note_id,
        number=f"CN-{on.year}-{credit_note_id[-6:]:0>6}",
        invoice_id=invoice.invoice_id,
        invoice_number=invoice.number,
        account_id=invoice.account_id,
        customer_id=invoice.customer_id,
        currency=invoice.currency,
        note_date=on,
        reason="Seats not used",
        lines=[
            invoicing.CreditNoteLinePayload(
                charge_key=key, description="credit", amount=D(a), tax_rate=D(0), tax_amount=D(t)
            )
            for key, a, t in lines
        ],
        subtotal=subtotal,
        tax_total=tax,
        total=subtotal + tax,
        invoice_credited=subtotal + tax,
        invoice_amount_due=invoice.total - subtotal - tax,
        invoice_state="finalized",
        account_credit=D(account_credit),
        issued_at=_at(on),
    )


def invoice_voided(invoice: invoicing.InvoiceFinalized, on: date) -> invoicing.InvoiceVoided:
    """`invoice.voided` of an issued invoice."""
    return invoicing.InvoiceVoided(
        invoice_id=invoice.invoice_id,
        number=invoice.number,
        account_id=invoice.account_id,
        currency=invoice.currency,
        total=invoice.total,
        reason="Billed in error",
        voided_at=_at(on),
    )


def _allocations(allocations: list[tuple[str, str]]) -> list[payments.PaymentAllocation]:
    return [
        payments.PaymentAllocation(
            invoice_id=invoice_id, invoice_number="INV-2026-000001", amount=D(amount), invoice_amount_due=D(0)
        )
        for invoice_id, amount in allocations
    ]


def payment_received(
    payment_id: str, amount: str, on: date, allocations: list[tuple[str, str]], unapplied: str = "0.00"
) -> payments.PaymentReceived:
    """`payment.received` applied to invoices, the rest kept as credit."""
    return payments.PaymentReceived(
        payment_id=payment_id,
        account_id="acct_1",
        currency="USD",
        amount=D(amount),
        method_kind="check",
        reference="1042",
        received_on=on,
        allocations=_allocations(allocations),
        unapplied=D(unapplied),
        received_at=_at(on),
    )


def credit_applied(
    payment_id: str, amount: str, on: date, invoice_id: str, unapplied: str
) -> payments.PaymentCreditApplied:
    """`payment.credit_applied`: credit an earlier payment left, applied to an invoice finalized later."""
    return payments.PaymentCreditApplied(
        payment_id=payment_id,
        account_id="acct_1",
        currency="USD",
        amount=D(amount),
        method_kind="check",
        reference="1042",
        allocations=_allocations([(invoice_id, amount)]),
        unapplied=D(unapplied),
        applied_at=_at(on),
    )


def payment_refunded(
    refund_id: str,
    payment_id: str,
    refunded: str,
    on: date,
    *,
    allocations: list[tuple[str, str]],
    credit_used: str,
) -> payments.PaymentRefunded:
    """`payment.refunded`: what reopened invoices and what came out of the account's credit."""
    return payments.PaymentRefunded(
        payment_id=payment_id,
        account_id="acct_1",
        currency="USD",
        amount=D(refunded),
        method_kind="check",
        refund_id=refund_id,
        refunded=D(refunded),
        allocations=_allocations(allocations),
        account_credit_used=D(credit_used),
        refunded_at=_at(on),
    )


def payment_reversed(
    payment_id: str, amount: str, on: date, *, allocations: list[tuple[str, str]], credit_used: str = "0.00"
) -> payments.PaymentReversed:
    """`payment.reversed`: a bounced check."""
    return payments.PaymentReversed(
        payment_id=payment_id,
        account_id="acct_1",
        currency="USD",
        amount=D(amount),
        method_kind="check",
        reason="NSF",
        allocations=_allocations(allocations),
        account_credit_used=D(credit_used),
        reversed_at=_at(on),
    )


def invoice_written_off(
    invoice: invoicing.InvoiceFinalized, amount: str, on: date
) -> payments.InvoiceWrittenOff:
    """`invoice.written_off` of what remained due."""
    return payments.InvoiceWrittenOff(
        invoice_id=invoice.invoice_id,
        invoice_number=invoice.number,
        account_id=invoice.account_id,
        currency=invoice.currency,
        amount=D(amount),
        reason="Uncollectible",
        written_off_at=_at(on),
    )


def balances(trial_balance: dict[str, Any]) -> dict[str, str]:
    """Account code -> balance (debits - credits) of a trial balance answer."""
    return {row["account"]: row["balance"] for row in trial_balance["accounts"]}
