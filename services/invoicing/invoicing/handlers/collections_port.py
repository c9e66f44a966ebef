"""The port of collections cases (SQL: `invoicing.repository.collections`)."""

from __future__ import annotations

import abc
from collections.abc import Collection
from dataclasses import dataclass

from invoicing.domain.collections import CaseState, CaseStep, CollectionsCase
from libs.platform.errors import NotFound
from libs.platform.pagination import Page, PageRequest


@dataclass(frozen=True)
class CaseFilters:
    """What a list of cases is narrowed to (None = any)."""

    account_id: str | None = None
    state: CaseState | None = None


class CollectionsCaseRepository(abc.ABC):
    """Collections cases and the steps they took."""

    @abc.abstractmethod
    async def find(self, case_id: str) -> CollectionsCase | None:
        """One case with its steps, if it exists."""

    @abc.abstractmethod
    async def open_cases(self, account_ids: Collection[str]) -> list[CollectionsCase]:
        """The open cases of these accounts, with their steps."""

    @abc.abstractmethod
    async def add(self, case: CollectionsCase) -> bool:
        """Store a new open case; False (nothing stored) when the account and currency have one open."""

    @abc.abstractmethod
    async def add_step(self, case: CollectionsCase, step: CaseStep) -> bool:
        """Store a step taken; False (nothing stored) when the case has taken that step already."""

    @abc.abstractmethod
    async def save(self, case: CollectionsCase) -> None:
        """Write a changed case; a concurrent change is a 409."""

    @abc.abstractmethod
    async def page(self, filters: CaseFilters, page: PageRequest) -> Page[CollectionsCase]:
        """A page of cases by id (creation order), with their steps."""

    async def get(self, case_id: str) -> CollectionsCase:
        """One case, or NotFound (404)."""
        case = await self.find(case_id)
        if case is None:
            raise NotFound("collections case", case_id)
        return case
