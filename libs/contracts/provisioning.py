"""Events the provisioning service publishes on `provisioning.events` (DESIGN §2, §4).

Each payload carries what its consumers need without calling back: account events carry the
billing profile invoicing bills by; subscription events carry the pinned price and the term
rating and invoicing charge by; `fulfillment.completed` carries every line's billable quantity.
"""

from __future__ import annotations

from datetime import date

from pydantic import Field

from libs.contracts.envelope import EventPayload
from libs.contracts.registry import event_type
from libs.contracts.topics import PROVISIONING_EVENTS
from libs.contracts.types import Amount, CurrencyCode, Percent, Quantity, UnitPrice
from libs.contracts.vocabulary import BillingFrequency, BillingTiming, ChargeType, LicenseType


class ContactInfo(EventPayload):
    """A contact of an account and what it is for."""

    name: str
    email: str
    role: str = Field(description="billing | crm_owner | technical", examples=["billing"])
    phone: str | None = None


class TaxInfo(EventPayload):
    """Tax status and jurisdiction of an account."""

    treatment: str = Field(description="taxable | exempt", examples=["exempt"])
    certificate_number: str | None = Field(default=None, description="Exemption certificate number.")
    certificate_expiry: date | None = Field(
        default=None, description="Last day the exemption certificate is valid."
    )
    country: str | None = Field(default=None, description="ISO 3166 alpha-2 country of the tax address.")
    region: str | None = None
    postal_code: str | None = None


class CustomerRegistered(EventPayload):
    """A new customer exists (opened directly or converted from a partner's deal)."""

    customer_id: str = Field(examples=["cus_01JD0S6Y4Q7V3J6C3M9W1K2X8Z"])
    name: str
    partner_id: str | None = Field(default=None, description="The partner who brought the customer in.")


class AccountProfile(EventPayload):
    """Base of the account events: the billing profile invoicing bills the account by."""

    account_id: str = Field(examples=["acct_01JD0S6Y4Q7V3J6C3M9W1K2X8Z"])
    customer_id: str
    name: str
    parent_account_id: str | None = Field(default=None, description="Parent in the account hierarchy.")
    bills_to_parent: bool = Field(
        default=False, description="True when the account's charges go on its parent's invoice."
    )
    currency: CurrencyCode = Field(description="The one currency the account is billed in.")
    bill_cycle_day: int = Field(ge=1, le=31, description="Day of month monthly periods start on.")
    time_zone: str = Field(description="IANA time zone; events fall on the account's local date.")
    payment_terms_days: int = Field(ge=0, description="Days from invoice date to due date.")
    delivery: str = Field(description="email | post | portal")
    tax: TaxInfo
    contacts: list[ContactInfo] = Field(default_factory=list)
    locale: str | None = Field(
        default=None,
        max_length=16,
        description="Locale the account's invoices and statements are written in (amounts and dates), "
        "e.g. de_DE; none: en_US.",
        examples=["de_DE"],
    )


@event_type("customer.registered", topic=PROVISIONING_EVENTS)
class CustomerRegisteredEvent(CustomerRegistered):
    """A customer was registered."""


@event_type("account.opened", topic=PROVISIONING_EVENTS)
class AccountOpened(AccountProfile):
    """A billing account was opened; invoicing starts billing it on its cycle."""


@event_type("account.changed", topic=PROVISIONING_EVENTS)
class AccountChanged(AccountProfile):
    """An account's billing profile or place in the hierarchy changed (full new state)."""


class OrderLineInfo(EventPayload):
    """A priced order line as approved."""

    order_line_id: str
    product_id: str
    price_id: str
    price_version: int = Field(ge=1, description="The catalog price version pinned at pricing.")
    quantity: Quantity
    unit_price: UnitPrice = Field(description="Catalog list price per unit.")
    discount_percent: Percent = Field(description="Effective percent off list of all discounts together.")
    license_type: LicenseType
    term_months: int | None = None
    subscription_id: str | None = Field(default=None, description="Amendment lines: the subscription.")
    effective_date: date | None = None
    renewal: str | None = Field(
        default=None, description="New lines: auto_renew | expire, what the subscription does at term end."
    )
    renewal_months: int | None = Field(default=None, description="New auto_renew lines: months per renewal.")
    commitment_quantity: Quantity | None = Field(
        default=None, description="New lines: quantity committed for the whole term (at most `quantity`)."
    )
    termination_fee_price_id: str | None = Field(
        default=None, description="New lines: the one-time catalog price charged on early cancellation."
    )


@event_type("order.submitted", topic=PROVISIONING_EVENTS)
class OrderSubmitted(EventPayload):
    """A sales order was submitted to contracts."""

    order_id: str
    account_id: str
    customer_id: str
    kind: str = Field(description="new | amendment")
    currency: CurrencyCode
    approval_required: bool = Field(description="True when a discount is above its approval threshold.")


