"""Support contracts and requests: what rating publishes on `rating.events` (seed 004, EXAMPLES §5).

A support contract is held by a subscription (the seed's item), an account (the customer) or a
parent account (the org unit); it is made from a catalog template (`catalog.contract_template_changed`).
A support request is validated against the contracts in the seed's order; time logged on it
draws the covering contract's hours down. When no contract covers a new request a per-incident
contract is opened for it and `support.incident_charged` tells invoicing to bill the template's
product once, as a one-time charge.

Hours travel as decimal strings (`Quantity`); every payload is the state after the change.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import Field

from libs.contracts.envelope import EventPayload
from libs.contracts.registry import event_type
from libs.contracts.topics import RATING_EVENTS
from libs.contracts.types import CurrencyCode, Quantity
from libs.contracts.vocabulary import ContractKind, ExpiryOption

HolderType = Literal["subscription", "account"]
ContractState = Literal["pending", "active", "expired", "cancelled"]
CoverageStep = Literal[
    "item_valid",
    "customer_valid",
    "org_unit_valid",
    "item_pending",
    "customer_pending",
    "org_unit_pending",
    "per_incident",
]
"""The step of the seed's validation order that found a request's contract, in that order."""


@event_type("support.contract_changed", topic=RATING_EVENTS)
class SupportContractChanged(EventPayload):
    """A support contract was opened, drew hours, or was cancelled: its state after the change."""

    contract_id: str = Field(examples=["sct_01JD0S6Y4Q7V3J6C3M9W1K2X8Z"])
    change: Literal["opened", "hours_drawn", "ended", "cancelled"] = Field(
        description="opened | hours_drawn | ended (its per-incident request closed) | cancelled"
    )
    template_id: str
    kind: ContractKind
    holder_type: HolderType = Field(description="subscription (the item) or account (customer or org unit).")
    holder_id: str
    account_id: str = Field(description="The holder's account (the holder itself for an account).")
    request_id: str | None = Field(default=None, description="The request a per-incident contract covers.")
    product_id: str | None = Field(default=None, description="The catalog product the contract sells.")
    starts_on: date
    ends_on: date | None = Field(default=None, description="Exclusive end of the period; null = no period.")
    hours_granted: Quantity | None = Field(default=None, description="Null = not bounded by hours.")
    hours_used: Quantity
    on_expiry: ExpiryOption
    state: ContractState
    changed_at: datetime


class TimeAllocation(EventPayload):
    """Hours of one time entry drawn from one contract."""

    contract_id: str
    hours: Quantity
    rule: Literal["covering", "rollover"] = Field(
        description="covering: the request's contract; rollover: the next valid contract after it expired."
    )


@event_type("support.request_opened", topic=RATING_EVENTS)
class SupportRequestOpened(EventPayload):
    """A support request was validated and opened under the contract found for it."""

    request_id: str = Field(examples=["srq_01JD0S6Y4Q7V3J6C3M9W1K2X8Z"])
    subscription_id: str
    account_id: str
    opened_at: datetime
    contract_id: str
    coverage_step: CoverageStep


@event_type("support.time_logged", topic=RATING_EVENTS)
class SupportTimeLogged(EventPayload):
    """Time was logged on a request: covered, rolled over to another contract, or not covered."""

    entry_id: str = Field(examples=["stl_01JD0S6Y4Q7V3J6C3M9W1K2X8Z"])
    request_id: str
    subscription_id: str
    account_id: str
    hours: Quantity
    logged_at: datetime
    covered_hours: Quantity = Field(description="Drawn from the request's covering contract.")
    rolled_over_hours: Quantity = Field(description="Applied to the next valid contracts after it expired.")
    uncovered_hours: Quantity = Field(
        description="Covered by no contract (ignored after expiry, or none left)."
    )
    allocations: list[TimeAllocation] = Field(default_factory=list)


@event_type("support.request_closed", topic=RATING_EVENTS)
class SupportRequestClosed(EventPayload):
    """A support request was closed (a per-incident contract covering it ends with it)."""

    request_id: str
    subscription_id: str
    account_id: str
    closed_at: datetime
    hours_logged: Quantity
    hours_uncovered: Quantity


@event_type("support.incident_charged", topic=RATING_EVENTS)
class SupportIncidentCharged(EventPayload):
    """No contract covered a new request: a per-incident contract was opened, billed once.

    Invoicing bills `quantity` of the template's product as a one-time charge on the account's
    next run, priced from the catalog; `contract_id` identifies the charge (one per contract).
    """

    contract_id: str = Field(description="The per-incident contract; one charge per contract.")
    request_id: str
    account_id: str
    subscription_id: str
    template_id: str
    product_id: str = Field(description="The catalog product to bill once (the per-incident template's).")
    quantity: Quantity = Field(description="Incidents charged: always 1.")
    currency: CurrencyCode = Field(description="The subscription's currency.")
    charged_on: date = Field(description="The account-local date the request was opened.")


__all__ = [
    "ContractState",
    "CoverageStep",
    "HolderType",
    "SupportContractChanged",
    "SupportIncidentCharged",
    "SupportRequestClosed",
    "SupportRequestOpened",
    "SupportTimeLogged",
    "TimeAllocation",
]
