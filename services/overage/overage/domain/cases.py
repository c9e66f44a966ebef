"""Overage cases: one open case per tenant, its workflow as a pure state machine, its deadlines.

notified → crm_owner_contacted → customer_decided (keep | remove) → vendor_informed →
vendor_invoice_received → closed. Each step is an action with who took it and when; an action
the state does not allow is refused (`IllegalTransition`, a 409). Beside the steps:

- keep: a vendor-paperwork task opens at the decision (`paperwork_opened_at`); it is signed with
  `sign_paperwork`. Until it is signed, later monthly notices are still charged (re-billed). A kept
  case closes from vendor_invoice_received once the paperwork is signed.
- remove: the case closes when a notice shows the tenant at or under its licenses, or with
  `confirm_removal`, from any state after the decision.

A waiting state has a deadline (days, configurable); a case past it is overdue and is escalated
once per overdue step (`escalated_state` remembers the state escalated).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from libs.platform.errors import Conflict, ValidationFailed


class CaseState(StrEnum):
    """The steps of an overage case."""

    NOTIFIED = "notified"
    CRM_OWNER_CONTACTED = "crm_owner_contacted"
    CUSTOMER_DECIDED = "customer_decided"
    VENDOR_INFORMED = "vendor_informed"
    VENDOR_INVOICE_RECEIVED = "vendor_invoice_received"
    CLOSED = "closed"


class Decision(StrEnum):
    """What the customer wants done with the users over its licenses."""

    KEEP = "keep"
    REMOVE = "remove"


class CaseAction(StrEnum):
    """What someone does on a case (`POST /v1/overage-cases/{id}/actions`)."""

    CONTACT_CRM_OWNER = "contact_crm_owner"
    RECORD_DECISION = "record_decision"
    INFORM_VENDOR = "inform_vendor"
    RECORD_VENDOR_INVOICE = "record_vendor_invoice"
    SIGN_PAPERWORK = "sign_paperwork"
    CONFIRM_REMOVAL = "confirm_removal"
    CLOSE = "close"


STEPS: Mapping[CaseAction, tuple[CaseState, CaseState]] = {
    CaseAction.CONTACT_CRM_OWNER: (CaseState.NOTIFIED, CaseState.CRM_OWNER_CONTACTED),
    CaseAction.RECORD_DECISION: (CaseState.CRM_OWNER_CONTACTED, CaseState.CUSTOMER_DECIDED),
    CaseAction.INFORM_VENDOR: (CaseState.CUSTOMER_DECIDED, CaseState.VENDOR_INFORMED),
    CaseAction.RECORD_VENDOR_INVOICE: (CaseState.VENDOR_INFORMED, CaseState.VENDOR_INVOICE_RECEIVED),
    CaseAction.CLOSE: (CaseState.VENDOR_INVOICE_RECEIVED, CaseState.CLOSED),
}
"""The workflow's forward steps: the state an action needs and the state it leads to."""

AFTER_DECISION = frozenset(
    {CaseState.CUSTOMER_DECIDED, CaseState.VENDOR_INFORMED, CaseState.VENDOR_INVOICE_RECEIVED}
)

DEFAULT_DEADLINE_DAYS: Mapping[str, int] = {
    CaseState.NOTIFIED: 2,
    CaseState.CRM_OWNER_CONTACTED: 5,
    CaseState.CUSTOMER_DECIDED: 2,
    CaseState.VENDOR_INFORMED: 30,
    CaseState.VENDOR_INVOICE_RECEIVED: 5,
}
"""Days a case may wait in each state before it is overdue (OVERAGE_CASE_DEADLINE_DAYS)."""


class IllegalTransition(Conflict):
    """The action is not allowed in the case's state (409)."""


@dataclass(frozen=True)
class OverageCase:
    """The open (or closed) case of one tenant's overage."""

    id: str
    vendor_id: str
    tenant_ref: str
    account_id: str
    subscription_id: str
    state: CaseState
    opened_at: datetime
    state_entered_at: datetime
    decision: Decision | None = None
    paperwork_opened_at: datetime | None = None
    paperwork_signed_at: datetime | None = None
    removal_confirmed_at: datetime | None = None
    closed_at: datetime | None = None
    licensed_mismatch: bool = False
    last_actual_count: Decimal = Decimal(0)
    escalated_state: CaseState | None = None

    @property
    def is_open(self) -> bool:
        """True until the case is closed."""
        return self.state is not CaseState.CLOSED