@event_type("order.approved", topic=PROVISIONING_EVENTS)
class OrderApproved(EventPayload):
    """A sales order was approved (automatically, or by finance) and is being provisioned."""

    order_id: str
    account_id: str
    customer_id: str
    kind: str
    currency: CurrencyCode
    automatic: bool
    lines: list[OrderLineInfo]


@event_type("order.cancelled", topic=PROVISIONING_EVENTS)
class OrderCancelled(EventPayload):
    """A sales order was withdrawn before approval."""

    order_id: str
    account_id: str
    reason: str | None = None


@event_type("order.fulfilled", topic=PROVISIONING_EVENTS)
class OrderFulfilled(EventPayload):
    """Everything on a sales order has been provisioned."""

    order_id: str
    account_id: str


@event_type("workflow.started", topic=PROVISIONING_EVENTS)
class WorkflowStarted(EventPayload):
    """A provisioning workflow began for an approved order line."""

    workflow_id: str
    template_name: str
    order_id: str
    account_id: str
    subscription_id: str | None = None


@event_type("workflow.completed", topic=PROVISIONING_EVENTS)
class WorkflowCompleted(EventPayload):
    """Every task of a provisioning workflow is done."""

    workflow_id: str
    template_name: str
    order_id: str
    account_id: str
    subscription_id: str | None = None
    completed_on: date


class SubscriptionEvent(EventPayload):
    """Base of the subscription events: everything billing and rating charge by."""

    subscription_id: str = Field(examples=["sub_01JD0S6Y4Q7V3J6C3M9W1K2X8Z"])
    account_id: str
    order_id: str | None = None
    product_id: str
    price_id: str
    price_version: int = Field(ge=1, description="The pinned catalog price version billed.")
    currency: CurrencyCode
    unit_price: UnitPrice = Field(description="List price per unit of the pinned version.")
    discount_percent: Percent = Field(description="Percent off list agreed on the order.")
    charge_type: ChargeType | None = Field(default=None, description="recurring | usage | one_time")
    billing_period: BillingFrequency | None = Field(
        default=None, description="The billing frequency: monthly | quarterly | annual | term"
    )
    billing_timing: BillingTiming | None = Field(default=None, description="in_advance | in_arrears")
    quantity: Quantity
    commitment_quantity: Quantity = Field(description="Quantity committed for the whole term.")
    license_type: LicenseType = Field(
        description="committed | pay_as_you_go | named_user | subscription | none"
    )
    term_start: date
    term_end: date = Field(description="Exclusive end of the term: the term is [term_start, term_end).")
    renewal: str = Field(description="auto_renew | expire")
    renewal_months: int | None = None
    state: str = Field(description="The subscription's state after the change.")
    effective_date: date = Field(description="The date the change takes effect for billing.")


@event_type("subscription.activated", topic=PROVISIONING_EVENTS)
class SubscriptionActivated(SubscriptionEvent):
    """A subscription started; billing charges from `effective_date`."""


@event_type("subscription.changed", topic=PROVISIONING_EVENTS)
class SubscriptionChanged(SubscriptionEvent):
    """Quantity or term changed from `effective_date`; billing prorates the difference."""

    change: str = Field(description="upgrade | downgrade | quantity_change | term_change")
    previous_quantity: Quantity
    previous_term_end: date | None = None


@event_type("subscription.suspended", topic=PROVISIONING_EVENTS)
class SubscriptionSuspended(SubscriptionEvent):
    """Service is suspended from `effective_date` (e.g. by collections)."""

    reason: str | None = None


@event_type("subscription.resumed", topic=PROVISIONING_EVENTS)
class SubscriptionResumed(SubscriptionEvent):
    """Service is back from `effective_date`."""


class TerminationFee(EventPayload):
    """The one-time charge for cancelling a committed term early, priced by the catalog."""

    price_id: str = Field(description="The catalog's one-time fee price.")
    price_version: int = Field(ge=1, description="The price version the fee was quoted at.")
    amount: Amount = Field(description="The fee, rounded to the currency's minor units.")
    currency: CurrencyCode


@event_type("subscription.cancelled", topic=PROVISIONING_EVENTS)
class SubscriptionCancelled(SubscriptionEvent):
    """The subscription ends on `effective_date`; an early end may carry a termination fee."""

    reason: str | None = None
    ended_before_term: bool = Field(description="True when cancelled before the term's end.")
    termination_fee: TerminationFee | None = Field(
        default=None,
        description="Set when a committed term with an agreed fee ends early: invoicing bills it once "
        "as a one-time charge.",
    )


