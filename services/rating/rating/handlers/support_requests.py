"""Use cases of support requests: open one (validated in the seed's order, else a per-incident
contract is opened and charged), log time on it, close it, read and list. Also the port of their
repository (`SupportRequestRepository`).
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import TYPE_CHECKING

from libs.platform.errors import Conflict, NotFound, ValidationFailed
from libs.platform.ids import new_id
from libs.platform.pagination import Page, PageRequest
from libs.platform.periods import local_date
from rating.domain.support_contracts import (
    HolderType,
    SubscriptionHolder,
    SupportContract,
    SupportContractTemplate,
    incident_terms,
)
from rating.domain.support_requests import (
    Coverage,
    CoverageStep,
    RequestHolders,
    RequestState,
    SupportRequest,
    TimeEntry,
    find_coverage,
    split_time,
)
from rating.handlers.support_contracts import commit_support, subscription_holder
from rating.schemas.support_requests import (
    SupportRequestClose,
    SupportRequestCreate,
    SupportRequestPublic,
    TimeEntryCreate,
    TimeEntryPublic,
    support_request_public,
    time_entry_public,
)

if TYPE_CHECKING:
    from rating.handlers.unit_of_work import RatingUnitOfWork


@dataclass(frozen=True)
class SupportRequestFilters:
    """What a list of requests is narrowed to (None = any)."""

    subscription_id: str | None = None
    account_id: str | None = None
    state: RequestState | None = None


class SupportRequestRepository(abc.ABC):
    """Support requests and the time logged on them."""

    @abc.abstractmethod
    async def find(self, request_id: str) -> SupportRequest | None:
        """One request, if it exists."""

    @abc.abstractmethod
    async def save(self, request: SupportRequest) -> None:
        """Insert a new request or write a changed one (a concurrent change to it is a 409)."""

    @abc.abstractmethod
    async def add_entry(self, entry: TimeEntry) -> None:
        """Store a time entry and its allocations."""

    @abc.abstractmethod
    async def page(self, filters: SupportRequestFilters, page: PageRequest) -> Page[SupportRequest]:
        """A page of requests ordered by id."""

    @abc.abstractmethod
    async def entries_page(self, request_id: str, page: PageRequest) -> Page[TimeEntry]:
        """A page of a request's time entries, oldest first."""

    async def get(self, request_id: str) -> SupportRequest:
        """One request, or NotFound (404)."""
        request = await self.find(request_id)
        if request is None:
            raise NotFound("support request", request_id)
        return request


def _holders(subscription: SubscriptionHolder) -> RequestHolders:
    return RequestHolders(
        subscription.subscription_id, subscription.account_id, subscription.parent_account_id
    )


async def open_support_request(
    *, uow: RatingUnitOfWork, command: SupportRequestCreate
) -> SupportRequestPublic:
    """Open a request under the first contract of the validation order, else a new per-incident one."""
    now = uow.clock.now()
    opened_at = command.opened_at or now
    subscription = await subscription_holder(uow, command.subscription_id)
    if subscription is None:
        raise NotFound("subscription", command.subscription_id)
    named = await _named_incident_template(uow, command.per_incident_template_id)
    holders = _holders(subscription)
    accounts = [a for a in (holders.account_id, holders.parent_account_id) if a is not None]
    candidates = await uow.support_contracts.held_by(holders.subscription_id, accounts)
    request_id = new_id("srq")
    coverage = find_coverage(holders, candidates, opened_at)
    incident: SupportContract | None = None
    if coverage is None:
        template = named or await _only_incident_template(uow)
        incident = SupportContract.open(
            id=new_id("sct"),
            template=template,
            terms=incident_terms(template),
            holder_type=HolderType.SUBSCRIPTION,
            holder_id=subscription.subscription_id,
            account_id=subscription.account_id,
            time_zone=subscription.time_zone,
            starts_on=local_date(opened_at, subscription.time_zone),
            now=now,
            request_id=request_id,
        )
        coverage = Coverage(incident, CoverageStep.PER_INCIDENT)
        await uow.support_contracts.save(incident)
    request = SupportRequest.open(
        id=request_id,
        holders=holders,
        summary=command.summary,
        opened_at=opened_at,
        coverage=coverage,
        now=now,
    )
    if incident is not None:
        request.charge_incident(incident, currency=subscription.currency, charged_on=incident.starts_on)
    await uow.support_requests.save(request)
    public = support_request_public(request)
    aggregates = [incident, request] if incident is not None else [request]
    await commit_support(
        uow,
        "support_request.opened",
        "support_request",
        request.id,
        public.model_dump(mode="json"),
        *aggregates,
    )
    return public


