"""Collections actions invoicing asks other services to take, on `invoicing.events`.

Dunning decides; provisioning acts: it suspends (or resumes) every active subscription of the
account and publishes `subscription.suspended` / `subscription.resumed` for billing.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from libs.contracts.envelope import EventPayload
from libs.contracts.registry import event_type
from libs.contracts.topics import INVOICING_EVENTS


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


__all__ = ["CollectionsRequest", "ResumeRequested", "SuspendRequested"]