@event_type("subscription.expired", topic=PROVISIONING_EVENTS)
class SubscriptionExpired(SubscriptionEvent):
    """The term ended without renewal."""


@event_type("subscription.renewed", topic=PROVISIONING_EVENTS)
class SubscriptionRenewed(SubscriptionEvent):
    """The term ended and auto-renewed: billing charges the new term from `effective_date`."""

    previous_term_end: date = Field(
        description="The term end that was reached; the new term runs [previous_term_end, term_end)."
    )


class FulfilledLine(EventPayload):
    """One line of a completed fulfillment."""

    order_line_id: str
    product_id: str
    license_type: LicenseType
    consumed_quantity: Quantity = Field(description="Launched or delivered quantity.")
    billable_quantity: Quantity = Field(
        description="Quantity to invoice now; 0 for parts of a committed, prepaid license."
    )
    unit_price: UnitPrice = Field(description="List price per unit, as on the order.")
    discount_percent: Percent = Field(description="Percent off list agreed on the order.")


@event_type("fulfillment.completed", topic=PROVISIONING_EVENTS)
class FulfillmentCompleted(EventPayload):
    """A fulfillment completed; invoicing bills its billable quantities at once, on one invoice."""

    fulfillment_id: str
    order_id: str
    account_id: str
    currency: CurrencyCode
    associated_project_id: str | None = Field(default=None, description="The workshop it belongs to.")
    completed_on: date
    lines: list[FulfilledLine]


@event_type("named_user_pool.created", topic=PROVISIONING_EVENTS)
class NamedUserPoolCreated(EventPayload):
    """A named-user pool was set up: N named users, each in up to K of the contract's programs."""

    pool_id: str = Field(examples=["pool_01JD0S6Y4Q7V3J6C3M9W1K2X8Z"])
    account_id: str
    subscription_id: str | None = Field(default=None, description="The subscription the pool belongs to.")
    size: int = Field(ge=1, description="Named users the contract allows.")
    programs_per_user: int = Field(ge=1, description="Programs one named user may access at most.")
    contract_programs: list[str] = Field(description="The programs of the contract.")
    contract_start: date = Field(description="Start of contract year 1.")
    transfer_percent: Percent = Field(description="Percent of the pool size that may move each year.")
    transfers_per_year: int = Field(
        ge=0, description="Seat transfers allowed per contract year from year 2: floor(size x percent / 100)."
    )


@event_type("named_user.assigned", topic=PROVISIONING_EVENTS)
class NamedUserAssigned(EventPayload):
    """A user got access to programs of a pool; a new user takes one seat."""

    pool_id: str
    account_id: str
    user_id: str
    programs: list[str] = Field(description="Every program the user may access now, sorted.")
    seats_used: int = Field(ge=0, description="Distinct named users of the pool after the change.")
    seats_available: int = Field(ge=0, description="Seats of the pool not given to anyone.")


@event_type("named_user.transferred", topic=PROVISIONING_EVENTS)
class NamedUserTransferred(EventPayload):
    """A seat and its programs moved from one person to another."""

    pool_id: str
    account_id: str
    from_user: str
    to_user: str
    programs: list[str] = Field(description="The programs that moved with the seat, sorted.")
    on_date: date = Field(description="The day the seat moved.")
    contract_year: int = Field(ge=1, description="The contract year the transfer counts against.")
    transfers_remaining: int = Field(ge=0, description="Transfers still allowed in that contract year.")


ACCOUNT_PROFILE_EVENTS: tuple[type[AccountProfile], ...] = (AccountOpened, AccountChanged)
"""The events that carry an account's whole billing profile (latest wins)."""

SUBSCRIPTION_EVENTS: tuple[type[SubscriptionEvent], ...] = (
    SubscriptionActivated,
    SubscriptionChanged,
    SubscriptionSuspended,
    SubscriptionResumed,
    SubscriptionCancelled,
    SubscriptionExpired,
    SubscriptionRenewed,
)
"""Every change of a subscription; each carries the subscription as it stands after it."""


__all__ = [
    "ACCOUNT_PROFILE_EVENTS",
    "SUBSCRIPTION_EVENTS",
    "AccountChanged",
    "AccountOpened",
    "CustomerRegisteredEvent",
    "FulfillmentCompleted",
    "NamedUserAssigned",
    "NamedUserPoolCreated",
    "NamedUserTransferred",
    "OrderApproved",
    "OrderCancelled",
    "OrderFulfilled",
    "OrderSubmitted",
    "SubscriptionActivated",
    "SubscriptionCancelled",
    "SubscriptionChanged",
    "SubscriptionExpired",
    "SubscriptionRenewed",
    "SubscriptionResumed",
    "SubscriptionSuspended",
    "WorkflowCompleted",
    "WorkflowStarted",
]
