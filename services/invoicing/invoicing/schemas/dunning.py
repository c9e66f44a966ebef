"""Requests and views of dunning policies (`/v1/dunning-policies`) and accounts' own policy."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from invoicing.domain.dunning import MAX_DAYS_PAST_DUE, MAX_STEPS, DunningAction, DunningPolicy, DunningStep
from invoicing.handlers.dunning import AccountPolicy
from libs.contracts.types import Amount, CurrencyCode, IntegerRange, NonNegativeAmount, StrictBool
from libs.platform.text import MULTI_LINE, ONE_LINE

Name = Annotated[str, StringConstraints(min_length=1, max_length=200), ONE_LINE]
Description = Annotated[str, StringConstraints(max_length=2000), MULTI_LINE]
EntityId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]


class DunningStepIn(BaseModel):
    """After `days_past_due` days past due, when more than `min_amounts[currency]` is past due, `action`."""

    model_config = ConfigDict(extra="forbid")

    days_past_due: Annotated[int, IntegerRange(1, MAX_DAYS_PAST_DUE)] = Field(examples=[30])
    action: DunningAction
    min_amounts: dict[CurrencyCode, NonNegativeAmount] = Field(
        default_factory=dict,
        max_length=200,
        description="Per currency, the past-due amount to exceed; a currency not named: any amount.",
        examples=[{"USD": "100.00", "JPY": "10000"}],
    )

    def step(self) -> DunningStep:
        """The domain step."""
        return DunningStep(self.days_past_due, self.action, dict(self.min_amounts))


class DunningPolicyUpdate(BaseModel):
    """A policy's name, description and ordered steps (a write-off only last)."""

    model_config = ConfigDict(extra="forbid")

    name: Name = Field(examples=["Standard net-30 dunning"])
    description: Description | None = None
    steps: list[DunningStepIn] = Field(min_length=1, max_length=MAX_STEPS)


class DunningPolicyCreate(DunningPolicyUpdate):
    """A new policy; `is_default` makes it the policy of accounts without one of their own."""

    is_default: StrictBool = False


class DunningStepPublic(BaseModel):
    """A step of a policy, numbered from 1."""

    step_number: int
    days_past_due: int
    action: DunningAction
    min_amounts: dict[str, Amount]


class DunningPolicyPublic(BaseModel):
    """A dunning policy."""

    id: str = Field(examples=["dpol_01JD0S6Y4Q7V3J6C3M9W1K2X8Z"])
    name: str
    description: str | None
    steps: list[DunningStepPublic]
    is_default: bool
    in_use: bool = Field(description="A case has used it: it never changes again.")
    created_at: datetime
    updated_at: datetime


class AccountPolicyAssign(BaseModel):
    """The policy an account gets of its own."""

    model_config = ConfigDict(extra="forbid")

    policy_id: EntityId


class AccountPolicyPublic(BaseModel):
    """The policy collections applies to an account and where it comes from."""

    account_id: str
    source: Literal["account", "default", "none"]
    policy: DunningPolicyPublic | None


def policy_public(policy: DunningPolicy) -> DunningPolicyPublic:
    """The API view of a policy (thresholds as decimal strings)."""
    return DunningPolicyPublic(
        id=policy.id,
        name=policy.name,
        description=policy.description,
        steps=[
            DunningStepPublic(
                step_number=number,
                days_past_due=step.days_past_due,
                action=step.action,
                min_amounts=dict(step.min_amounts),
            )
            for number, step in enumerate(policy.steps, start=1)
        ],
        is_default=policy.is_default,
        in_use=policy.in_use,
        created_at=policy.created_at,
        updated_at=policy.updated_at,
    )


def account_policy_public(found: AccountPolicy) -> AccountPolicyPublic:
    """The API view of an account's policy."""
    return AccountPolicyPublic(
        account_id=found.account_id,
        source=found.source,
        policy=None if found.policy is None else policy_public(found.policy),
    )
