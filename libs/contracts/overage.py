"""Vendor overage: what the overage service publishes on `overage.events`.

A vendor (the WFM vendor of seed 000) notifies us monthly when a customer's tenant has more
users than licenses. The overage service keeps one open case per tenant and publishes:

- `overage.case_changed` on every change of a case (opened, a notice added, a workflow step);
- `overage.case_escalated` once per overdue step of a case (its waiting state past its deadline);
- `overage.licenses_kept` when the customer decides to keep the extra licenses: provisioning
  raises the subscription's quantity through an amendment sales order;
- `overage.rebill_requested` for every vendor overage charge: invoicing bills it once, as a
  one-time charge with the customer's next monthly run (`charge_key` is stable: the same
  charge published again is the same charge).

Every event is keyed by our account id.
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import Field

from libs.contracts.envelope import EventPayload
from libs.contracts.registry import event_type
from libs.contracts.topics import OVERAGE_EVENTS
from libs.contracts.types import Amount, CurrencyCode, Quantity, UnitPrice

CASE_STATES = (
    "notified",
    "crm_owner_contacted",
    "customer_decided",
    "vendor_informed",
    "vendor_invoice_received",
    "closed",
)


@event_type("overage.case_changed", topic=OVERAGE_EVENTS)
class OverageCaseChanged(EventPayload):
    """An overage case was opened, got a monthly notice or moved a step of its workflow."""

    case_id: str = Field(examples=["ovc_01JD0S6Y4Q7V3J6C3M9W1K2X8Z"])
    vendor_id: str
    tenant_id: str = Field(description="The tenant's id at the vendor.")
    account_id: str
    subscription_id: str
    state: str = Field(description=" | ".join(CASE_STATES))
    change: str = Field(description="opened | notice_added | the action taken (contact_crm_owner, ...)")
    decision: str | None = Field(default=None, description="keep | remove, once the customer decided.")
    actor: str = Field(description="Who acted (an API key's actor, or the system).")
    changed_at: datetime


@event_type("overage.case_escalated", topic=OVERAGE_EVENTS)
class OverageCaseEscalated(EventPayload):
    """A case has waited in one state past its deadline (published once per overdue step)."""

    case_id: str
    account_id: str
    subscription_id: str
    state: str
    waiting_since: datetime
    due_at: datetime


@event_type("overage.licenses_kept", topic=OVERAGE_EVENTS)
class OverageLicensesKept(EventPayload):
    """The customer keeps the extra licenses: raise the subscription's quantity (an amendment)."""

    case_id: str
    account_id: str
    subscription_id: str
    vendor_id: str
    tenant_id: str
    previous_quantity: Quantity = Field(description="Licenses before the decision (our subscription).")
    new_quantity: Quantity = Field(description="Licenses to hold: the actual user count of the last notice.")
    decided_at: datetime


@event_type("overage.rebill_requested", topic=OVERAGE_EVENTS)
class OverageRebillRequested(EventPayload):
    """A vendor overage charge to bill to the customer at our markup, once, on the next invoice."""

    charge_key: str = Field(
        description="Stable id of the charge (`overage:{vendor}:{notice id}`): one key, one charge."
    )
    case_id: str
    notice_id: str = Field(description="The vendor's notice id.")
    account_id: str
    subscription_id: str
    vendor_id: str
    tenant_id: str
    period_start: date = Field(description="First day of the month the vendor charged.")
    licensed_count: Quantity
    actual_count: Quantity
    overage_count: Quantity = Field(description="Users over the licenses, charged by the vendor.")
    vendor_unit_cost: UnitPrice = Field(description="What the vendor charges per extra user.")
    markup_percent: str = Field(description='Our markup on the vendor cost, in percent ("25").')
    unit_price: UnitPrice = Field(description="Our price per extra user: cost x (1 + markup), 6 decimals.")
    amount: Amount = Field(description="overage_count x unit_price, rounded to the currency's minor units.")
    currency: CurrencyCode
    requested_on: date = Field(description="The day the charge arose (when the notice was worked).")


__all__ = [
    "CASE_STATES",
    "OverageCaseChanged",
    "OverageCaseEscalated",
    "OverageLicensesKept",
    "OverageRebillRequested",
]
