"""Overage cases: their workflow actions, views, the overdue list and its escalations."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from libs.contracts.vendor_payables import VendorInvoiceReceived
from libs.platform.errors import NotFound
from libs.platform.money import amount_out, decimal_out, percent_out, unit_price_out
from libs.platform.pagination import Page, PageRequest
from overage.domain import cases as rules
from overage.domain.cases import CaseAction, CaseState, CaseStep, Decision, OverageCase
from overage.domain.rebills import CaseNotice
from overage.events.cases import case_changed, case_escalated, licenses_kept
from overage.handlers.cases_port import CaseFilters
from overage.schemas.cases import CaseActionRequest, CaseNoticePublic, CasePublic, CaseStepPublic, CaseSummary

if TYPE_CHECKING:
    from overage.handlers.unit_of_work import OverageUnitOfWork

UnitsOfWork = Callable[[], "OverageUnitOfWork"]
ESCALATOR = "overage.escalation"


def case_summary(case: OverageCase, deadline_days: Mapping[str, int], now: datetime) -> CaseSummary:
    """The view of a case without its notices and steps."""
    return CaseSummary(
        id=case.id,
        vendor_id=case.vendor_id,
        tenant_id=case.tenant_ref,
        account_id=case.account_id,
        subscription_id=case.subscription_id,
        state=case.state.value,
        decision=None if case.decision is None else case.decision.value,
        opened_at=case.opened_at,
        state_entered_at=case.state_entered_at,
        due_at=rules.due_at(case, deadline_days),
        overdue=rules.is_overdue(case, deadline_days, now),
        paperwork_opened_at=case.paperwork_opened_at,
        paperwork_signed_at=case.paperwork_signed_at,
        removal_confirmed_at=case.removal_confirmed_at,
        closed_at=case.closed_at,
        licensed_mismatch=case.licensed_mismatch,
        last_actual_user_count=decimal_out(case.last_actual_count),
    )


def _notice_public(notice: CaseNotice) -> CaseNoticePublic:
    return CaseNoticePublic(
        notice_id=notice.notice_id,
        vendor_notice_id=notice.notice_ref,
        period_start=notice.period_start,
        licensed_count=decimal_out(notice.licensed_count),
        actual_user_count=decimal_out(notice.actual_count),
        overage_count=decimal_out(notice.overage_count),
        our_licensed_quantity=decimal_out(notice.our_licensed_quantity),
        licensed_mismatch=notice.licensed_mismatch,
        vendor_unit_cost=unit_price_out(notice.vendor_unit_cost),
        markup_percent=percent_out(notice.markup_percent),
        unit_price=unit_price_out(notice.unit_price),
        amount=amount_out(notice.amount, notice.currency),
        currency=notice.currency,
        charge_key=notice.charge_key,
    )


async def case_public(
    uow: OverageUnitOfWork, case: OverageCase, deadline_days: Mapping[str, int]
) -> CasePublic:
    """The view of a case with its notices and steps."""
    notices = await uow.cases.notices(case.id)
    steps = await uow.cases.steps(case.id)
    total = sum((n.amount for n in notices), Decimal(0))
    currency = notices[0].currency if notices else "USD"
    return CasePublic(
        **case_summary(case, deadline_days, uow.clock.now()).model_dump(),
        notices=[_notice_public(n) for n in notices],
        steps=[
            CaseStepPublic(action=s.action, state=s.state.value, actor=s.actor, at=s.at, note=s.note)
            for s in steps
        ],
        rebilled_amount=amount_out(total, currency),
    )


async def get_case(*, uow: OverageUnitOfWork, case_id: str, deadline_days: Mapping[str, int]) -> CasePublic:
    """One case with its notices and steps."""
    case = await uow.cases.get(case_id)
    if case is None:
        raise NotFound("overage case", case_id)
    return await case_public(uow, case, deadline_days)


def overdue_cutoffs(deadline_days: Mapping[str, int], now: datetime) -> dict[str, datetime]:
    """Per waiting state, the latest `state_entered_at` that is overdue now."""
    return {
        state: now - timedelta(days=days)
        for state, days in deadline_days.items()
        if state != CaseState.CLOSED
    }


async def list_cases(
    *,
    uow: OverageUnitOfWork,
    page: PageRequest,
    filters: CaseFilters,
    overdue: bool,
    deadline_days: Mapping[str, int],
) -> Page[CaseSummary]:
    """A page of cases, filtered; `overdue` lists only open cases past their state's deadline."""
    now = uow.clock.now()
    if overdue:
        filters = CaseFilters(filters.state, filters.account_id, True, overdue_cutoffs(deadline_days, now))
    found = await uow.cases.page(page, filters)
    return Page[CaseSummary](
        data=[case_summary(c, deadline_days, now) for c in found.data],
        next_cursor=found.next_cursor,
        has_more=found.has_more,
    )


