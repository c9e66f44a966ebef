"""The port of overage cases, their steps and notices (SQL in `overage.repository.cases`)."""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from datetime import datetime

from libs.platform.pagination import Page, PageRequest
from overage.domain.cases import CaseState, CaseStep, OverageCase
from overage.domain.rebills import CaseNotice


@dataclass(frozen=True)
class CaseFilters:
    """Which cases a list shows."""

    state: CaseState | None = None
    account_id: str | None = None
    open_only: bool = False
    overdue_before: dict[str, datetime] = field(default_factory=dict)
    """Overdue only: per state, cases that entered it at or before this time (empty: no filter)."""


class CaseRepository(abc.ABC):
    """Stored cases."""

    @abc.abstractmethod
    async def open_case_of(self, vendor_id: str, tenant_ref: str) -> OverageCase | None:
        """The tenant's open case, if any."""

    @abc.abstractmethod
    async def add(self, case: OverageCase) -> bool:
        """Insert a new open case; False when the tenant has an open case already (the unique index)."""

    @abc.abstractmethod
    async def get(self, case_id: str, *, for_update: bool = False) -> OverageCase | None:
        """A case by id (locked for the transaction when `for_update`, where the database can)."""

    @abc.abstractmethod
    async def save(self, case: OverageCase) -> None:
        """Replace a stored case."""

    @abc.abstractmethod
    async def add_step(self, step: CaseStep) -> None:
        """Record a step of a case's history."""

    @abc.abstractmethod
    async def steps(self, case_id: str) -> list[CaseStep]:
        """A case's steps, oldest first."""

    @abc.abstractmethod
    async def add_notice(self, notice: CaseNotice) -> None:
        """Add a notice (priced) to its case."""

    @abc.abstractmethod
    async def notices(self, case_id: str) -> list[CaseNotice]:
        """A case's notices, by period."""

    @abc.abstractmethod
    async def page(self, page: PageRequest, filters: CaseFilters) -> Page[OverageCase]:
        """A page of cases by id, filtered."""

    @abc.abstractmethod
    async def open_cases(self, after_id: str | None, limit: int) -> list[OverageCase]:
        """Up to `limit` open cases by id after `after_id` (the overdue sweep's chunks)."""
