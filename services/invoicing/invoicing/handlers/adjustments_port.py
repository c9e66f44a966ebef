"""The port of the adjustments' repository (SQL: `invoicing.repository.adjustments`; fake in unit tests)."""

from __future__ import annotations

import abc
from collections.abc import Collection
from dataclasses import dataclass

from invoicing.domain.adjustments import Adjustment, AdjustmentDirection, AdjustmentKind, AdjustmentState
from invoicing.domain.billing_inputs import PendingAdjustment
from libs.platform.errors import NotFound
from libs.platform.pagination import Page, PageRequest


@dataclass(frozen=True)
class AdjustmentFilters:
    """What a list of adjustments is narrowed to (None = any)."""

    account_id: str | None = None
    state: AdjustmentState | None = None
    kind: AdjustmentKind | None = None
    direction: AdjustmentDirection | None = None
    subscription_id: str | None = None


class AdjustmentRepository(abc.ABC):
    """Adjustments; whether one is applied is derived from the invoice lines that bill it."""

    @abc.abstractmethod
    async def find(self, adjustment_id: str, *, lock: bool = False) -> Adjustment | None:
        """One adjustment with its applied invoice, if it exists; `lock` holds its row until commit
        (a bill run reading the pending ones waits, and then sees it cancelled)."""

    @abc.abstractmethod
    async def add(self, adjustment: Adjustment) -> None:
        """Store a new adjustment."""

    @abc.abstractmethod
    async def save(self, adjustment: Adjustment) -> None:
        """Write a changed adjustment (its cancellation); a concurrent change is a 409."""

    @abc.abstractmethod
    async def page(self, filters: AdjustmentFilters, page: PageRequest) -> Page[Adjustment]:
        """A page of adjustments ordered by id (creation order)."""

    @abc.abstractmethod
    async def pending_adjustments(self, account_ids: Collection[str]) -> dict[str, list[PendingAdjustment]]:
        """The pending adjustments of these accounts, by account, in one query for the chunk.

        Pending: not cancelled, and no invoice that is not void has a line keyed
        `adjustment:{id}`. The rows are locked until the caller's transaction ends (PostgreSQL;
        SQLite's write lock does it), so a cancellation waits for the bill run and then sees the
        adjustment applied. Call it in the transaction that stores the drafts.
        """

    async def get(self, adjustment_id: str, *, lock: bool = False) -> Adjustment:
        """One adjustment, or NotFound (404)."""
        adjustment = await self.find(adjustment_id, lock=lock)
        if adjustment is None:
            raise NotFound("adjustment", adjustment_id)
        return adjustment