async def take_action(
    *, uow: OverageUnitOfWork, case_id: str, command: CaseActionRequest, deadline_days: Mapping[str, int]
) -> CasePublic:
    """One workflow step on a case (refused with 409 when its state does not allow it)."""
    case = await uow.cases.get(case_id, for_update=True)
    if case is None:
        raise NotFound("overage case", case_id)
    now = uow.clock.now()
    updated = rules.take_action(case, command.action, at=now, decision=command.decision)
    await uow.cases.save(updated)
    await uow.cases.add_step(
        CaseStep(case.id, command.action.value, updated.state, uow.actor, now, command.note)
    )
    uow.emit(case_changed(updated, change=command.action.value, actor=uow.actor, at=now), key=case.account_id)
    if command.action is CaseAction.RECORD_DECISION and command.decision is Decision.KEEP:
        subscription = await uow.read_model.subscription(case.subscription_id)
        notices = await uow.cases.notices(case.id)
        previous = (
            subscription.quantity
            if subscription is not None
            else (notices[-1].licensed_count if notices else Decimal(0))
        )
        uow.emit(licenses_kept(updated, previous_quantity=previous, at=now), key=case.account_id)
    uow.audit(
        f"overage_case.{command.action.value}",
        "overage_case",
        case.id,
        {
            "from": case.state.value,
            "to": updated.state.value,
            "decision": command.decision,
            "note": command.note,
        },
    )
    await uow.commit()
    return await case_public(uow, updated, deadline_days)


async def escalate_overdue(
    *, units_of_work: UnitsOfWork, deadline_days: Mapping[str, int], chunk: int = 500
) -> int:
    """Escalate every open case overdue in its state and not escalated for that step yet; how many."""
    escalated, after = 0, None
    while True:
        async with units_of_work() as uow:
            cases = await uow.cases.open_cases(after, chunk)
            now = uow.clock.now()
            for case in cases:
                if not rules.needs_escalation(case, deadline_days, now):
                    continue
                locked = await uow.cases.get(case.id, for_update=True)
                if locked is None or not rules.needs_escalation(locked, deadline_days, now):
                    continue
                due = rules.due_at(locked, deadline_days)
                assert due is not None
                updated = rules.mark_escalated(locked)
                await uow.cases.save(updated)
                await uow.cases.add_step(
                    CaseStep(case.id, "escalated", updated.state, ESCALATOR, now, f"due {due.isoformat()}")
                )
                uow.emit(case_escalated(updated, due_at=due), key=case.account_id)
                escalated += 1
            await uow.commit()
        if len(cases) < chunk:
            return escalated
        after = cases[-1].id


async def apply_vendor_invoice_received(*, uow: OverageUnitOfWork, event: VendorInvoiceReceived) -> bool:
    """The vendor's overage invoice for a case moves it from vendor_informed to
    vendor_invoice_received (step `record_vendor_invoice`, the invoice number in its note). A case
    in any other state, an annual invoice or one naming no case changes nothing (a redelivered
    event finds the case moved already). Whether the case moved."""
    if event.overage_case_id is None:
        return False
    case = await uow.cases.get(event.overage_case_id, for_update=True)
    if case is None or not case.is_open or case.state is not CaseState.VENDOR_INFORMED:
        return False
    now = uow.clock.now()
    action = CaseAction.RECORD_VENDOR_INVOICE
    updated = rules.take_action(case, action, at=now)
    note = f"vendor invoice {event.number} ({event.vendor_invoice_id})"
    await uow.cases.save(updated)
    await uow.cases.add_step(CaseStep(case.id, action.value, updated.state, uow.actor, now, note))
    uow.emit(case_changed(updated, change=action.value, actor=uow.actor, at=now), key=case.account_id)
    uow.audit(
        f"overage_case.{action.value}",
        "overage_case",
        case.id,
        {"from": case.state.value, "to": updated.state.value, "vendor_invoice_id": event.vendor_invoice_id},
    )
    await uow.commit()
    return True
