"""Collections cases: an account's past-due balance in one currency, being collected.

The daily collections run looks at every account with invoices past due on its date. An account
past due gets an open case (one per account and currency) under its dunning policy; each step of
the policy the account has reached is taken once (the case remembers which). When nothing is past
due any more — paid, credited or written off — the case closes; if it had asked for the account's
suspension, closing it because it was paid asks for its resumption.

What is past due is counted with the invoices as they are now (payments, credits and write-offs
known today) and the days by the run's date: running an earlier date again finds the steps it
would take taken already, and a case closes only when nothing is past due on the latest date the
case was looked at.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from invoicing.domain.dunning import DunningAction
from invoicing.domain.receivables import days_past_due, zero
from libs.platform.errors import Conflict


class CaseState(StrEnum):
    """Open while something is past due; closed after."""

    OPEN = "open"
    CLOSED = "closed"


class CloseReason(StrEnum):
    """Why a case closed."""

    PAID = "paid"
    """Nothing is past due any more: paid or credited."""
    WRITTEN_OFF = "written_off"
    """The policy wrote off what was past due."""


@dataclass(frozen=True, slots=True)
class OpenInvoice:
    """An issued invoice with something still due, as it is now."""

    invoice_id: str
    invoice_number: str | None
    account_id: str
    currency: str
    due_date: date
    amount_due: Decimal


@dataclass(frozen=True, slots=True)
class PastDue:
    """What an account owes past due in one currency on a date, and how late the oldest is."""

    account_id: str
    currency: str
    on: date
    amount: Decimal
    days: int
    invoices: tuple[OpenInvoice, ...]


def past_due_of(invoices: Iterable[OpenInvoice], *, account_id: str, currency: str, on: date) -> PastDue:
    """The invoices of the account and currency past due on `on` (due before it) and their sum."""
    late = tuple(
        sorted(
            (
                i
                for i in invoices
                if i.account_id == account_id
                and i.currency == currency
                and i.amount_due > 0
                and i.due_date < on
            ),
            key=lambda i: (i.due_date, i.invoice_id),
        )
    )
    amount = sum((i.amount_due for i in late), zero(currency))
    days = max((days_past_due(i.due_date, on) for i in late), default=0)
    return PastDue(account_id, currency, on, amount, days, late)


@dataclass(frozen=True, slots=True)
class CaseStep:
    """A step of the policy taken on a case: which, on what run date, at what balance, by whom."""

    step_number: int
    action: DunningAction
    run_on: date
    days_past_due: int
    past_due_amount: Decimal
    taken_at: datetime
    taken_by: str
    detail: str


@dataclass
class CollectionsCase:
    """An account's past-due balance in one currency, from opening to closing, with its steps."""

    id: str
    account_id: str
    currency: str
    policy_id: str
    opened_on: date
    opened_at: datetime
    opened_by: str
    last_run_on: date
    state: CaseState = CaseState.OPEN
    suspended: bool = False
    closed_at: datetime | None = None
    closed_by: str | None = None
    close_reason: CloseReason | None = None
    resume_requested: bool = False
    steps: list[CaseStep] = field(default_factory=list)
    version: int = 0

    @property
    def taken(self) -> set[int]:
        """The numbers of the policy's steps taken on this case."""
        return {step.step_number for step in self.steps}

    def looked_at(self, on: date) -> None:
        """The run of `on` looked at the case: remember the latest date it was looked at."""
        self.last_run_on = max(self.last_run_on, on)

    def record(self, step: CaseStep) -> None:
        """A step was taken (a suspension marks the account suspended by this case)."""
        self.steps.append(step)
        if step.action is DunningAction.SUSPEND:
            self.suspended = True

    def close(self, *, reason: CloseReason, at: datetime, by: str) -> bool:
        """Close the case; True when the account must be resumed (it was suspended, and paid)."""
        if self.state is CaseState.CLOSED:
            raise Conflict(f"collections case {self.id} is closed already")
        self.state = CaseState.CLOSED
        self.close_reason = reason
        self.closed_at = at
        self.closed_by = by
        self.resume_requested = self.suspended and reason is CloseReason.PAID
        return self.resume_requested
