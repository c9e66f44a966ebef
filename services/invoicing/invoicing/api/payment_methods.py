"""`/v1/payment-methods`: store a card token, an ACH mandate, a check or wire method; read them; the
account updater's token update. Tokens only: a card number in any field is refused with 422 by the
edge guard (libs/platform/card_numbers.py), nothing stored."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from invoicing.api.deps import ID_PATTERN, ReadUow, WriteUow, id_path
from invoicing.handlers import payment_methods as handlers
from invoicing.schemas.payment_methods import (
    PaymentMethodCreate,
    PaymentMethodPublic,
    TokenUpdate,
    payment_method_public,
)
from libs.platform.openapi import created_links, response_links
from libs.platform.pagination import Page, PageParams

router = APIRouter(prefix="/v1/payment-methods", tags=["payment methods"])
MethodId = Annotated[str, id_path("Payment method id (pm_…).")]
_FOLLOW_UP = ("get_payment_method", "update_payment_method_token")


@router.post(
    "",
    status_code=201,
    response_model=PaymentMethodPublic,
    summary="Store a payment method",
    description="A card token (brand, last four, expiry), an ACH mandate, or a check or wire method "
    "of a known account. Never a card number: one in any field is refused (422) and not stored.",
    responses=created_links("method_id", *_FOLLOW_UP),
)
async def add_payment_method(body: PaymentMethodCreate, uow: WriteUow) -> PaymentMethodPublic:
    method = await handlers.add_payment_method(
        uow=uow,
        account_id=body.account_id,
        kind=body.kind,
        card=body.card.card() if body.card else None,
        mandate_id=body.ach.mandate_id if body.ach else None,
        bank_last_four=body.ach.bank_last_four if body.ach else None,
        label=body.label,
    )
    return payment_method_public(method)


@router.get(
    "",
    response_model=Page[PaymentMethodPublic],
    summary="List payment methods",
    responses=response_links(200, {name: {"method_id": "/data/0/id"} for name in _FOLLOW_UP}),
)
async def list_payment_methods(
    uow: ReadUow,
    page: PageParams,
    account_id: Annotated[str | None, Query(pattern=ID_PATTERN, description="The account.")] = None,
) -> Page[PaymentMethodPublic]:
    found = await handlers.list_payment_methods(uow=uow, account_id=account_id, page=page)
    return Page[PaymentMethodPublic](
        data=[payment_method_public(m) for m in found.data],
        next_cursor=found.next_cursor,
        has_more=found.has_more,
    )


@router.get("/{method_id}", response_model=PaymentMethodPublic, summary="Get a payment method")
async def get_payment_method(method_id: MethodId, uow: ReadUow) -> PaymentMethodPublic:
    return payment_method_public(await handlers.get_payment_method(uow=uow, method_id=method_id))


@router.post(
    "/{method_id}/token-update",
    response_model=PaymentMethodPublic,
    summary="Replace a card's token (account updater)",
    description="A renewed or re-issued card's new token and expiry on the same method: its id, its "
    "payments and the retries of its declined payments stay; the old token is listed in "
    "`previous_tokens`. 409 for a method that is not a card.",
)
async def update_payment_method_token(
    method_id: MethodId, body: TokenUpdate, uow: WriteUow
) -> PaymentMethodPublic:
    method = await handlers.update_card_token(
        uow=uow, method_id=method_id, card=body.card.card(), reason=body.reason
    )
    return payment_method_public(method)