async def _named_incident_template(
    uow: RatingUnitOfWork, template_id: str | None
) -> SupportContractTemplate | None:
    if template_id is None:
        return None
    template = await uow.support_contracts.template(template_id)
    if template is None:
        raise ValidationFailed.single(
            "per_incident_template_id", f"no contract template {template_id!r}", "unknown"
        )
    incident_terms(template)  # a per-incident template that bills a product, or refused now
    return template


async def _only_incident_template(uow: RatingUnitOfWork) -> SupportContractTemplate:
    templates = await uow.support_contracts.per_incident_templates()
    if not templates:
        raise Conflict(
            "no contract covers this item, its customer or its org unit, and the catalog has no "
            "per-incident template to charge the request to"
        )
    if len(templates) > 1:
        raise ValidationFailed.single(
            "per_incident_template_id",
            "no contract covers this request and the catalog has several per-incident templates: name one "
            f"({', '.join(t.id for t in templates)})",
            "required",
        )
    return templates[0]


async def log_time(*, uow: RatingUnitOfWork, request_id: str, command: TimeEntryCreate) -> TimeEntryPublic:
    """Draw time spent from the covering contract; what it cannot cover follows its expiry option."""
    now = uow.clock.now()
    logged_at = command.logged_at or now
    request = await uow.support_requests.get(request_id)
    request.check_loggable(logged_at)
    subscription = await subscription_holder(uow, request.subscription_id)
    holders = (
        _holders(subscription)
        if subscription is not None
        else RequestHolders(request.subscription_id, request.account_id, None)
    )
    covering = await uow.support_contracts.get(request.contract_id)
    accounts = [a for a in (holders.account_id, holders.parent_account_id) if a is not None]
    candidates = await uow.support_contracts.held_by(holders.subscription_id, accounts)
    split = split_time(
        command.hours, at=logged_at, now=now, covering=covering, holders=holders, candidates=candidates
    )
    entry = TimeEntry(
        id=new_id("stl"),
        request_id=request.id,
        hours=command.hours,
        logged_at=logged_at,
        split=split,
        created_at=now,
    )
    request.record_time(entry, now=now)
    drawn = {c.id: c for c in [covering, *candidates] if c.events}
    for contract in drawn.values():
        await uow.support_contracts.save(contract)
    await uow.support_requests.save(request)
    await uow.support_requests.add_entry(entry)
    public = time_entry_public(entry)
    await commit_support(
        uow,
        "support_request.time_logged",
        "support_request",
        request.id,
        public.model_dump(mode="json"),
        *drawn.values(),
        request,
    )
    return public


async def close_support_request(
    *, uow: RatingUnitOfWork, request_id: str, command: SupportRequestClose
) -> SupportRequestPublic:
    """Close a request; the per-incident contract opened for it ends with it."""
    now = uow.clock.now()
    request = await uow.support_requests.get(request_id)
    closed_at = command.closed_at or now
    request.close(at=closed_at, now=now)
    aggregates: list[SupportContract | SupportRequest] = []
    if request.coverage_step is CoverageStep.PER_INCIDENT:
        incident = await uow.support_contracts.get(request.coverage_contract_id)
        incident.end(at=closed_at, now=now)
        await uow.support_contracts.save(incident)
        aggregates.append(incident)
    await uow.support_requests.save(request)
    public = support_request_public(request)
    await commit_support(
        uow,
        "support_request.closed",
        "support_request",
        request.id,
        {"closed_at": closed_at.isoformat()},
        *aggregates,
        request,
    )
    return public


async def get_support_request(*, uow: RatingUnitOfWork, request_id: str) -> SupportRequestPublic:
    """One request with its coverage and hours."""
    return support_request_public(await uow.support_requests.get(request_id))


async def list_support_requests(
    *, uow: RatingUnitOfWork, filters: SupportRequestFilters, page: PageRequest
) -> Page[SupportRequestPublic]:
    """A page of requests, by subscription, account and state."""
    found = await uow.support_requests.page(filters, page)
    return Page[SupportRequestPublic](
        data=[support_request_public(r) for r in found.data],
        next_cursor=found.next_cursor,
        has_more=found.has_more,
    )


async def list_time_entries(
    *, uow: RatingUnitOfWork, request_id: str, page: PageRequest
) -> Page[TimeEntryPublic]:
    """A page of the time logged on a request, oldest first."""
    await uow.support_requests.get(request_id)
    found = await uow.support_requests.entries_page(request_id, page)
    return Page[TimeEntryPublic](
        data=[time_entry_public(e) for e in found.data],
        next_cursor=found.next_cursor,
        has_more=found.has_more,
    )
