"""Use cases of adjustments: create a credit or debit (or a service credit) pending for the
account's next invoice, cancel a pending one, read and list them, and `pending_adjustments` —
what the bill run bills of them for a chunk of accounts.

How an adjustment becomes applied: the bill run passes `pending_adjustments(...)` to
`billing_inputs(..., adjustments=...)`; the charge calculation bills each as a line keyed
`adjustment:{adjustment_id}`; once that line is stored on an invoice that is not void the
adjustment reads as applied (derived, nothing else is written), and a voided invoice makes it
pending again.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING

from invoicing.domain.adjustments import Adjustment, AdjustmentKind, NewAdjustment, require_currency
from invoicing.domain.billing_inputs import PendingAdjustment
from invoicing.domain.credit_notes import CREDITABLE_STATES
from invoicing.events.adjustments import outgoing_of
from invoicing.handlers.adjustments_port import AdjustmentFilters
from libs.platform.errors import ValidationFailed
from libs.platform.ids import new_id
from libs.platform.pagination import Page, PageRequest

if TYPE_CHECKING:
    from invoicing.handlers.unit_of_work import InvoicingUnitOfWork


async def create_adjustment(*, uow: InvoicingUnitOfWork, command: NewAdjustment) -> Adjustment:
    """Store a pending adjustment (`adjustment.created`). Refused with 422: an account unknown to the
    read model (or billed through its parent), another currency than the account's, a subscription
    not of the account, a service period already over, a corrected invoice of another account."""
    inputs = (await uow.billing_inputs.billing_inputs([command.account_id])).get(command.account_id)
    if inputs is None:
        raise ValidationFailed.single(
            "account_id",
            f"account {command.account_id!r} is unknown, or is invoiced through its parent "
            "(adjust the parent)",
        )
    account = inputs.account
    require_currency(command.currency, account.currency)
    today = uow.business_date(account.time_zone)
    if command.subscription_id is not None and all(
        s.subscription_id != command.subscription_id for s in inputs.subscriptions
    ):
        raise ValidationFailed.single(
            "subscription_id", f"subscription {command.subscription_id!r} is not billed to this account"
        )
    if command.invoice_id is not None:
        await _require_corrected_invoice(uow, command)
    effective = command.effective_date or today
    if command.kind is AdjustmentKind.SERVICE_CREDIT:
        if command.service_period_end is not None and command.service_period_end <= today:
            raise ValidationFailed.single(
                "service_period_end", "a service credit reduces a period still to bill; this one is over"
            )
        # Due from the period's first day: it lands on the invoice that bills that period.
        effective = command.service_period_start or effective
    adjustment = Adjustment.create(
        id=new_id("adj"),
        account_id=account.account_id,
        currency=command.currency,
        direction=command.direction,
        kind=command.kind,
        amount=command.amount,
        reason=command.reason,
        effective_date=effective,
        created_at=uow.clock.now(),
        subscription_id=command.subscription_id,
        service_period_start=command.service_period_start,
        service_period_end=command.service_period_end,
        invoice_id=command.invoice_id,
    )
    await uow.adjustments.add(adjustment)
    uow.emit_recorded(adjustment.events, outgoing_of)
    uow.audit(
        "adjustment.created",
        "adjustment",
        adjustment.id,
        {
            "account_id": adjustment.account_id,
            "direction": adjustment.direction.value,
            "kind": adjustment.kind.value,
            "amount": str(adjustment.amount),
            "currency": adjustment.currency,
            "effective_date": adjustment.effective_date.isoformat(),
        },
    )
    await uow.commit()
    return adjustment


async def cancel_adjustment(
    *, uow: InvoicingUnitOfWork, adjustment_id: str, reason: str | None = None
) -> Adjustment:
    """Cancel a pending adjustment (`adjustment.cancelled`); an applied or cancelled one is a 409.

    Its row is locked first: a bill run holding it (reading the pending ones) finishes, and the
    adjustment then reads as applied."""
    adjustment = await uow.adjustments.get(adjustment_id, lock=True)
    adjustment.cancel(reason=reason, at=uow.clock.now())
    await uow.adjustments.save(adjustment)
    uow.emit_recorded(adjustment.events, outgoing_of)
    uow.audit(
        "adjustment.cancelled",
        "adjustment",
        adjustment.id,
        {"state": ["pending", "cancelled"], "reason": reason},
    )
    await uow.commit()
    return adjustment


async def get_adjustment(*, uow: InvoicingUnitOfWork, adjustment_id: str) -> Adjustment:
    """One adjustment (404 when unknown)."""
    return await uow.adjustments.get(adjustment_id)


async def list_adjustments(
    *, uow: InvoicingUnitOfWork, filters: AdjustmentFilters, page: PageRequest
) -> Page[Adjustment]:
    """A page of adjustments in creation order, narrowed by account, state, kind, direction, subscription."""
    return await uow.adjustments.page(filters, page)


async def pending_adjustments(
    *, uow: InvoicingUnitOfWork, account_ids: Collection[str]
) -> dict[str, list[PendingAdjustment]]:
    """The pending adjustments of a chunk of accounts, by account (one query), for the bill run to
    pass to `billing_inputs(..., adjustments=...)` in the transaction that stores its drafts."""
    return await uow.adjustments.pending_adjustments(account_ids)


async def _require_corrected_invoice(uow: InvoicingUnitOfWork, command: NewAdjustment) -> None:
    # A debit correcting an issued invoice bills on the next one: same account, same currency.
    assert command.invoice_id is not None
    invoice = await uow.invoices.find(command.invoice_id)
    if invoice is None or invoice.account_id != command.account_id:
        raise ValidationFailed.single(
            "invoice_id", f"account {command.account_id!r} has no invoice {command.invoice_id!r}"
        )
    if invoice.state not in CREDITABLE_STATES:
        raise ValidationFailed.single(
            "invoice_id", f"invoice {command.invoice_id!r} is {invoice.state.value}, not issued"
        )
    require_currency(command.currency, invoice.currency)
