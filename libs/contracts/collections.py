"""Collections actions invoicing asks other services to take, on `invoicing.events`.

Dunning decides; provisioning acts: it suspends (or resumes) every active subscription of the
account and publishes `subscription.suspended` / `subscription.resumed` for billing. The
notification system sends reminders (`collections.reminder_requested`) and tells the account's
CRM owner (`collections.escalated`); `collections.case_opened` / `.case_closed` follow a case.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import Field

from libs.contracts.envelope import EventPayload
from libs.contracts.registry import event_type
from libs.contracts.topics import INVOICING_EVENTS
from libs.contracts.types import Amount, CurrencyCode


class CollectionsRequest(EventPayload):
    """Base of the collections requests: which account, why, and when it was decided."""

    account_id: str = Field(examples=["acct_01JD0S6Y4Q7V3J6C3M9W1K2X8Z"])
    reason: str = Field(
        description="Why, in the collections team's words.",
        examples=["invoice INV-2026-000042 is 61 days past due"],
    )
    requested_at: datetime = Field(description="UTC time of the decision; the change takes effect then.")


@event_type("collections.suspend_requested", topic=INVOICING_EVENTS)
class SuspendRequested(CollectionsRequest):
    """Dunning reached the suspend step: suspend the account's active subscriptions."""


@event_type("collections.resume_requested", topic=INVOICING_EVENTS)
class ResumeRequested(CollectionsRequest):
    """The account is back in good standing: resume its suspended subscriptions."""


class PastDueInvoice(EventPayload):
    """An invoice past due, with what remains due on it."""

    invoice_id: str
    invoice_number: str | None = Field(default=None, examples=["INV-2026-000042"])
    due_date: date
    amount_due: Amount
    days_past_due: int


class CollectionsCaseStep(CollectionsRequest):
    """Base of the steps a collections case takes: the case, the step, the balance past due."""

    case_id: str = Field(examples=["col_01JD0S6Y4Q7V3J6C3M9W1K2X8Z"])
    step_number: int = Field(description="The step of the dunning policy, from 1.")
    policy_id: str
    currency: CurrencyCode
    past_due_amount: Amount
    days_past_due: int = Field(description="Days past due of the oldest past-due invoice.")
    invoices: list[PastDueInvoice] = Field(default_factory=list)


@event_type("collections.reminder_requested", topic=INVOICING_EVENTS)
class ReminderRequested(CollectionsCaseStep):
    """Dunning reached a reminder step: the notification system reminds the account to pay."""

    billing_email: str | None = Field(default=None, description="The account's billing contact, if known.")


@event_type("collections.escalated", topic=INVOICING_EVENTS)
class CollectionsEscalated(CollectionsCaseStep):
    """Dunning reached an escalation step: the account's CRM owner is asked to act."""

    crm_owner_name: str | None = Field(default=None, description="None when the account names no CRM owner.")
    crm_owner_email: str | None = None


@event_type("collections.case_opened", topic=INVOICING_EVENTS)
class CollectionsCaseOpened(EventPayload):
    """An account is past due in a currency: a collections case is open under a dunning policy."""

    case_id: str
    account_id: str
    currency: CurrencyCode
    policy_id: str
    opened_on: date = Field(description="The date of the collections run that opened it.")
    past_due_amount: Amount
    days_past_due: int
    opened_at: datetime


@event_type("collections.case_closed", topic=INVOICING_EVENTS)
class CollectionsCaseClosed(EventPayload):
    """Nothing is past due any more on a case (paid or credited, or written off)."""

    case_id: str
    account_id: str
    currency: CurrencyCode
    reason: Literal["paid", "written_off"]
    resume_requested: bool = Field(description="True when the case had suspended the account and it paid.")
    closed_at: datetime


class DunningPolicyStep(EventPayload):
    """A step of a dunning policy."""

    days_past_due: int
    action: Literal["reminder", "escalate", "suspend", "write_off"]
    min_amounts: dict[str, Amount] = Field(
        default_factory=dict, description="Per currency: the amount past due must be above this."
    )


@event_type("dunning_policy.changed", topic=INVOICING_EVENTS)
class DunningPolicyChanged(EventPayload):
    """A dunning policy or an account's own policy changed: the change and the policy as it stands.

    `change`: created, revised, deleted, made_default; `assigned` (an account was given a policy of
    its own) or `unassigned` (taken away: the default applies again, `policy_id` is None)."""

    change: Literal["created", "revised", "deleted", "made_default", "assigned", "unassigned"]
    policy_id: str | None = Field(description="None on `unassigned`: the account follows the default.")
    name: str | None = None
    description: str | None = None
    is_default: bool = False
    steps: list[DunningPolicyStep] = Field(default_factory=list)
    account_id: str | None = Field(default=None, description="On `assigned` and `unassigned`.")
    changed_at: datetime


__all__ = [
    "CollectionsCaseClosed",
    "CollectionsCaseOpened",
    "CollectionsCaseStep",
    "CollectionsEscalated",
    "CollectionsRequest",
    "DunningPolicyChanged",
    "DunningPolicyStep",
    "PastDueInvoice",
    "ReminderRequested",
    "ResumeRequested",
    "SuspendRequested",
]
