"""The events of overage cases (libs/contracts/overage.py), built from the domain's values."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from libs.contracts.overage import (
    OverageCaseChanged,
    OverageCaseEscalated,
    OverageLicensesKept,
    OverageRebillRequested,
)
from libs.platform.money import amount_out, percent_out, unit_price_out
from overage.domain.cases import OverageCase
from overage.domain.rebills import CaseNotice


def case_changed(case: OverageCase, *, change: str, actor: str, at: datetime) -> OverageCaseChanged:
    """`overage.case_changed` for the case as it is now."""
    return OverageCaseChanged(
        case_id=case.id,
        vendor_id=case.vendor_id,
        tenant_id=case.tenant_ref,
        account_id=case.account_id,
        subscription_id=case.subscription_id,
        state=case.state.value,
        change=change,
        decision=None if case.decision is None else case.decision.value,
        actor=actor,
        changed_at=at,
    )


def case_escalated(case: OverageCase, *, due_at: datetime) -> OverageCaseEscalated:
    """`overage.case_escalated` for the case's overdue step."""
    return OverageCaseEscalated(
        case_id=case.id,
        account_id=case.account_id,
        subscription_id=case.subscription_id,
        state=case.state.value,
        waiting_since=case.state_entered_at,
        due_at=due_at,
    )


def licenses_kept(case: OverageCase, *, previous_quantity: Decimal, at: datetime) -> OverageLicensesKept:
    """`overage.licenses_kept`: the subscription should hold the last notice's user count."""
    return OverageLicensesKept(
        case_id=case.id,
        account_id=case.account_id,
        subscription_id=case.subscription_id,
        vendor_id=case.vendor_id,
        tenant_id=case.tenant_ref,
        previous_quantity=previous_quantity,
        new_quantity=case.last_actual_count,
        decided_at=at,
    )


def rebill_requested(case: OverageCase, notice: CaseNotice, *, on: date) -> OverageRebillRequested:
    """`overage.rebill_requested` for a charged notice of the case."""
    assert notice.charge_key is not None
    return OverageRebillRequested(
        charge_key=notice.charge_key,
        case_id=case.id,
        notice_id=notice.notice_ref,
        account_id=case.account_id,
        subscription_id=case.subscription_id,
        vendor_id=case.vendor_id,
        tenant_id=case.tenant_ref,
        period_start=notice.period_start,
        licensed_count=notice.licensed_count,
        actual_count=notice.actual_count,
        overage_count=notice.overage_count,
        vendor_unit_cost=unit_price_out(notice.vendor_unit_cost),
        markup_percent=str(percent_out(notice.markup_percent)),
        unit_price=unit_price_out(notice.unit_price),
        amount=amount_out(notice.amount, notice.currency),
        currency=notice.currency,
        requested_on=on,
    )
