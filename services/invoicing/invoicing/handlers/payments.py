"""Use cases of payments: take one (through the gateway, or record a check or wire), retry declined
ones on their schedule, refund or reverse one (account credit: `handlers/account_credit.py`).

Invoices are locked (`invoices.lock`) before money is applied to them or taken back, and a payment
before it is refunded or retried: two payments of one account at once are applied one after the
other and never pay an invoice twice. The payment, its allocations, the invoices' paid amounts and
states, the audit records and the events (`payment.*`, `invoice.paid`) commit together. A refusal
(404, 409, 422) changes nothing. A declined card is a payment too: its attempt and decline code are
stored (201, state `declined`), nothing is applied, `payment.declined` is published, and it is
retried on the schedule.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from invoicing.domain.invoices import Invoice, InvoiceConflict, InvoiceState
from invoicing.domain.payment_methods import PaymentMethod
from invoicing.domain.payments import (
    GatewayAttempt,
    OpenInvoice,
    Payment,
    PaymentConflict,
    PaymentMethodKind,
    PaymentState,
    PlannedAllocation,
    Refund,
    RefundKind,
    TakenBack,
    plan_allocations,
    require_payment_amount,
)
from invoicing.events import payments as events
from invoicing.handlers.collections import settle_collections_for_account
from invoicing.handlers.payment_gateway_port import PaymentGateway, enhanced_data_for
from invoicing.handlers.payments_port import PaymentFilters
from libs.platform.errors import DomainError, NotFound, ValidationFailed
from libs.platform.ids import new_id
from libs.platform.logging import get_logger
from libs.platform.money import CurrencyMismatch
from libs.platform.pagination import Page, PageRequest

if TYPE_CHECKING:
    from invoicing.handlers.unit_of_work import InvoicingUnitOfWork

log = get_logger("invoicing.payments")


@dataclass(frozen=True)
class PaymentRequest:
    """What the caller asks: who pays, how much, how, and (optionally) which invoices."""

    account_id: str
    amount: Decimal
    currency: str
    method_kind: PaymentMethodKind | None = None
    payment_method_id: str | None = None
    reference: str | None = None
    invoice_ids: tuple[str, ...] = ()
    received_on: date | None = None


async def take_payment(
    *, uow: InvoicingUnitOfWork, gateway: PaymentGateway, request: PaymentRequest
) -> Payment:
    """Take a payment and apply it (see the module); committed."""
    payment = await stage_payment(uow=uow, gateway=gateway, request=request)
    await uow.commit()
    return payment


async def stage_payment(
    *,
    uow: InvoicingUnitOfWork,
    gateway: PaymentGateway,
    request: PaymentRequest,
    lockbox_line: str | None = None,
) -> Payment:
    """`take_payment` in `uow`, not committed (a lockbox file stages one per line)."""
    account = await uow.billing_inputs.find_account(request.account_id)
    if account is None:
        raise NotFound("account", request.account_id)
    if request.currency != account.currency:
        raise CurrencyMismatch.single(
            "currency",
            f"account {account.account_id} is billed in {account.currency}, not {request.currency}",
        )
    amount = require_payment_amount(request.amount, request.currency)
    method = await _method_of(uow, request)
    kind = method.kind if method is not None else request.method_kind
    assert kind is not None
    if kind.through_gateway and request.received_on is not None and lockbox_line is None:
        raise ValidationFailed.single(
            "received_on", "a card or ACH payment is charged today: no received date"
        )
    received_on = request.received_on or uow.business_date(account.time_zone)
    invoices = await _invoices_to_pay(uow, request.account_id, request.currency, request.invoice_ids)
    payment = Payment(
        id=new_id("pay"),
        account_id=request.account_id,
        currency=request.currency,
        amount=amount,
        method_kind=kind,
        created_at=uow.clock.now(),
        state=PaymentState.DECLINED,  # until received below, or declined: never stored so
        payment_method_id=method.id if method is not None else None,
        reference=request.reference,
        requested_invoice_ids=tuple(request.invoice_ids),
        lockbox_line=lockbox_line,
    )
    planned, _ = plan_allocations(amount, [_open(invoice) for invoice in invoices])
    if method is not None and kind.through_gateway:
        attempt = await _charge(
            gateway, payment, method, invoices, planned, on=received_on, number=1, uow=uow
        )
        if not attempt.approved:
            payment.decline(attempt)
            await uow.payments.add(payment)
            uow.emit_outgoing(events.payment_declined(payment, attempt))
            uow.audit("payment.declined", "payment", payment.id, _decline_audit(payment, attempt))
            return payment
        payment.attempts.append(attempt)
    await _receive(uow, payment, invoices, planned, on=received_on, add=True)
    return payment


async def retry_declined(
    *, uow: InvoicingUnitOfWork, gateway: PaymentGateway, on: date, limit: int = 500
) -> dict[str, int]:
    """Try again every declined payment whose retry is due on `on` (each in a savepoint: one that
    is refused is left as it was), committed together. A payment already tried for its due day is
    not due again, so a second run of a day does nothing. Counts approved, declined again, given
    up, skipped."""
    counts = {"approved": 0, "declined": 0, "failed": 0, "skipped": 0}
    for payment_id in await uow.payments.retries_due(on, limit=limit):
        try:
            async with uow.savepoint():
                payment = await stage_retry(uow=uow, gateway=gateway, payment_id=payment_id, on=on)
        except DomainError as refused:
            # Its method removed, its invoices changed under it: left as it was, said in the log.
            log.warning("payments.retry_skipped", payment_id=payment_id, reason=str(refused))
            counts["skipped"] += 1
            continue
        if payment is not None:
            counts[_outcome_name(payment)] += 1
    await uow.commit()
    return counts


async def stage_retry(
    *, uow: InvoicingUnitOfWork, gateway: PaymentGateway, payment_id: str, on: date
) -> Payment | None:
    """Retry one declined payment due on `on` with its method's current token (after an account
    update, the new card), in `uow`; None when it is not due (already tried, approved, given up)."""
    payment = await uow.payments.get(payment_id, lock=True)
    if (
        payment.state is not PaymentState.DECLINED
        or payment.next_retry_on is None
        or payment.next_retry_on > on
    ):
        return None
    method = await uow.payments.get_method(payment.payment_method_id or "")
    requested = [i for i in payment.requested_invoice_ids if await _still_open(uow, i)]
    invoices = await _invoices_to_pay(uow, payment.account_id, payment.currency, requested)
    planned, _ = plan_allocations(payment.amount, [_open(invoice) for invoice in invoices])
    attempt = await _charge(
        gateway, payment, method, invoices, planned, on=on, number=len(payment.attempts) + 1, uow=uow
    )
    if attempt.approved:
        payment.attempts.append(attempt)
        await _receive(uow, payment, invoices, planned, on=on, add=False)
    else:
        payment.decline(attempt)
        await uow.payments.save(payment)
        uow.emit_outgoing(events.payment_declined(payment, attempt))
        uow.audit("payment.declined", "payment", payment.id, _decline_audit(payment, attempt))
    return payment


async def refund_payment(
    *,
    uow: InvoicingUnitOfWork,
    gateway: PaymentGateway,
    payment_id: str,
    amount: Decimal | None,
    reason: str | None,
) -> Refund:
    """Give back `amount` (default: all that remains) of a received payment: its account credit first,
    then its allocations latest first, each invoice reopened. More than remains is a 422; a payment
    not received (declined, reversed, refunded) a 409. Card and ACH refunds go through the gateway."""
    payment = await uow.payments.get(payment_id, lock=True)
    wanted = payment.refundable if amount is None else require_payment_amount(amount, payment.currency)
    refund = await _give_back(uow, payment, wanted, kind=RefundKind.REFUND, reason=reason)
    if payment.method_kind.through_gateway:
        charged = next((a for a in reversed(payment.attempts) if a.approved), None)
        if charged is not None and charged.gateway_reference is not None:
            answer = await gateway.refund(
                charged.gateway_reference, refund.amount, payment.currency, idempotency_key=refund.id
            )
            refund = replace(refund, gateway_reference=answer.reference)
    await _store_refund(uow, payment, refund)
    await uow.commit()
    return refund


async def reverse_payment(*, uow: InvoicingUnitOfWork, payment_id: str, reason: str) -> Refund:
    """Take back a received payment whole (a bounced check, a charge-back): what it still holds as
    account credit, then every invoice it paid, latest first, reopened. 409 unless received."""
    payment = await uow.payments.get(payment_id, lock=True)
    if payment.method_kind is PaymentMethodKind.CREDIT:
        raise PaymentConflict(f"{payment.id} is account credit an invoice carried: no bank takes it back")
    refund = await _give_back(uow, payment, payment.refundable, kind=RefundKind.REVERSAL, reason=reason)
    await _store_refund(uow, payment, refund)
    await uow.commit()
    return refund


async def get_payment(*, uow: InvoicingUnitOfWork, payment_id: str) -> Payment:
    """One payment with its allocations and attempts (404 when unknown)."""
    return await uow.payments.get(payment_id)


async def list_payments(
    *, uow: InvoicingUnitOfWork, filters: PaymentFilters, page: PageRequest
) -> Page[Payment]:
    """A page of payments in creation order, narrowed by account, state and invoice paid."""
    return await uow.payments.page(filters, page)


async def refunds_of(*, uow: InvoicingUnitOfWork, payment_id: str) -> list[Refund]:
    """The refunds and reversals of a payment (404 when the payment is unknown)."""
    await uow.payments.get(payment_id)
    return await uow.payments.refunds_of(payment_id)


# --- steps -------------------------------------------------------------------------------------


async def _method_of(uow: InvoicingUnitOfWork, request: PaymentRequest) -> PaymentMethod | None:
    if request.method_kind is PaymentMethodKind.CREDIT:
        raise ValidationFailed.single(
            "method_kind", "account credit is carried from invoices, never received as a payment"
        )
    if request.payment_method_id is None:
        if request.method_kind is None or request.method_kind.through_gateway:
            raise ValidationFailed.single(
                "payment_method_id", "a card or ACH payment is charged through a stored payment method"
            )
        return None
    method = await uow.payments.find_method(request.payment_method_id)
    if method is None or method.account_id != request.account_id:
        raise ValidationFailed.single(
            "payment_method_id",
            f"account {request.account_id} has no payment method {request.payment_method_id}",
        )
    if request.method_kind is not None and request.method_kind is not method.kind:
        raise ValidationFailed.single("method_kind", f"the payment method is a {method.kind.value}")
    return method


async def _invoices_to_pay(
    uow: InvoicingUnitOfWork,
    account_id: str,
    currency: str,
    invoice_ids: Sequence[str],
) -> list[Invoice]:
    """The named invoices, locked and checked (404, 409 not open, 422 another account or currency),
    else the account's open invoices oldest first, locked."""
    if invoice_ids:
        if len(set(invoice_ids)) != len(invoice_ids):
            raise ValidationFailed.single("invoice_ids", "an invoice is named twice")
        invoices = []
        for index, invoice_id in enumerate(invoice_ids):
            invoice = await uow.invoices.lock(invoice_id)
            if invoice.account_id != account_id:
                raise ValidationFailed.single(
                    f"invoice_ids.{index}",
                    f"invoice {invoice.number_text or invoice.id} is not account {account_id}'s",
                )
            if invoice.currency != currency:
                raise CurrencyMismatch.single(
                    "currency",
                    f"a {currency} payment cannot pay {invoice.currency} invoice {invoice.number_text}",
                )
            if invoice.state not in (InvoiceState.FINALIZED, InvoiceState.PARTIALLY_PAID):
                raise InvoiceConflict(
                    f"invoice {invoice.number_text or invoice.id} is {invoice.state.value}: "
                    "a payment pays a finalized invoice with something due"
                )
            invoices.append(invoice)
        return invoices
    return [await uow.invoices.lock(o.id) for o in await uow.payments.open_invoices(account_id, currency)]


