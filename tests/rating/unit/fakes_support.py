"""The support repositories in memory (part of the `RatingStore` of `tests/rating/unit/fakes.py`)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import TypeVar

from libs.contracts.vocabulary import ContractKind
from libs.platform.errors import Conflict
from libs.platform.pagination import Page, PageRequest
from rating.domain.support_contracts import (
    HolderType,
    SupportContract,
    SupportContractTemplate,
)
from rating.domain.support_requests import SupportRequest, TimeEntry
from rating.handlers.support_contracts import SupportContractFilters, SupportContractRepository
from rating.handlers.support_requests import SupportRequestFilters, SupportRequestRepository

T = TypeVar("T", SupportContract, SupportRequest, TimeEntry)


def _page(items: list[T], page: PageRequest) -> Page[T]:
    after = [i for i in sorted(items, key=lambda i: i.id) if page.after is None or i.id > page.after]
    return Page[T](data=after[: page.limit], has_more=len(after) > page.limit)


class FakeSupportContracts(SupportContractRepository):
    """Templates and contracts in dicts; saved versions checked as in SQL."""

    def __init__(self) -> None:
        self.templates: dict[str, SupportContractTemplate] = {}
        self.contracts: dict[str, SupportContract] = {}

    async def template(self, template_id: str) -> SupportContractTemplate | None:
        return self.templates.get(template_id)

    async def per_incident_templates(self) -> list[SupportContractTemplate]:
        found = [t for t in self.templates.values() if t.kind is ContractKind.PER_INCIDENT]
        return sorted(found, key=lambda t: t.id)

    async def save_template(self, template: SupportContractTemplate) -> None:
        self.templates[template.id] = template

    async def find(self, contract_id: str) -> SupportContract | None:
        return self.contracts.get(contract_id)

    async def held_by(self, subscription_id: str, account_ids: Iterable[str]) -> list[SupportContract]:
        accounts = set(account_ids)
        return [
            c
            for c in self.contracts.values()
            if c.cancelled_at is None
            and c.request_id is None
            and (
                (c.holder_type is HolderType.SUBSCRIPTION and c.holder_id == subscription_id)
                or (c.holder_type is HolderType.ACCOUNT and c.holder_id in accounts)
            )
        ]

    async def time_zones(self, filters: SupportContractFilters) -> list[str]:
        return sorted({c.time_zone for c in self.contracts.values()})

    async def page(
        self, filters: SupportContractFilters, page: PageRequest, *, today: dict[str, date]
    ) -> Page[SupportContract]:
        found = [
            c
            for c in self.contracts.values()
            if filters.holder_id in (None, c.holder_id)
            and (filters.state is None or c.state_on(today.get(c.time_zone, date.min)) is filters.state)
        ]
        return _page(found, page)

    async def save(self, contract: SupportContract) -> None:
        stored = self.contracts.get(contract.id)
        if stored is not None and stored is not contract and stored.version != contract.version:
            raise Conflict("changed meanwhile")
        contract.version += 1
        self.contracts[contract.id] = contract


class FakeSupportRequests(SupportRequestRepository):
    """Requests and time entries in dicts."""

    def __init__(self) -> None:
        self.requests: dict[str, SupportRequest] = {}
        self.entries: dict[str, TimeEntry] = {}

    async def find(self, request_id: str) -> SupportRequest | None:
        return self.requests.get(request_id)

    async def save(self, request: SupportRequest) -> None:
        request.version += 1
        self.requests[request.id] = request

    async def add_entry(self, entry: TimeEntry) -> None:
        self.entries[entry.id] = entry

    async def page(self, filters: SupportRequestFilters, page: PageRequest) -> Page[SupportRequest]:
        found = [r for r in self.requests.values() if filters.subscription_id in (None, r.subscription_id)]
        return _page(found, page)

    async def entries_page(self, request_id: str, page: PageRequest) -> Page[TimeEntry]:
        return _page([e for e in self.entries.values() if e.request_id == request_id], page)
