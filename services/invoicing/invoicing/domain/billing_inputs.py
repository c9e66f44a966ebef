"""What invoicing bills from: the billing inputs of one account, as its read model holds them.

The charge calculation (`invoicing.domain.charges`) is a pure function of these values — the
account, its subscriptions with every change, rated usage, completed fulfillments, one-time
charges and pending adjustments, and what was already billed — so a preview, a bill run and a
re-run compute the same lines (Kill Bill's invoice generator is the model). The read model
(`invoicing.repository`) builds them from other services' events; nothing here does I/O.

Every billable thing has a `charge_key`: a stable text naming what it bills (a subscription's
recurring charge for one period, one rated usage, one fulfillment line, one one-time charge,
one adjustment). What was billed is remembered by key (`BilledCharge`), so a charge billed
once is never billed again, and a recurring period whose expected amount changed (a mid-period
upgrade, a cancellation) is billed only the difference.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum

from libs.contracts.vocabulary import BillingFrequency, BillingTiming, ChargeType


class TaxTreatment(StrEnum):
    """Whether an account's invoices carry tax."""

    TAXABLE = "taxable"
    EXEMPT = "exempt"


@dataclass(frozen=True, slots=True)
class AccountTaxStatus:
    """An account's tax status and jurisdiction (its tax address)."""

    treatment: TaxTreatment = TaxTreatment.TAXABLE
    certificate_number: str | None = None
    certificate_expiry: date | None = None
    """Last day the exemption certificate is valid (inclusive); None: no end."""
    country: str | None = None
    region: str | None = None
    postal_code: str | None = None

    def exempt_on(self, invoice_date: date) -> bool:
        """True when the account is exempt and its certificate is valid on `invoice_date`."""
        if self.treatment is not TaxTreatment.EXEMPT or not self.certificate_number:
            return False
        return self.certificate_expiry is None or invoice_date <= self.certificate_expiry


@dataclass(frozen=True, slots=True)
class BillingAccount:
    """An account's billing profile (from `account.opened` / `account.changed`)."""

    account_id: str
    customer_id: str
    name: str
    currency: str
    bill_cycle_day: int
    time_zone: str = "UTC"
    payment_terms_days: int = 30
    parent_account_id: str | None = None
    bills_to_parent: bool = False
    tax: AccountTaxStatus = field(default_factory=AccountTaxStatus)
    billing_email: str | None = None
    locale: str = "en_US"
    """The locale its invoices and statements are written in (amounts, dates)."""
    crm_owner_name: str | None = None
    """The account's CRM owner (its `crm_owner` contact): whom collections escalate to."""
    crm_owner_email: str | None = None


@dataclass(frozen=True, slots=True)
class SubscriptionVersion:
    """A subscription's full state from `effective_date` on (one per subscription event).

    `state` is provisioning's word after the change: active, suspended, cancelled, expired.
    A subscription is billed for the days it is active or suspended (suspension stops service,
    not the contract); from a version whose state is cancelled or expired it is not billed.
    """

    effective_date: date
    state: str
    quantity: Decimal
    unit_price: Decimal
    """List price per unit per billing period of the pinned price version."""
    discount_percent: Decimal
    price_id: str
    price_version: int
    term_start: date
    term_end: date
    """Exclusive end of the term."""
    sequence: int = 0
    """Order of versions with one effective date (the event's position: later wins)."""
    discount_cycles: int | None = None
    """Billing periods the discount lasts, counted from the subscription's first billing period
    (the one holding its first billable day: the term start); None: every period."""


@dataclass(frozen=True, slots=True)
class BillingSubscription:
    """A subscription with every change, in effective order."""

    subscription_id: str
    account_id: str
    product_id: str
    currency: str
    charge_type: ChargeType
    billing_period: BillingFrequency
    billing_timing: BillingTiming
    versions: tuple[SubscriptionVersion, ...]
    """Sorted by (effective_date, sequence); the first is the activation."""
    product_name: str | None = None


@dataclass(frozen=True, slots=True)
class RatedUsageCharge:
    """One `usage.rated`: a subscription's usage of one meter over one period, rated."""

    rated_usage_id: str
    subscription_id: str
    account_id: str
    product_id: str
    meter: str
    unit_of_measure: str
    period_start: date
    period_end: date
    quantity: Decimal
    billable_quantity: Decimal
    currency: str
    price_id: str
    price_version: int
    charge_amount: Decimal
    minimum_shortfall: Decimal
    prepaid_amount: Decimal
    amount: Decimal
    """What to bill: charge + shortfall - prepaid money (already rounded to minor units)."""
    late_quantity: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True)
class FulfilledCharge:
    """One line of a completed fulfillment, billed at once (`fulfillment.completed`)."""

    fulfillment_id: str
    order_line_id: str
    order_id: str
    account_id: str
    product_id: str
    currency: str
    completed_on: date
    billable_quantity: Decimal
    unit_price: Decimal
    discount_percent: Decimal
    associated_project_id: str | None = None


class OneTimeChargeKind(StrEnum):
    """Where a one-time charge comes from."""

    TERMINATION_FEE = "termination_fee"
    ORDER_FEE = "order_fee"
    OVERAGE_REBILL = "overage_rebill"


@dataclass(frozen=True, slots=True)
class OneTimeCharge:
    """A charge billed once with the next monthly run (a fee, a termination fee, an overage re-bill)."""

    charge_id: str
    kind: OneTimeChargeKind
    account_id: str
    currency: str
    charge_date: date
    description: str
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal
    """Already rounded to the currency's minor units."""
    subscription_id: str | None = None
    product_id: str | None = None
    price_id: str | None = None
    price_version: int | None = None
    source_id: str | None = None
    """The order, subscription or overage case behind it."""


class AdjustmentDirection(StrEnum):
    """A credit lowers what the customer owes; a debit raises it."""

    CREDIT = "credit"
    DEBIT = "debit"


@dataclass(frozen=True, slots=True)
class PendingAdjustment:
    """A pre-billing adjustment: applied as a line of the account's next invoice."""

    adjustment_id: str
    account_id: str
    currency: str
    direction: AdjustmentDirection
    amount: Decimal
    """Positive, rounded to minor units; the direction gives the sign on the invoice."""
    description: str
    effective_date: date
    subscription_id: str | None = None


@dataclass(frozen=True, slots=True)
class BilledCharge:
    """What an earlier invoice (draft or final, not void) already billed under one charge key."""

    charge_key: str
    amount: Decimal
    invoice_id: str
    list_amount: Decimal | None = None
    """The billed line's list amount (before discount), when stored: a later difference line
    on the key then shows its own list and discount; None: it shows only the net difference."""


@dataclass(frozen=True, slots=True)
class BillingInputs:
    """Everything billed for one account (its own charges; children that bill to it are merged)."""

    account: BillingAccount
    subscriptions: tuple[BillingSubscription, ...] = ()
    rated_usage: tuple[RatedUsageCharge, ...] = ()
    fulfillments: tuple[FulfilledCharge, ...] = ()
    one_time_charges: tuple[OneTimeCharge, ...] = ()
    adjustments: tuple[PendingAdjustment, ...] = ()
    billed: tuple[BilledCharge, ...] = ()
