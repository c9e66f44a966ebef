"""The port of the disputes' repository (SQL: `invoicing.repository.disputes`; fake in unit tests)."""

from __future__ import annotations

import abc
from dataclasses import dataclass

from invoicing.domain.disputes import Dispute, DisputeState
from libs.platform.errors import NotFound
from libs.platform.pagination import Page, PageRequest


@dataclass(frozen=True)
class DisputeFilters:
    """What a list of disputes is narrowed to (None = any)."""

    account_id: str | None = None
    invoice_id: str | None = None
    state: DisputeState | None = None


class DisputeRepository(abc.ABC):
    """Disputes on invoices and their lines."""

    @abc.abstractmethod
    async def find(self, dispute_id: str) -> Dispute | None:
        """One dispute, if it exists."""

    @abc.abstractmethod
    async def add(self, dispute: Dispute) -> None:
        """Store a new dispute, or change nothing and raise `DisputeConflict` (409) when the line (or
        the whole invoice) has an open dispute already; the transaction stays usable."""

    @abc.abstractmethod
    async def save(self, dispute: Dispute) -> None:
        """Write a changed dispute; a concurrent change is a 409."""

    @abc.abstractmethod
    async def page(self, filters: DisputeFilters, page: PageRequest) -> Page[Dispute]:
        """A page of disputes ordered by id (creation order)."""

    async def get(self, dispute_id: str) -> Dispute:
        """One dispute, or NotFound (404)."""
        dispute = await self.find(dispute_id)
        if dispute is None:
            raise NotFound("dispute", dispute_id)
        return dispute
