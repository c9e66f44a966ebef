"""`/v1/subscriptions`: subscriptions, their history and lifecycle actions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from libs.platform.auth import Reader
from libs.platform.pagination import Page, PageParams
from provisioning.api.deps import (
    NO_NUL,
    Approver,
    CatalogDep,
    Id,
    Operator,
    ReadUow,
    RuntimeDep,
    in_unit_of_work,
)
from provisioning.domain.subscriptions import SubscriptionState
from provisioning.handlers import subscriptions as handlers
from provisioning.schemas.subscriptions import (
    SubscriptionAction,
    SubscriptionChange,
    SubscriptionChangePublic,
    SubscriptionPublic,
    TermEndsPublic,
    TermEndsRun,
)

router = APIRouter(tags=["subscriptions"])
Filter = Annotated[str | None, Query(max_length=60, pattern=NO_NUL)]


@router.get("/v1/subscriptions", response_model=Page[SubscriptionPublic], summary="List subscriptions")
async def list_subscriptions(
    _: Reader,
    uow: ReadUow,
    page: PageParams,
    account_id: Filter = None,
    order_id: Filter = None,
    state: SubscriptionState | None = None,
) -> Page[SubscriptionPublic]:
    return await handlers.list_subscriptions(
        uow=uow,
        page=page,
        account_id=account_id,
        state=state,
        order_id=order_id,
    )


@router.post(
    "/v1/subscriptions/term-ends",
    response_model=TermEndsPublic,
    summary="Renew or expire every active subscription whose term ended by a date (finance or admin)",
)
async def run_term_ends(body: TermEndsRun, caller: Approver, rt: RuntimeDep) -> TermEndsPublic:
    return await in_unit_of_work(rt, caller, handlers.process_term_ends, as_of=body.as_of)


@router.get(
    "/v1/subscriptions/{subscription_id}", response_model=SubscriptionPublic, summary="Get a subscription"
)
async def get_subscription(subscription_id: Id, _: Reader, uow: ReadUow) -> SubscriptionPublic:
    return await handlers.get_subscription(uow=uow, subscription_id=subscription_id)


@router.get(
    "/v1/subscriptions/{subscription_id}/history",
    response_model=Page[SubscriptionChangePublic],
    summary="A subscription's change history with effective dates",
)
async def get_subscription_history(
    subscription_id: Id, _: Reader, uow: ReadUow, page: PageParams
) -> Page[SubscriptionChangePublic]:
    return await handlers.subscription_history(uow=uow, subscription_id=subscription_id, page=page)


@router.post(
    "/v1/subscriptions/{subscription_id}/suspend", response_model=SubscriptionPublic, summary="Suspend"
)
async def suspend_subscription(
    subscription_id: Id, body: SubscriptionAction, caller: Operator, rt: RuntimeDep
) -> SubscriptionPublic:
    return await in_unit_of_work(
        rt, caller, handlers.suspend_subscription, subscription_id=subscription_id, command=body
    )


@router.post(
    "/v1/subscriptions/{subscription_id}/resume", response_model=SubscriptionPublic, summary="Resume"
)
async def resume_subscription(
    subscription_id: Id, body: SubscriptionAction, caller: Operator, rt: RuntimeDep
) -> SubscriptionPublic:
    return await in_unit_of_work(
        rt, caller, handlers.resume_subscription, subscription_id=subscription_id, command=body
    )


@router.post(
    "/v1/subscriptions/{subscription_id}/cancel",
    response_model=SubscriptionPublic,
    summary="Cancel (a committed term ended early charges its termination fee, priced by the catalog)",
)
async def cancel_subscription(
    subscription_id: Id, body: SubscriptionAction, caller: Operator, rt: RuntimeDep, catalog: CatalogDep
) -> SubscriptionPublic:
    return await in_unit_of_work(
        rt,
        caller,
        handlers.cancel_subscription,
        catalog=catalog,
        subscription_id=subscription_id,
        command=body,
    )


@router.post(
    "/v1/subscriptions/{subscription_id}/change",
    response_model=SubscriptionPublic,
    summary="Change quantity or term end from an effective date",
)
async def change_subscription(
    subscription_id: Id, body: SubscriptionChange, caller: Operator, rt: RuntimeDep
) -> SubscriptionPublic:
    return await in_unit_of_work(
        rt, caller, handlers.change_subscription, subscription_id=subscription_id, command=body
    )
