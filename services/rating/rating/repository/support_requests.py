"""Support requests in SQL: `support_requests`, `support_time_entries` and `support_time_allocations`
rows <-> domain objects. Each save bumps a request's `version`; a write on a stale copy is a 409.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from libs.platform.errors import Conflict
from libs.platform.pagination import Page, PageRequest, paginate
from rating.domain.support_requests import (
    Allocation,
    AllocationRule,
    CoverageStep,
    RequestState,
    SupportRequest,
    TimeEntry,
    TimeSplit,
)
from rating.handlers.support_requests import SupportRequestFilters, SupportRequestRepository
from rating.models import SupportRequestRow, SupportTimeAllocationRow, SupportTimeEntryRow

Row = SupportRequestRow


class SqlSupportRequestRepository(SupportRequestRepository):
    """Requests and time entries over the rating database."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.seen: dict[str, SupportRequest] = {}

    async def find(self, request_id: str) -> SupportRequest | None:
        """One request, if it exists."""
        if request_id in self.seen:
            return self.seen[request_id]
        row = (await self.session.exec(select(Row).where(col(Row.id) == request_id))).first()
        return None if row is None else self._load(row)

    async def save(self, request: SupportRequest) -> None:
        """Insert a new request or write a changed one (a concurrent change to it is a 409)."""
        values = _row_values(request)
        if request.version == 0:
            await self.session.exec(insert(Row).values(**values, version=1))
        else:
            result: Any = await self.session.exec(
                update(Row)
                .where(col(Row.id) == request.id, col(Row.version) == request.version)
                .values(**values, version=request.version + 1)
            )
            if result.rowcount != 1:
                raise Conflict(f"support request {request.id!r} changed meanwhile; read it and retry")
        request.version += 1
        self.seen[request.id] = request

    async def add_entry(self, entry: TimeEntry) -> None:
        """Store a time entry and its allocations."""
        split = entry.split
        await self.session.exec(
            insert(SupportTimeEntryRow).values(
                id=entry.id,
                request_id=entry.request_id,
                hours=entry.hours,
                logged_at=entry.logged_at,
                uncovered_hours=split.uncovered,
                expired_contract_ids=json.dumps(list(split.expired_contract_ids)),
                contract_id=split.covering_contract_id,
                created_at=entry.created_at,
            )
        )
        if split.allocations:
            await self.session.exec(
                insert(SupportTimeAllocationRow),
                params=[
                    {
                        "entry_id": entry.id,
                        "position": position,
                        "contract_id": a.contract_id,
                        "hours": a.hours,
                        "rule": a.rule.value,
                    }
                    for position, a in enumerate(split.allocations)
                ],
            )

    async def page(self, filters: SupportRequestFilters, page: PageRequest) -> Page[SupportRequest]:
        """A page of requests ordered by id."""
        stmt = select(Row)
        if filters.subscription_id is not None:
            stmt = stmt.where(col(Row.subscription_id) == filters.subscription_id)
        if filters.account_id is not None:
            stmt = stmt.where(col(Row.account_id) == filters.account_id)
        if filters.state is RequestState.OPEN:
            stmt = stmt.where(col(Row.closed_at).is_(None))
        elif filters.state is RequestState.CLOSED:
            stmt = stmt.where(col(Row.closed_at).is_not(None))
        return await paginate(self.session, stmt, Row.id, page, self._load)

    async def entries_page(self, request_id: str, page: PageRequest) -> Page[TimeEntry]:
        """A page of a request's time entries, oldest first (their allocations in one more query)."""
        stmt = select(SupportTimeEntryRow).where(col(SupportTimeEntryRow.request_id) == request_id)
        rows: Page[SupportTimeEntryRow] = await paginate(
            self.session, stmt, SupportTimeEntryRow.id, page, lambda r: r
        )
        ids = [row.id for row in rows.data]
        allocations: dict[str, list[Allocation]] = {entry_id: [] for entry_id in ids}
        if ids:
            found = await self.session.exec(
                select(SupportTimeAllocationRow)
                .where(col(SupportTimeAllocationRow.entry_id).in_(ids))
                .order_by(col(SupportTimeAllocationRow.entry_id), col(SupportTimeAllocationRow.position))
            )
            for a in found.all():
                allocations[a.entry_id].append(Allocation(a.contract_id, a.hours, AllocationRule(a.rule)))
        entries = [_entry(row, allocations[row.id]) for row in rows.data]
        return Page[TimeEntry](data=entries, next_cursor=rows.next_cursor, has_more=rows.has_more)

    def _load(self, row: Row) -> SupportRequest:
        known = self.seen.get(row.id)
        if known is not None:
            return known
        request = SupportRequest(
            id=row.id,
            subscription_id=row.subscription_id,
            account_id=row.account_id,
            summary=row.summary,
            opened_at=row.opened_at,
            contract_id=row.contract_id,
            coverage_contract_id=row.coverage_contract_id,
            coverage_step=CoverageStep(row.coverage_step),
            created_at=row.created_at,
            updated_at=row.updated_at,
            closed_at=row.closed_at,
            hours_logged=row.hours_logged,
            hours_covered=row.hours_covered,
            hours_rolled_over=row.hours_rolled_over,
            hours_uncovered=row.hours_uncovered,
            version=row.version,
        )
        self.seen[row.id] = request
        return request


def _entry(row: SupportTimeEntryRow, allocations: list[Allocation]) -> TimeEntry:
    split = TimeSplit(
        allocations=tuple(allocations),
        uncovered=Decimal(row.uncovered_hours),
        expired_contract_ids=tuple(json.loads(row.expired_contract_ids)),
        covering_contract_id=row.contract_id,
    )
    return TimeEntry(row.id, row.request_id, row.hours, row.logged_at, split, row.created_at)


def _row_values(request: SupportRequest) -> dict[str, Any]:
    return {
        "id": request.id,
        "subscription_id": request.subscription_id,
        "account_id": request.account_id,
        "summary": request.summary,
        "opened_at": request.opened_at,
        "closed_at": request.closed_at,
        "contract_id": request.contract_id,
        "coverage_contract_id": request.coverage_contract_id,
        "coverage_step": request.coverage_step.value,
        "hours_logged": request.hours_logged,
        "hours_covered": request.hours_covered,
        "hours_rolled_over": request.hours_rolled_over,
        "hours_uncovered": request.hours_uncovered,
        "created_at": request.created_at,
        "updated_at": request.updated_at,
    }