async def _still_open(uow: InvoicingUnitOfWork, invoice_id: str) -> bool:
    invoice = await uow.invoices.find(invoice_id)
    return invoice is not None and invoice.state in (InvoiceState.FINALIZED, InvoiceState.PARTIALLY_PAID)


def _open(invoice: Invoice) -> OpenInvoice:
    assert invoice.invoice_date is not None
    return OpenInvoice(
        invoice.id, invoice.number_text or invoice.id, invoice.invoice_date, invoice.amount_due
    )


async def _charge(
    gateway: PaymentGateway,
    payment: Payment,
    method: PaymentMethod,
    invoices: Sequence[Invoice],
    planned: Sequence[PlannedAllocation],
    *,
    on: date,
    number: int,
    uow: InvoicingUnitOfWork,
) -> GatewayAttempt:
    paid = {allocation.invoice_id for allocation in planned}
    level3 = enhanced_data_for(
        payment.account_id, payment.currency, [i for i in invoices if i.id in paid], on=on
    )
    token = method.token or ""
    result = await gateway.authorize_and_capture(
        token, payment.amount, payment.currency, level3, idempotency_key=f"{payment.id}:{number}"
    )
    return GatewayAttempt(
        number=number,
        attempted_on=on,
        attempted_at=uow.clock.now(),
        approved=result.approved,
        token=token,
        decline_code=result.decline_code,
        message=result.message,
        gateway_reference=result.reference,
        enhanced_data=level3.as_record(),
    )


