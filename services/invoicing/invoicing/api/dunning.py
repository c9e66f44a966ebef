"""`/v1/dunning-policies`: policies as data (ordered steps), the default one, and an account's own
(`/v1/accounts/{id}/dunning-policy`). Creating takes an `Idempotency-Key` (the platform's middleware)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Response

from invoicing.api.deps import ReadUow, WriteUow, id_path
from invoicing.handlers import dunning as handlers
from invoicing.schemas.dunning import (
    AccountPolicyAssign,
    AccountPolicyPublic,
    DunningPolicyCreate,
    DunningPolicyPublic,
    DunningPolicyUpdate,
    account_policy_public,
    policy_public,
)
from libs.platform.openapi import created_links
from libs.platform.pagination import Page, PageParams

router = APIRouter(tags=["dunning"])
PolicyId = Annotated[str, id_path("Dunning policy id (dpol_…).")]
AccountId = Annotated[str, id_path("Account id (acct_…).")]


@router.post(
    "/v1/dunning-policies",
    status_code=201,
    response_model=DunningPolicyPublic,
    summary="Create a dunning policy",
    description="Ordered steps: after N days past due (1 and up, never decreasing), above an amount "
    "per currency, an action — reminder, escalate (to the account's CRM owner), suspend, write_off "
    "(last only). 422 when the steps are not valid.",
    responses=created_links("policy_id", "get_dunning_policy"),
)
async def create_dunning_policy(body: DunningPolicyCreate, uow: WriteUow) -> DunningPolicyPublic:
    policy = await handlers.create_policy(
        uow=uow,
        name=body.name,
        description=body.description,
        steps=[s.step() for s in body.steps],
        is_default=body.is_default,
    )
    return policy_public(policy)


@router.get("/v1/dunning-policies", response_model=Page[DunningPolicyPublic], summary="List dunning policies")
async def list_dunning_policies(uow: ReadUow, page: PageParams) -> Page[DunningPolicyPublic]:
    found = await handlers.list_policies(uow=uow, page=page)
    return Page[DunningPolicyPublic](
        data=[policy_public(p) for p in found.data], next_cursor=found.next_cursor, has_more=found.has_more
    )


@router.get(
    "/v1/dunning-policies/{policy_id}", response_model=DunningPolicyPublic, summary="Get a dunning policy"
)
async def get_dunning_policy(policy_id: PolicyId, uow: ReadUow) -> DunningPolicyPublic:
    return policy_public(await handlers.get_policy(uow=uow, policy_id=policy_id))


@router.put(
    "/v1/dunning-policies/{policy_id}",
    response_model=DunningPolicyPublic,
    summary="Revise a dunning policy no case has used",
    description="409 once a collections case has used it: create a new policy instead.",
)
async def revise_dunning_policy(
    policy_id: PolicyId, body: DunningPolicyUpdate, uow: WriteUow
) -> DunningPolicyPublic:
    policy = await handlers.revise_policy(
        uow=uow,
        policy_id=policy_id,
        name=body.name,
        description=body.description,
        steps=[s.step() for s in body.steps],
    )
    return policy_public(policy)


@router.delete(
    "/v1/dunning-policies/{policy_id}",
    status_code=204,
    summary="Delete a dunning policy",
    description="409 when a case has used it, it is the default, or an account has it of its own.",
)
async def delete_dunning_policy(policy_id: PolicyId, uow: WriteUow) -> Response:
    await handlers.delete_policy(uow=uow, policy_id=policy_id)
    return Response(status_code=204)


@router.post(
    "/v1/dunning-policies/{policy_id}/default",
    response_model=DunningPolicyPublic,
    summary="Make a policy the default",
    description="Accounts without a policy of their own are collected by the default one.",
)
async def make_default_dunning_policy(policy_id: PolicyId, uow: WriteUow) -> DunningPolicyPublic:
    return policy_public(await handlers.make_default(uow=uow, policy_id=policy_id))


@router.get(
    "/v1/accounts/{account_id}/dunning-policy",
    response_model=AccountPolicyPublic,
    summary="The dunning policy an account is collected by",
)
async def get_account_dunning_policy(account_id: AccountId, uow: ReadUow) -> AccountPolicyPublic:
    return account_policy_public(await handlers.account_policy(uow=uow, account_id=account_id))


@router.put(
    "/v1/accounts/{account_id}/dunning-policy",
    response_model=AccountPolicyPublic,
    summary="Give an account its own dunning policy",
    description="An open case keeps the policy it was opened under.",
)
async def assign_account_dunning_policy(
    account_id: AccountId, body: AccountPolicyAssign, uow: WriteUow
) -> AccountPolicyPublic:
    found = await handlers.assign_policy(uow=uow, account_id=account_id, policy_id=body.policy_id)
    return account_policy_public(found)


@router.delete(
    "/v1/accounts/{account_id}/dunning-policy",
    response_model=AccountPolicyPublic,
    summary="Take an account's own dunning policy away (the default applies again)",
)
async def unassign_account_dunning_policy(account_id: AccountId, uow: WriteUow) -> AccountPolicyPublic:
    return account_policy_public(await handlers.unassign_policy(uow=uow, account_id=account_id))
