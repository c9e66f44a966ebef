"""`/v1/subscriptions`: subscriptions, their history and lifecycle actions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from libs.platform.auth import Reader
from libs.platform.pagination import Page, PageParams
from provisioning import handlers
from provisioning import schemas as s
from provisioning.api.deps import Approver, CatalogDep, Id, Operator, RuntimeDep, SessionDep, in_unit_of_work
from provisioning.domain.subscriptions import SubscriptionState

router = APIRouter(tags=["subscriptions"])
Filter = Annotated[str | None, Query(max_length=60)]


@router.get("/v1/subscriptions", response_model=Page[s.SubscriptionPublic], summary="List subscriptions")
async def list_subscriptions(
    _: Reader,
    session: SessionDep,
    page: PageParams,
    account_id: Filter = None,
    order_id: Filter = None,
    state: SubscriptionState | None = None,
) -> Page[s.SubscriptionPublic]:
    return await handlers.list_subscriptions(
        session=session,
        page=page,
        account_id=account_id,
        state=state.value if state else None,
        order_id=order_id,
    )


@router.post(
    "/v1/subscriptions/term-ends",
    response_model=s.TermEndsPublic,
    summary="Renew or expire every active subscription whose term ended by a date (finance or admin)",
)
async def run_term_ends(body: s.TermEndsRun, caller: Approver, rt: RuntimeDep) -> s.TermEndsPublic:
    return await in_unit_of_work(rt, caller, handlers.process_term_ends, as_of=body.as_of)


@router.get(
    "/v1/subscriptions/{subscription_id}", response_model=s.SubscriptionPublic, summary="Get a subscription"
)
async def get_subscription(subscription_id: Id, _: Reader, session: SessionDep) -> s.SubscriptionPublic:
    return await handlers.get_subscription(session=session, subscription_id=subscription_id)


@router.get(
    "/v1/subscriptions/{subscription_id}/history",
    response_model=Page[s.SubscriptionChangePublic],
    summary="A subscription's change history with effective dates",
)
async def get_subscription_history(
    subscription_id: Id, _: Reader, session: SessionDep, page: PageParams
) -> Page[s.SubscriptionChangePublic]:
    return await handlers.subscription_history(session=session, subscription_id=subscription_id, page=page)


@router.post(
    "/v1/subscriptions/{subscription_id}/suspend", response_model=s.SubscriptionPublic, summary="Suspend"
)
async def suspend_subscription(
    subscription_id: Id, body: s.SubscriptionAction, caller: Operator, rt: RuntimeDep
) -> s.SubscriptionPublic:
    return await in_unit_of_work(
        rt, caller, handlers.suspend_subscription, subscription_id=subscription_id, command=body
    )


@router.post(
    "/v1/subscriptions/{subscription_id}/resume", response_model=s.SubscriptionPublic, summary="Resume"
)
async def resume_subscription(
    subscription_id: Id, body: s.SubscriptionAction, caller: Operator, rt: RuntimeDep
) -> s.SubscriptionPublic:
    return await in_unit_of_work(
        rt, caller, handlers.resume_subscription, subscription_id=subscription_id, command=body
    )


@router.post(
    "/v1/subscriptions/{subscription_id}/cancel",
    response_model=s.SubscriptionPublic,
    summary="Cancel (a committed term ended early charges its termination fee, priced by the catalog)",
)
async def cancel_subscription(
    subscription_id: Id, body: s.SubscriptionAction, caller: Operator, rt: RuntimeDep, catalog: CatalogDep
) -> s.SubscriptionPublic:
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
    response_model=s.SubscriptionPublic,
    summary="Change quantity or term end from an effective date",
)
async def change_subscription(
    subscription_id: Id, body: s.SubscriptionChange, caller: Operator, rt: RuntimeDep
) -> s.SubscriptionPublic:
    return await in_unit_of_work(
        rt, caller, handlers.change_subscription, subscription_id=subscription_id, command=body
    )
