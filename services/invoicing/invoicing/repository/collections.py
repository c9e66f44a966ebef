"""Collections cases in SQL: `collections_cases` and `collections_case_steps`.

A new case and a new step are inserted with ON CONFLICT DO NOTHING (one statement, no savepoint):
an account and currency with an open case already (`uq_collections_cases_open`), or a step the
case has taken already (`uq_collections_case_steps_case_step`), insert nothing — that is what
makes two runs at once, or a run repeated, take each step once.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Table, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from invoicing.domain.collections import CaseState, CaseStep, CloseReason, CollectionsCase
from invoicing.domain.dunning import DunningAction
from invoicing.handlers.collections_port import CaseFilters, CollectionsCaseRepository
from invoicing.models.collections import CollectionsCaseRow, CollectionsCaseStepRow
from libs.platform.errors import Conflict
from libs.platform.ids import new_id
from libs.platform.pagination import Page, PageRequest, paginate

Row = CollectionsCaseRow
StepRow = CollectionsCaseStepRow
CASES: Table = Row.__table__  # type: ignore[attr-defined]
STEPS: Table = StepRow.__table__  # type: ignore[attr-defined]


class SqlCollectionsCaseRepository(CollectionsCaseRepository):
    """Collections cases over the invoicing database."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def find(self, case_id: str) -> CollectionsCase | None:
        """One case with its steps."""
        row = (await self.session.exec(select(Row).where(col(Row.id) == case_id))).first()
        return None if row is None else (await self._with_steps([row]))[0]

    async def open_cases(self, account_ids: Collection[str]) -> list[CollectionsCase]:
        """The open cases of a page of accounts: two queries."""
        if not account_ids:
            return []
        rows = (
            await self.session.exec(
                select(Row).where(
                    col(Row.account_id).in_(sorted(account_ids)), col(Row.state) == CaseState.OPEN.value
                )
            )
        ).all()
        return await self._with_steps(rows)

    async def add(self, case: CollectionsCase) -> bool:
        """Insert unless the account and currency have an open case (then False)."""
        if not await self._insert_new(CASES, {**_values(case), "version": 1}):
            return False
        case.version = 1
        return True

    async def add_step(self, case: CollectionsCase, step: CaseStep) -> bool:
        """Insert unless the case has taken the step (then False)."""
        return await self._insert_new(
            STEPS,
            {
                "id": new_id("cst"),
                "case_id": case.id,
                "step_number": step.step_number,
                "action": step.action.value,
                "run_on": step.run_on,
                "days_past_due": step.days_past_due,
                "past_due_amount": step.past_due_amount,
                "taken_at": step.taken_at,
                "taken_by": step.taken_by,
                "detail": step.detail,
            },
        )

    async def _insert_new(self, table: Table, values: dict[str, Any]) -> bool:
        dialect = (await self.session.connection()).dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        result: Any = await self.session.exec(insert(table).values(**values).on_conflict_do_nothing())
        return bool(result.rowcount == 1)

    async def save(self, case: CollectionsCase) -> None:
        """Write a changed case; a stale copy is a 409."""
        result: Any = await self.session.exec(
            update(Row)
            .where(col(Row.id) == case.id, col(Row.version) == case.version)
            .values(**_values(case), version=case.version + 1)
        )
        if result.rowcount != 1:
            raise Conflict(f"collections case {case.id!r} changed meanwhile; run again")
        case.version += 1

    async def page(self, filters: CaseFilters, page: PageRequest) -> Page[CollectionsCase]:
        """A page by id, then the steps of its cases in one query."""
        found = await paginate(self.session, select(Row).where(*_filters(filters)), Row.id, page, lambda r: r)
        cases = await self._with_steps(found.data)
        return Page[CollectionsCase](data=cases, next_cursor=found.next_cursor, has_more=found.has_more)

    async def _with_steps(self, rows: Sequence[Row]) -> list[CollectionsCase]:
        steps: dict[str, list[CaseStep]] = {row.id: [] for row in rows}
        if steps:
            found = await self.session.exec(
                select(StepRow)
                .where(col(StepRow.case_id).in_(sorted(steps)))
                .order_by(col(StepRow.case_id), col(StepRow.step_number))
            )
            for step in found.all():
                steps[step.case_id].append(
                    CaseStep(
                        step_number=step.step_number,
                        action=DunningAction(step.action),
                        run_on=step.run_on,
                        days_past_due=step.days_past_due,
                        past_due_amount=step.past_due_amount,
                        taken_at=step.taken_at,
                        taken_by=step.taken_by,
                        detail=step.detail,
                    )
                )
        return [_case(row, steps[row.id]) for row in rows]


def _values(case: CollectionsCase) -> dict[str, Any]:
    return {
        "id": case.id,
        "account_id": case.account_id,
        "currency": case.currency,
        "policy_id": case.policy_id,
        "state": case.state.value,
        "opened_on": case.opened_on,
        "last_run_on": case.last_run_on,
        "opened_at": case.opened_at,
        "opened_by": case.opened_by,
        "suspended": case.suspended,
        "closed_at": case.closed_at,
        "closed_by": case.closed_by,
        "close_reason": None if case.close_reason is None else case.close_reason.value,
        "resume_requested": case.resume_requested,
    }


def _case(row: Row, steps: list[CaseStep]) -> CollectionsCase:
    return CollectionsCase(
        id=row.id,
        account_id=row.account_id,
        currency=row.currency,
        policy_id=row.policy_id,
        opened_on=row.opened_on,
        opened_at=row.opened_at,
        opened_by=row.opened_by,
        last_run_on=row.last_run_on,
        state=CaseState(row.state),
        suspended=row.suspended,
        closed_at=row.closed_at,
        closed_by=row.closed_by,
        close_reason=None if row.close_reason is None else CloseReason(row.close_reason),
        resume_requested=row.resume_requested,
        steps=steps,
        version=row.version,
    )


def _filters(filters: CaseFilters) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if filters.account_id is not None:
        where.append(col(Row.account_id) == filters.account_id)
    if filters.state is not None:
        where.append(col(Row.state) == filters.state.value)
    return where