async def _receive(
    uow: InvoicingUnitOfWork,
    payment: Payment,
    invoices: Sequence[Invoice],
    planned: Sequence[PlannedAllocation],
    *,
    on: date,
    add: bool,
) -> None:
    at = uow.clock.now()
    payment.receive(on=on, at=at, allocations=planned)
    by_id = {invoice.id: invoice for invoice in invoices}
    due_after: dict[str, Decimal] = {}
    for allocation in planned:
        invoice = by_id[allocation.invoice_id]
        invoice.apply_payment(allocation.amount, payment.currency)
        await uow.invoices.save(invoice)
        due_after[invoice.id] = invoice.amount_due
        if invoice.state is InvoiceState.PAID:
            uow.emit_outgoing(events.invoice_paid(invoice, at))
    if add:
        await uow.payments.add(payment)
    else:
        await uow.payments.save(payment)
    uow.emit_outgoing(events.payment_received(payment, due_after))
    # Paid up: the account's collections cases close (and ask for resumption) with the payment.
    await settle_collections_for_account(uow, payment.account_id, at)
    uow.audit(
        "payment.received",
        "payment",
        payment.id,
        {
            "account_id": payment.account_id,
            "amount": str(payment.amount),
            "currency": payment.currency,
            "method_kind": payment.method_kind.value,
            "allocations": {a.invoice_id: str(a.amount) for a in payment.allocations},
            "unapplied": str(payment.unapplied),
        },
    )


