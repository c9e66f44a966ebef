"""Requests and views of collections runs and cases (`/v1/collections/...`)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from invoicing.domain.collections import CaseState, CloseReason, CollectionsCase
from invoicing.domain.dunning import DunningAction
from invoicing.handlers.collections import CollectionsRunTally
from libs.contracts.types import Amount, IsoDate
from libs.platform.money import amount_out


class CollectionsRunCreate(BaseModel):
    """The date the run collects on: days past due are counted at it."""

    model_config = ConfigDict(extra="forbid")

    run_date: IsoDate = Field(examples=["2026-10-01"])


class CollectionsRunPublic(BaseModel):
    """What a collections run did (a run repeated does nothing again)."""

    run_date: date
    accounts: int = Field(description="Accounts looked at: past due, or with an open case.")
    cases_opened: int
    cases_closed: int
    steps_taken: dict[str, int] = Field(description="Per action, the steps taken by this run.")
    invoices_written_off: int
    resumes_requested: int
    accounts_without_policy: int = Field(description="Past due, but no policy applies (no default set).")


def run_public(tally: CollectionsRunTally) -> CollectionsRunPublic:
    """The API view of a run's tally."""
    return CollectionsRunPublic(
        run_date=tally.on,
        accounts=tally.accounts,
        cases_opened=tally.cases_opened,
        cases_closed=tally.cases_closed,
        steps_taken={action.value: tally.steps_taken.get(action.value, 0) for action in DunningAction},
        invoices_written_off=tally.invoices_written_off,
        resumes_requested=tally.resumes_requested,
        accounts_without_policy=tally.accounts_without_policy,
    )


class CaseStepPublic(BaseModel):
    """A step the case took: which, on which run date, at what balance, when and by whom."""

    step_number: int
    action: DunningAction
    run_date: date
    days_past_due: int
    past_due_amount: Amount
    taken_at: datetime
    taken_by: str
    detail: str


class CollectionsCasePublic(BaseModel):
    """An account's past-due balance in one currency being collected, with its history."""

    id: str = Field(examples=["col_01JD0S6Y4Q7V3J6C3M9W1K2X8Z"])
    account_id: str
    currency: str
    policy_id: str
    state: CaseState
    opened_on: date
    opened_at: datetime
    opened_by: str
    last_run_date: date
    suspended: bool = Field(description="A suspension was requested by this case.")
    closed_at: datetime | None
    closed_by: str | None
    close_reason: CloseReason | None
    resume_requested: bool
    steps: list[CaseStepPublic]


def case_public(case: CollectionsCase) -> CollectionsCasePublic:
    """The API view of a case."""
    return CollectionsCasePublic(
        id=case.id,
        account_id=case.account_id,
        currency=case.currency,
        policy_id=case.policy_id,
        state=case.state,
        opened_on=case.opened_on,
        opened_at=case.opened_at,
        opened_by=case.opened_by,
        last_run_date=case.last_run_on,
        suspended=case.suspended,
        closed_at=case.closed_at,
        closed_by=case.closed_by,
        close_reason=case.close_reason,
        resume_requested=case.resume_requested,
        steps=[
            CaseStepPublic(
                step_number=s.step_number,
                action=s.action,
                run_date=s.run_on,
                days_past_due=s.days_past_due,
                past_due_amount=amount_out(s.past_due_amount, case.currency),
                taken_at=s.taken_at,
                taken_by=s.taken_by,
                detail=s.detail,
            )
            for s in case.steps
        ],
    )
