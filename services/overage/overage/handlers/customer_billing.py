"""What we billed customers, kept from invoicing's events (the consumer's unit of work commits)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from libs.contracts import invoicing
from overage.domain.customer_billing import BilledLine, may_bill_resale, rebill_key_of

if TYPE_CHECKING:
    from overage.handlers.unit_of_work import OverageUnitOfWork


async def apply_invoice_finalized(uow: OverageUnitOfWork, event: invoicing.InvoiceFinalized) -> None:
    """Keep the issued invoice's lines of subscriptions and overage re-bills."""
    lines = [
        BilledLine(
            invoice_id=event.invoice_id,
            charge_key=line.charge_key,
            account_id=event.account_id,
            subscription_id=line.subscription_id,
            currency=event.currency,
            period_start=line.period_start,
            period_end=line.period_end,
            invoice_date=event.invoice_date,
            amount=line.amount,
            rebill_key=rebill_key,
        )
        for line in event.lines
        for rebill_key in (rebill_key_of(line.charge_key, line.source_id),)
        if may_bill_resale(line.subscription_id, rebill_key)
    ]
    if lines:
        await uow.customer_billing.add_lines(lines)


async def apply_credit_note_issued(uow: OverageUnitOfWork, event: invoicing.CreditNoteIssued) -> None:
    """A credit on a line we keep bills less for that line's period (a credit against the whole
    invoice names no line, so no margin month can be told: it is left out)."""
    credits = [(line.charge_key, line.amount) for line in event.lines if line.charge_key is not None]
    if credits:
        await uow.customer_billing.credit_lines(
            credit_note_id=event.credit_note_id,
            invoice_id=event.invoice_id,
            credits=credits,
            note_date=event.note_date,
        )


async def apply_invoice_voided(uow: OverageUnitOfWork, event: invoicing.InvoiceVoided) -> None:
    """A voided invoice bills nothing."""
    await uow.customer_billing.void_invoice(event.invoice_id)
