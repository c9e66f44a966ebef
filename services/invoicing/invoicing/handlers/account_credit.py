"""The account's credit and the invoices that take it, in the caller's transaction (not committed).

An account holds credit as received payments' unapplied money: an overpayment, and the excess an
issued invoice's credits had over its charges (Kill Bill's credit balance adjustment: the invoice
totals 0 and carries the rest to the account, `Invoice.account_credit_carried`). That excess is
held as a payment of kind `credit` — no money moved — received on the invoice date, so the next
invoices take it exactly as they take an overpayment, oldest credit first, when they are issued
(`payment.credit_applied`; the ledger books it from customer credit to A/R), refunds pay it out,
the account's balance and statement show it.
"""

from __future__ import annotations

from collections.abc import Collection
from decimal import Decimal
from typing import TYPE_CHECKING

from invoicing.domain.invoices import Invoice, InvoiceState
from invoicing.domain.payments import (
    AllocationSource,
    Payment,
    PaymentMethodKind,
    PaymentState,
    PlannedAllocation,
    take_credit,
)
from invoicing.events import payments as events
from libs.platform.ids import new_id

if TYPE_CHECKING:
    from invoicing.handlers.unit_of_work import InvoicingUnitOfWork


async def settle_issued(*, uow: InvoicingUnitOfWork, invoices: Collection[Invoice]) -> None:
    """Just-issued invoices: each paid out of its account's credit (one query finds the accounts
    holding any), then each one's excess credit carried to its account. Saves what changed."""
    holding = await uow.payments.accounts_holding_credit({invoice.account_id for invoice in invoices})
    for invoice in invoices:
        if (invoice.account_id, invoice.currency) in holding and await apply_account_credit(
            uow=uow, invoice=invoice
        ):
            await uow.invoices.save(invoice)
        await carry_account_credit(uow=uow, invoice=invoice)


async def apply_account_credit(*, uow: InvoicingUnitOfWork, invoice: Invoice) -> Decimal:
    """Pay a just-finalized invoice out of its account's credit (earlier payments' unapplied money,
    oldest first), in `uow`, not committed; returns what was applied. The invoice is saved by the caller."""
    if invoice.state not in (InvoiceState.FINALIZED, InvoiceState.PARTIALLY_PAID) or invoice.amount_due <= 0:
        return Decimal(0)
    holders = await uow.payments.credit_holders(invoice.account_id, invoice.currency)
    applied = Decimal(0)
    at = uow.clock.now()
    for payment, amount in take_credit(holders, invoice.amount_due):
        planned = PlannedAllocation(invoice.id, invoice.number_text or invoice.id, amount)
        allocation = payment.allocate(planned, at=at, source=AllocationSource.CREDIT)
        invoice.apply_payment(amount, invoice.currency)
        applied += amount
        await uow.payments.save(payment)
        uow.emit_outgoing(events.credit_applied(payment, [allocation], {invoice.id: invoice.amount_due}, at))
        uow.audit(
            "payment.credit_applied",
            "payment",
            payment.id,
            {"invoice_id": invoice.id, "amount": str(amount), "unapplied": str(payment.unapplied)},
        )
    if applied and invoice.state is InvoiceState.PAID:
        uow.emit_outgoing(events.invoice_paid(invoice, at))
    return applied


async def carry_account_credit(*, uow: InvoicingUnitOfWork, invoice: Invoice) -> Payment | None:
    """Hold an issued invoice's excess credit for the account (None when it carries none)."""
    carried = invoice.account_credit_carried
    if carried <= 0 or invoice.invoice_date is None:
        return None
    at = uow.clock.now()
    credit = Payment(
        id=new_id("pay"),
        account_id=invoice.account_id,
        currency=invoice.currency,
        amount=carried,
        method_kind=PaymentMethodKind.CREDIT,
        created_at=at,
        state=PaymentState.RECEIVED,
        reference=invoice.number_text,
        received_on=invoice.invoice_date,
        received_at=at,
        unapplied=carried,
    )
    await uow.payments.add(credit)
    uow.audit(
        "account_credit.carried",
        "payment",
        credit.id,
        {"invoice_id": invoice.id, "invoice_number": invoice.number_text, "amount": str(carried)},
    )
    return credit
