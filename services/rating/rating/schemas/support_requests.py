"""Requests and views of support requests and the time logged on them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from libs.contracts.types import Quantity
from libs.platform.money import decimal_out
from libs.platform.text import MULTI_LINE
from rating.domain.support_requests import (
    STEP_REASONS,
    AllocationRule,
    CoverageStep,
    RequestState,
    SupportRequest,
    TimeEntry,
    step_number,
)
from rating.schemas.support_contracts import EntityId, Hours, Instant

Summary = Annotated[str, StringConstraints(min_length=1, max_length=2000), MULTI_LINE]


class SupportRequestCreate(BaseModel):
    """A service request on a subscription (the seed's item), validated against its contracts."""

    model_config = ConfigDict(extra="forbid")
    subscription_id: EntityId = Field(description="The item the request is about.")
    summary: Summary
    opened_at: Instant | None = Field(default=None, description="When it was opened; default now.")
    per_incident_template_id: EntityId | None = Field(
        default=None,
        description="The per-incident template to charge when no contract covers the request; needed "
        "only when the catalog has several.",
    )


class TimeEntryCreate(BaseModel):
    """Time spent on a request."""

    model_config = ConfigDict(extra="forbid")
    hours: Hours
    logged_at: Instant | None = Field(default=None, description="When the time was spent; default now.")


class SupportRequestClose(BaseModel):
    """Close a request; no more time can be logged on it."""

    model_config = ConfigDict(extra="forbid")
    closed_at: Instant | None = Field(default=None, description="Default now.")


class CoveragePublic(BaseModel):
    """Which contract the validation order found for a request, and why."""

    contract_id: str
    step: CoverageStep
    step_number: int = Field(description="Its place in the order: 1 item valid ... 7 per incident.")
    reason: str


class SupportRequestPublic(BaseModel):
    """A support request, its coverage and the hours logged on it."""

    id: str
    subscription_id: str
    account_id: str
    summary: str
    state: RequestState
    opened_at: datetime
    closed_at: datetime | None
    coverage: CoveragePublic
    contract_id: str = Field(description="The contract covering it now (another once time rolled over).")
    hours_logged: Quantity
    hours_covered: Quantity
    hours_rolled_over: Quantity
    hours_uncovered: Quantity
    created_at: datetime
    updated_at: datetime


class AllocationPublic(BaseModel):
    """Hours of a time entry drawn from one contract."""

    contract_id: str
    hours: Quantity
    rule: AllocationRule


class TimeEntryPublic(BaseModel):
    """Time logged on a request and where it went: logged = covered + rolled over + uncovered."""

    id: str
    request_id: str
    hours: Quantity
    logged_at: datetime
    covered_hours: Quantity = Field(description="Drawn from the request's covering contract.")
    rolled_over_hours: Quantity = Field(description="Applied to the next valid contracts after it expired.")
    uncovered_hours: Quantity = Field(description="Covered by no contract.")
    allocations: list[AllocationPublic]
    expired_contract_ids: list[str] = Field(description="Contracts found expired or used up by this entry.")
    contract_id: str = Field(description="The contract covering the request after this entry.")
    created_at: datetime


def support_request_public(request: SupportRequest) -> SupportRequestPublic:
    """The public view of a support request."""
    return SupportRequestPublic(
        id=request.id,
        subscription_id=request.subscription_id,
        account_id=request.account_id,
        summary=request.summary,
        state=request.state,
        opened_at=request.opened_at,
        closed_at=request.closed_at,
        coverage=CoveragePublic(
            contract_id=request.coverage_contract_id,
            step=request.coverage_step,
            step_number=step_number(request.coverage_step),
            reason=STEP_REASONS[request.coverage_step],
        ),
        contract_id=request.contract_id,
        hours_logged=decimal_out(request.hours_logged),
        hours_covered=decimal_out(request.hours_covered),
        hours_rolled_over=decimal_out(request.hours_rolled_over),
        hours_uncovered=decimal_out(request.hours_uncovered),
        created_at=request.created_at,
        updated_at=request.updated_at,
    )


def time_entry_public(entry: TimeEntry) -> TimeEntryPublic:
    """The public view of a time entry."""
    split = entry.split
    return TimeEntryPublic(
        id=entry.id,
        request_id=entry.request_id,
        hours=decimal_out(entry.hours),
        logged_at=entry.logged_at,
        covered_hours=decimal_out(split.covered),
        rolled_over_hours=decimal_out(split.rolled_over),
        uncovered_hours=decimal_out(split.uncovered),
        allocations=[
            AllocationPublic(contract_id=a.contract_id, hours=decimal_out(a.hours), rule=a.rule)
            for a in split.allocations
        ],
        expired_contract_ids=list(split.expired_contract_ids),
        contract_id=split.covering_contract_id,
        created_at=entry.created_at,
    )