@dataclass(frozen=True)
class CaseStep:
    """One step of a case's history: the action, the state it led to, who and when."""

    case_id: str
    action: str
    state: CaseState
    actor: str
    at: datetime
    note: str | None = None


def open_case(
    *,
    case_id: str,
    vendor_id: str,
    tenant_ref: str,
    account_id: str,
    subscription_id: str,
    at: datetime,
) -> OverageCase:
    """A new case, finance notified."""
    return OverageCase(
        id=case_id,
        vendor_id=vendor_id,
        tenant_ref=tenant_ref,
        account_id=account_id,
        subscription_id=subscription_id,
        state=CaseState.NOTIFIED,
        opened_at=at,
        state_entered_at=at,
    )


def _enter(case: OverageCase, state: CaseState, at: datetime, **changes: object) -> OverageCase:
    closed = {"closed_at": at} if state is CaseState.CLOSED else {}
    return replace(case, state=state, state_entered_at=at, **closed, **changes)  # type: ignore[arg-type]


def take_action(
    case: OverageCase, action: CaseAction, *, at: datetime, decision: Decision | None = None
) -> OverageCase:
    """The case after `action` at `at`; `IllegalTransition` when its state does not allow it."""
    if not case.is_open:
        raise IllegalTransition(f"case {case.id} is closed")
    if action is CaseAction.RECORD_DECISION:
        if decision is None:
            raise ValidationFailed.single("decision", "record_decision needs a decision: keep or remove")
    elif decision is not None:
        raise ValidationFailed.single("decision", f"{action.value} takes no decision")
    if action is CaseAction.SIGN_PAPERWORK:
        if case.decision is not Decision.KEEP or case.paperwork_signed_at is not None:
            raise IllegalTransition(
                "vendor paperwork is signed once, for a case whose customer keeps the licenses"
            )
        return replace(case, paperwork_signed_at=at)
    if action is CaseAction.CONFIRM_REMOVAL:
        if case.decision is not Decision.REMOVE or case.state not in AFTER_DECISION:
            raise IllegalTransition("removal is confirmed on a case whose customer removes the extra users")
        return _enter(case, CaseState.CLOSED, at, removal_confirmed_at=at)
    needed, after = STEPS[action]
    if case.state is not needed:
        raise IllegalTransition(
            f"{action.value} needs a case in state {needed.value}, not {case.state.value}"
        )
    if action is CaseAction.CLOSE and case.decision is Decision.KEEP and case.paperwork_signed_at is None:
        raise IllegalTransition("a kept case closes once the vendor paperwork is signed (sign_paperwork)")
    if action is CaseAction.RECORD_DECISION:
        assert decision is not None
        opened = at if decision is Decision.KEEP else None
        return _enter(case, after, at, decision=decision, paperwork_opened_at=opened)
    return _enter(case, after, at)


def after_notice(
    case: OverageCase, *, within_licenses: bool, actual_count: Decimal, at: datetime
) -> OverageCase:
    """The case after a monthly notice: a removal shown done closes it; a keep stays open."""
    updated = replace(case, last_actual_count=actual_count)
    if within_licenses and case.decision is Decision.REMOVE and case.state in AFTER_DECISION:
        return _enter(updated, CaseState.CLOSED, at, removal_confirmed_at=at)
    return updated


def flag_licensed_mismatch(case: OverageCase) -> OverageCase:
    """The case flagged: a notice's licensed count differs from our subscription's quantity."""
    return replace(case, licensed_mismatch=True)


def mark_escalated(case: OverageCase) -> OverageCase:
    """The case with its current step escalated (never escalated twice)."""
    return replace(case, escalated_state=case.state)


def due_at(case: OverageCase, deadline_days: Mapping[str, int]) -> datetime | None:
    """When the case's waiting state is overdue (None: closed, or no deadline for the state)."""
    if not case.is_open:
        return None
    days = deadline_days.get(case.state.value)
    return None if days is None else case.state_entered_at + timedelta(days=days)


def is_overdue(case: OverageCase, deadline_days: Mapping[str, int], now: datetime) -> bool:
    """True when the case has waited in its state past the deadline."""
    due = due_at(case, deadline_days)
    return due is not None and now >= due


def needs_escalation(case: OverageCase, deadline_days: Mapping[str, int], now: datetime) -> bool:
    """True when the case is overdue and this step was not escalated yet."""
    return is_overdue(case, deadline_days, now) and case.escalated_state is not case.state
