"""The case workflow as a pure state machine: each step, its refusals, the keep and remove paths,
deadlines and escalation once per overdue step."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from libs.platform.errors import ValidationFailed
from overage.domain.cases import (
    DEFAULT_DEADLINE_DAYS,
    CaseAction,
    CaseState,
    Decision,
    IllegalTransition,
    OverageCase,
    after_notice,
    due_at,
    is_overdue,
    mark_escalated,
    needs_escalation,
    open_case,
    take_action,
)

T0 = datetime(2026, 8, 3, 9, tzinfo=UTC)


def _case() -> OverageCase:
    return open_case(
        case_id="ovc_1",
        vendor_id="ven_1",
        tenant_ref="t-1",
        account_id="acct_1",
        subscription_id="sub_1",
        at=T0,
    )


def _decided(decision: Decision) -> OverageCase:
    case = take_action(_case(), CaseAction.CONTACT_CRM_OWNER, at=T0 + timedelta(hours=1))
    return take_action(case, CaseAction.RECORD_DECISION, at=T0 + timedelta(hours=2), decision=decision)


def test_a_kept_case_walks_every_step_and_closes_once_the_paperwork_is_signed() -> None:
    case = _decided(Decision.KEEP)
    assert (case.state, case.decision, case.paperwork_opened_at) == (
        CaseState.CUSTOMER_DECIDED,
        Decision.KEEP,
        T0 + timedelta(hours=2),
    )
    case = take_action(case, CaseAction.INFORM_VENDOR, at=T0 + timedelta(days=1))
    case = take_action(case, CaseAction.RECORD_VENDOR_INVOICE, at=T0 + timedelta(days=5))
    with pytest.raises(IllegalTransition):
        take_action(case, CaseAction.CLOSE, at=T0 + timedelta(days=6))  # paperwork not signed
    case = take_action(case, CaseAction.SIGN_PAPERWORK, at=T0 + timedelta(days=40))
    assert case.state is CaseState.VENDOR_INVOICE_RECEIVED and case.paperwork_signed_at == T0 + timedelta(
        days=40
    )
    case = take_action(case, CaseAction.CLOSE, at=T0 + timedelta(days=41))
    assert (case.state, case.closed_at) == (CaseState.CLOSED, T0 + timedelta(days=41))


def test_actions_out_of_order_are_illegal() -> None:
    with pytest.raises(IllegalTransition):
        take_action(_case(), CaseAction.INFORM_VENDOR, at=T0)
    with pytest.raises(IllegalTransition):
        take_action(_case(), CaseAction.SIGN_PAPERWORK, at=T0)
    with pytest.raises(IllegalTransition):
        take_action(_decided(Decision.KEEP), CaseAction.CONFIRM_REMOVAL, at=T0)
    with pytest.raises(IllegalTransition):
        take_action(_decided(Decision.REMOVE), CaseAction.SIGN_PAPERWORK, at=T0)
    contacted = take_action(_case(), CaseAction.CONTACT_CRM_OWNER, at=T0)
    with pytest.raises(ValidationFailed):
        take_action(contacted, CaseAction.RECORD_DECISION, at=T0)  # no decision
    closed = take_action(_decided(Decision.REMOVE), CaseAction.CONFIRM_REMOVAL, at=T0)
    with pytest.raises(IllegalTransition):
        take_action(closed, CaseAction.CONTACT_CRM_OWNER, at=T0)


def test_a_removal_closes_on_a_notice_within_licenses_and_a_keep_does_not() -> None:
    removing = _decided(Decision.REMOVE)
    still_over = after_notice(removing, within_licenses=False, actual_count=Decimal(262), at=T0)
    assert still_over.state is CaseState.CUSTOMER_DECIDED
    done = after_notice(removing, within_licenses=True, actual_count=Decimal(250), at=T0 + timedelta(days=30))
    assert (done.state, done.removal_confirmed_at) == (CaseState.CLOSED, T0 + timedelta(days=30))
    keeping = _decided(Decision.KEEP)
    assert after_notice(keeping, within_licenses=True, actual_count=Decimal(250), at=T0).state is (
        CaseState.CUSTOMER_DECIDED
    )


def test_deadlines_and_escalation_once_per_overdue_step() -> None:
    case = _case()  # notified: 2 days
    assert due_at(case, DEFAULT_DEADLINE_DAYS) == T0 + timedelta(days=2)
    assert not is_overdue(case, DEFAULT_DEADLINE_DAYS, T0 + timedelta(days=1, hours=23))
    late = T0 + timedelta(days=2)
    assert needs_escalation(case, DEFAULT_DEADLINE_DAYS, late)
    escalated = mark_escalated(case)
    assert not needs_escalation(escalated, DEFAULT_DEADLINE_DAYS, late + timedelta(days=5))
    # The next step has its own deadline and its own escalation.
    moved = take_action(escalated, CaseAction.CONTACT_CRM_OWNER, at=late)
    assert needs_escalation(moved, DEFAULT_DEADLINE_DAYS, late + timedelta(days=5))
    assert not needs_escalation(moved, {"notified": 2}, late + timedelta(days=50))  # no deadline set
