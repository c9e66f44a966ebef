"""Overage cases, their steps and notices in SQL."""

from __future__ import annotations

from dataclasses import asdict

from sqlalchemy import and_, or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from libs.platform.ids import new_id
from libs.platform.pagination import Page, PageRequest, paginate
from overage.domain.cases import CaseState, CaseStep, Decision, OverageCase
from overage.domain.rebills import CaseNotice
from overage.handlers.cases_port import CaseFilters, CaseRepository
from overage.models.cases import CaseNoticeRow, CaseRow, CaseStepRow

CLOSED = CaseState.CLOSED.value


def _case_of(row: CaseRow) -> OverageCase:
    return OverageCase(
        id=row.id,
        vendor_id=row.vendor_id,
        tenant_ref=row.tenant_ref,
        account_id=row.account_id,
        subscription_id=row.subscription_id,
        state=CaseState(row.state),
        opened_at=row.opened_at,
        state_entered_at=row.state_entered_at,
        decision=None if row.decision is None else Decision(row.decision),
        paperwork_opened_at=row.paperwork_opened_at,
        paperwork_signed_at=row.paperwork_signed_at,
        removal_confirmed_at=row.removal_confirmed_at,
        closed_at=row.closed_at,
        licensed_mismatch=row.licensed_mismatch,
        last_actual_count=row.last_actual_count,
        escalated_state=None if row.escalated_state is None else CaseState(row.escalated_state),
    )


def _row_of(case: OverageCase) -> CaseRow:
    values = asdict(case)
    values["state"] = case.state.value
    values["decision"] = None if case.decision is None else case.decision.value
    values["escalated_state"] = None if case.escalated_state is None else case.escalated_state.value
    return CaseRow(**values)


class SqlCaseRepository(CaseRepository):
    """Cases over `overage_cases`, `overage_case_steps` and `overage_case_notices`."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def open_case_of(self, vendor_id: str, tenant_ref: str) -> OverageCase | None:
        """The tenant's open case."""
        stmt = select(CaseRow).where(
            col(CaseRow.vendor_id) == vendor_id,
            col(CaseRow.tenant_ref) == tenant_ref,
            col(CaseRow.state) != CLOSED,
        )
        row = (await self.session.exec(stmt)).first()
        return None if row is None else _case_of(row)

    async def add(self, case: OverageCase) -> bool:
        """Insert; False when the tenant has an open case (the partial unique index)."""
        try:
            async with self.session.begin_nested():
                self.session.add(_row_of(case))
        except IntegrityError:
            return False
        return True

    async def get(self, case_id: str, *, for_update: bool = False) -> OverageCase | None:
        """A case (row-locked on PostgreSQL when `for_update`; SQLite serialises writers anyway)."""
        stmt = select(CaseRow).where(col(CaseRow.id) == case_id)
        if for_update:
            stmt = stmt.with_for_update()
        row = (await self.session.exec(stmt)).first()
        return None if row is None else _case_of(row)

    async def save(self, case: OverageCase) -> None:
        """Replace the case."""
        await self.session.merge(_row_of(case))

    async def add_step(self, step: CaseStep) -> None:
        """Insert a step."""
        self.session.add(CaseStepRow(id=new_id("ocs"), **{**asdict(step), "state": step.state.value}))

    async def steps(self, case_id: str) -> list[CaseStep]:
        """The case's steps, oldest first."""
        stmt = select(CaseStepRow).where(col(CaseStepRow.case_id) == case_id).order_by(col(CaseStepRow.id))
        return [
            CaseStep(r.case_id, r.action, CaseState(r.state), r.actor, r.at, r.note)
            for r in (await self.session.exec(stmt)).all()
        ]

    async def add_notice(self, notice: CaseNotice) -> None:
        """Insert a case notice."""
        self.session.add(CaseNoticeRow(**asdict(notice)))

    async def notices(self, case_id: str) -> list[CaseNotice]:
        """The case's notices by period."""
        stmt = (
            select(CaseNoticeRow)
            .where(col(CaseNoticeRow.case_id) == case_id)
            .order_by(col(CaseNoticeRow.period_start), col(CaseNoticeRow.notice_id))
        )
        names = CaseNotice.__dataclass_fields__
        return [
            CaseNotice(**{name: getattr(r, name) for name in names})
            for r in (await self.session.exec(stmt)).all()
        ]

    async def page(self, page: PageRequest, filters: CaseFilters) -> Page[OverageCase]:
        """A page of cases by id."""
        stmt = select(CaseRow)
        if filters.state is not None:
            stmt = stmt.where(col(CaseRow.state) == filters.state.value)
        if filters.account_id is not None:
            stmt = stmt.where(col(CaseRow.account_id) == filters.account_id)
        if filters.open_only:
            stmt = stmt.where(col(CaseRow.state) != CLOSED)
        if filters.overdue_before:
            stmt = stmt.where(
                or_(
                    *(
                        and_(col(CaseRow.state) == state, col(CaseRow.state_entered_at) <= cutoff)
                        for state, cutoff in filters.overdue_before.items()
                    )
                )
            )
        return await paginate(self.session, stmt, CaseRow.id, page, _case_of)

    async def open_cases(self, after_id: str | None, limit: int) -> list[OverageCase]:
        """Open cases by id after `after_id`."""
        stmt = select(CaseRow).where(col(CaseRow.state) != CLOSED)
        if after_id is not None:
            stmt = stmt.where(col(CaseRow.id) > after_id)
        stmt = stmt.order_by(col(CaseRow.id)).limit(limit)
        return [_case_of(r) for r in (await self.session.exec(stmt)).all()]
