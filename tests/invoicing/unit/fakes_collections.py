"""Collections cases in memory, for the fake unit of work (tests/invoicing/unit/fakes.py): rows
staged by a unit of work reach the store on its commit and are dropped without one, like the
SQL repository's in its transaction; one open case per account and currency, a step once per case."""

from __future__ import annotations

import copy
from collections.abc import Collection
from dataclasses import dataclass, field
from operator import attrgetter

from invoicing.domain.collections import CaseState, CaseStep, CollectionsCase
from invoicing.handlers.collections_port import CaseFilters, CollectionsCaseRepository
from libs.platform.errors import Conflict
from libs.platform.pagination import Page, PageRequest
from tests.support.fake_pages import page_of


@dataclass
class CollectionsTables:
    """The committed cases, by id, each with its steps."""

    cases: dict[str, CollectionsCase] = field(default_factory=dict)


class FakeCollectionsCaseRepository(CollectionsCaseRepository):
    """Cases of one unit of work over `CollectionsTables`."""

    def __init__(self, tables: CollectionsTables) -> None:
        self.tables = tables
        self.staged: dict[str, CollectionsCase] = {}

    def _cases(self) -> dict[str, CollectionsCase]:
        return {**self.tables.cases, **self.staged}

    async def find(self, case_id: str) -> CollectionsCase | None:
        found = self._cases().get(case_id)
        return copy.deepcopy(found) if found is not None else None

    async def open_cases(self, account_ids: Collection[str]) -> list[CollectionsCase]:
        return [
            copy.deepcopy(case)
            for case in sorted(self._cases().values(), key=lambda case: case.id)
            if case.account_id in account_ids and case.state is CaseState.OPEN
        ]

    async def add(self, case: CollectionsCase) -> bool:
        if await self.open_cases([case.account_id]) and any(
            open_case.currency == case.currency for open_case in await self.open_cases([case.account_id])
        ):
            return False
        case.version = 1
        self.staged[case.id] = copy.deepcopy(case)
        return True

    async def add_step(self, case: CollectionsCase, step: CaseStep) -> bool:
        stored = self._cases()[case.id]
        if any(taken.step_number == step.step_number for taken in stored.steps):
            return False
        updated = copy.deepcopy(stored)
        updated.steps.append(step)
        self.staged[case.id] = updated
        return True

    async def save(self, case: CollectionsCase) -> None:
        stored = self._cases().get(case.id)
        if stored is None or stored.version != case.version:
            raise Conflict(f"collections case {case.id!r} changed meanwhile; read it and retry")
        case.version += 1
        self.staged[case.id] = copy.deepcopy(case)

    async def page(self, filters: CaseFilters, page: PageRequest) -> Page[CollectionsCase]:
        mine = [
            case
            for case in self._cases().values()
            if (filters.account_id is None or case.account_id == filters.account_id)
            and (filters.state is None or case.state is filters.state)
        ]
        return page_of(mine, attrgetter("id"), page)

    def commit(self) -> None:
        self.tables.cases.update(self.staged)
        self.staged.clear()

    def rollback(self) -> None:
        self.staged.clear()
