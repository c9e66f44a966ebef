"""`/v1/payments`: take a payment (card or ACH through the gateway, check or wire received), read and
list them with their allocations, refund or reverse one, retry the declined ones due on a day.

Every POST takes an `Idempotency-Key` (the platform's middleware): the same key and body answer
the first response again and change nothing. Refusals change nothing: 404 an unknown account,
method, invoice or payment; 409 a draft, void or paid invoice named, a payment that cannot be
refunded in its state; 422 another currency, an amount with too many decimals, a refund of more
than remains. A declined card is a 201 with state `declined`: its attempt is recorded and retried.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from invoicing.api.deps import ID_PATTERN, ReadUow, WriteUow, id_path, runtime_from
from invoicing.domain.payments import PaymentState
from invoicing.handlers import payments as handlers
from invoicing.handlers.payments_port import PaymentFilters
from invoicing.schemas.payments import (
    PaymentCreate,
    PaymentPublic,
    RefundCreate,
    RefundPublic,
    RetryOutcome,
    RetryRun,
    ReversalCreate,
    payment_public,
    refund_public,
)
from libs.platform.openapi import created_links, response_links
from libs.platform.pagination import Page, PageParams

router = APIRouter(prefix="/v1/payments", tags=["payments"])
PaymentId = Annotated[str, id_path("Payment id (pay_…).")]
_FOLLOW_UP = ("get_payment", "refund_payment", "reverse_payment", "list_payment_refunds")


@router.post(
    "",
    status_code=201,
    response_model=PaymentPublic,
    summary="Take a payment",
    description="Applied to `invoice_ids` in that order, else to the account's open invoices oldest "
    "first (invoice date, then number); what no invoice takes stays as account credit and pays the "
    "next invoice when it is finalized. Card and ACH payments are charged through the gateway with "
    "Level 2/3 data (customer code, tax amount, the invoices' line items); a decline is recorded "
    "(state `declined`, its code) and retried after 1, 3 and 7 days.",
    responses=created_links("payment_id", *_FOLLOW_UP),
)
async def take_payment(body: PaymentCreate, uow: WriteUow, request: Request) -> PaymentPublic:
    gateway = runtime_from(request).payment_gateway
    return payment_public(await handlers.take_payment(uow=uow, gateway=gateway, request=body.request()))


@router.get(
    "",
    response_model=Page[PaymentPublic],
    summary="List payments",
    responses=response_links(200, {name: {"payment_id": "/data/0/id"} for name in _FOLLOW_UP}),
)
async def list_payments(
    uow: ReadUow,
    page: PageParams,
    account_id: Annotated[str | None, Query(pattern=ID_PATTERN, description="The paying account.")] = None,
    state: Annotated[PaymentState | None, Query(description="The payment's state.")] = None,
    invoice_id: Annotated[str | None, Query(pattern=ID_PATTERN, description="An invoice it paid.")] = None,
) -> Page[PaymentPublic]:
    found = await handlers.list_payments(
        uow=uow, filters=PaymentFilters(account_id, state, invoice_id), page=page
    )
    return Page[PaymentPublic](
        data=[payment_public(p) for p in found.data], next_cursor=found.next_cursor, has_more=found.has_more
    )


@router.post(
    "/retry-declined",
    response_model=RetryOutcome,
    summary="Retry the declined payments due on a day",
    description="What the daily job does: each declined payment whose retry is due on `on` (default "
    "today) is charged again with its method's current token. A second run for the same day finds "
    "nothing due and changes nothing.",
)
async def retry_declined(body: RetryRun, uow: WriteUow, request: Request) -> RetryOutcome:
    runtime = runtime_from(request)
    on = body.on or uow.clock.now().date()
    counts = await handlers.retry_declined(uow=uow, gateway=runtime.payment_gateway, on=on)
    return RetryOutcome(on=on, **counts)


@router.get("/{payment_id}", response_model=PaymentPublic, summary="Get a payment")
async def get_payment(payment_id: PaymentId, uow: ReadUow) -> PaymentPublic:
    return payment_public(await handlers.get_payment(uow=uow, payment_id=payment_id))


@router.post(
    "/{payment_id}/refunds",
    status_code=201,
    response_model=RefundPublic,
    summary="Refund a payment",
    description="All or part of what remains: the payment's account credit first, then the invoices "
    "it paid, latest first, reopened (partially paid or finalized). More than remains is a 422.",
)
async def refund_payment(
    payment_id: PaymentId, body: RefundCreate, uow: WriteUow, request: Request
) -> RefundPublic:
    refund = await handlers.refund_payment(
        uow=uow,
        gateway=runtime_from(request).payment_gateway,
        payment_id=payment_id,
        amount=body.amount,
        reason=body.reason,
    )
    return refund_public(refund)


@router.get(
    "/{payment_id}/refunds", response_model=list[RefundPublic], summary="A payment's refunds and reversals"
)
async def list_payment_refunds(payment_id: PaymentId, uow: ReadUow) -> list[RefundPublic]:
    return [refund_public(r) for r in await handlers.refunds_of(uow=uow, payment_id=payment_id)]


@router.post(
    "/{payment_id}/reverse",
    status_code=201,
    response_model=RefundPublic,
    summary="Reverse a payment (a bounced check)",
    description="Takes back all that remains of the payment: its account credit, then every invoice "
    "it paid, reopened. 409 unless the payment is received.",
)
async def reverse_payment(payment_id: PaymentId, body: ReversalCreate, uow: WriteUow) -> RefundPublic:
    refund = await handlers.reverse_payment(uow=uow, payment_id=payment_id, reason=body.reason)
    return refund_public(refund)