async def _give_back(
    uow: InvoicingUnitOfWork, payment: Payment, amount: Decimal, *, kind: RefundKind, reason: str | None
) -> Refund:
    credit, taken = payment.plan_take_back(amount)
    reopened: list[TakenBack] = []
    for allocation, take in taken:
        invoice = await uow.invoices.lock(allocation.invoice_id)
        invoice.take_back_payment(take)
        await uow.invoices.save(invoice)
        reopened.append(TakenBack(invoice.id, allocation.invoice_number, take, invoice.amount_due))
    payment.give_back(credit, taken, kind=kind, reason=reason)
    return Refund(
        id=new_id("re"),
        payment_id=payment.id,
        kind=kind,
        amount=amount,
        account_credit_used=credit,
        taken_back=tuple(reopened),
        reason=reason,
        created_at=uow.clock.now(),
        currency=payment.currency,
    )


async def _store_refund(uow: InvoicingUnitOfWork, payment: Payment, refund: Refund) -> None:
    await uow.payments.save(payment)
    await uow.payments.add_refund(refund, account_id=payment.account_id)
    uow.emit_outgoing(events.payment_given_back(payment, refund))
    uow.audit(
        f"payment.{'reversed' if refund.kind is RefundKind.REVERSAL else 'refunded'}",
        "payment",
        payment.id,
        {
            "refund_id": refund.id,
            "amount": str(refund.amount),
            "account_credit_used": str(refund.account_credit_used),
            "reopened": {t.invoice_id: str(t.amount) for t in refund.taken_back},
            "reason": refund.reason,
            "state": payment.state.value,
        },
    )


def _decline_audit(payment: Payment, attempt: GatewayAttempt) -> dict[str, Any]:
    return {
        "attempt": attempt.number,
        "decline_code": attempt.decline_code,
        "amount": str(payment.amount),
        "next_retry_on": str(payment.next_retry_on) if payment.next_retry_on else None,
        "state": payment.state.value,
    }


def _outcome_name(payment: Payment) -> str:
    if payment.state is PaymentState.RECEIVED:
        return "approved"
    return "failed" if payment.state is PaymentState.FAILED else "declined"
