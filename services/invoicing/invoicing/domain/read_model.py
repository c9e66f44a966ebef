"""The read model of billing inputs as plain records, and how they become each invoiced account's
`BillingInputs` (`invoicing.domain.billing_inputs`).

Other services' events are kept as they came (one record per subscription event, per rated
usage, per fulfillment line, per approved order line, per catalog price version and product);
what is billed is decided here, when a bill run reads a chunk of accounts, so that an event
arriving before the one it depends on (an order line before its catalog price) is billed once
both are known instead of being lost. Everything here is pure: the SQL repository and the unit
tests' fake both call `assemble_billing_inputs` on what they hold.

Rules kept here:
- A child account that bills to its parent is invoiced with its parent (recursively: a child of
  such a child too); its charges keep the child's `account_id`.
- A subscription's versions are ordered by effective date, then by when their event occurred
  (the later event is the later version of one day); `sequence` numbers that order.
- A subscription event that leaves out its charge type, billing frequency or timing takes them
  from its pinned catalog price version, else recurring, monthly, in advance (provisioning makes
  a subscription of a line without charge type as a recurring one).
- A one-time order line is an order fee, billed with the next monthly run, unless provisioning
  bills it on fulfillment (pay-as-you-go and plain service lines: `fulfillment.completed` carries
  their billable quantity; committed lines were paid upfront by this fee, so their fulfillments
  bill nothing).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Final

from invoicing.domain.billing_inputs import (
    BilledCharge,
    BillingAccount,
    BillingInputs,
    BillingSubscription,
    FulfilledCharge,
    OneTimeCharge,
    OneTimeChargeKind,
    PendingAdjustment,
    RatedUsageCharge,
    SubscriptionVersion,
)
from libs.contracts.vocabulary import BillingFrequency, BillingTiming, ChargeType, LicenseType, RevenueRule
from libs.platform.periods import local_date
from libs.pricing.discounts import Discount, DiscountKind, apply_discounts

BILLED_ON_FULFILLMENT: Final = frozenset({LicenseType.PAY_AS_YOU_GO, LicenseType.NONE})
"""License types whose one-time lines provisioning bills through `fulfillment.completed`."""

MAX_HIERARCHY_DEPTH: Final = 16
"""Levels of children-billing-to-parents followed at most (a loop in bad data must not hang a run)."""


@dataclass(frozen=True, slots=True)
class SubscriptionRecord:
    """One subscription event as kept: the subscription's terms and the version it starts."""

    event_id: str
    event_at: datetime
    event_kind: str
    subscription_id: str
    account_id: str
    product_id: str
    currency: str
    charge_type: ChargeType | None
    billing_period: BillingFrequency | None
    billing_timing: BillingTiming | None
    version: SubscriptionVersion
    """The state from the event's effective date on (its `sequence` is set when assembled)."""


@dataclass(frozen=True, slots=True)
class PriceTerms:
    """What invoicing keeps of a catalog price version: when and how often it is charged."""

    price_id: str
    version: int
    product_id: str
    currency: str
    charge_type: ChargeType
    billing_period: BillingFrequency | None
    timing: BillingTiming


@dataclass(frozen=True, slots=True)
class CatalogProduct:
    """A catalog product's name, tax code and revenue rule (from `catalog.product_changed`)."""

    product_id: str
    name: str
    tax_code: str
    revenue_rule: RevenueRule | None = None
    """How its revenue is recognised (`invoicing.domain.revenue`); None when not known."""


@dataclass(frozen=True, slots=True)
class ApprovedOrderLine:
    """A line of an approved sales order (`order.approved`), kept until its price says what it is."""

    order_id: str
    order_line_id: str
    account_id: str
    currency: str
    approved_at: datetime
    product_id: str
    price_id: str
    price_version: int
    quantity: Decimal
    unit_price: Decimal
    discount_percent: Decimal
    license_type: LicenseType
    subscription_id: str | None = None


@dataclass(frozen=True, slots=True)
class ReadModelRecords:
    """What the read model holds for a set of accounts (the invoiced ones and their children)."""

    accounts: Mapping[str, BillingAccount]
    subscriptions: Sequence[SubscriptionRecord] = ()
    rated_usage: Sequence[RatedUsageCharge] = ()
    fulfillments: Sequence[FulfilledCharge] = ()
    one_time_charges: Sequence[OneTimeCharge] = ()
    order_lines: Sequence[ApprovedOrderLine] = ()
    prices: Mapping[tuple[str, int], PriceTerms] | None = None
    products: Mapping[str, CatalogProduct] | None = None


def termination_fee_charge_id(subscription_id: str) -> str:
    """The one-time charge id of a subscription's termination fee (a subscription ends once)."""
    return f"termination_fee:{subscription_id}"


def order_fee_charge_id(order_line_id: str) -> str:
    """The one-time charge id of an order line's fee."""
    return f"order_fee:{order_line_id}"


def invoiced_account_id(account_id: str, accounts: Mapping[str, BillingAccount]) -> str | None:
    """The account whose invoice carries `account_id`'s charges: itself, or the ancestor it bills to
    through parents; None while an ancestor it bills to is unknown."""
    current = accounts.get(account_id)
    for _ in range(MAX_HIERARCHY_DEPTH):
        if current is None:
            return None
        if not current.bills_to_parent or current.parent_account_id is None:
            return current.account_id
        current = accounts.get(current.parent_account_id)
    return None


def is_invoiced_itself(account: BillingAccount) -> bool:
    """True when the account gets its own invoice (it does not bill to a parent)."""
    return not account.bills_to_parent or account.parent_account_id is None


def order_fee_of(
    line: ApprovedOrderLine, price: PriceTerms | None, account: BillingAccount, product_name: str | None
) -> OneTimeCharge | None:
    """The order fee of an approved line, or None when the line is not one (or its price is unknown)."""
    if price is None or price.charge_type is not ChargeType.ONE_TIME:
        return None
    if line.license_type in BILLED_ON_FULFILLMENT:
        return None
    discounts = [Discount(DiscountKind.PERCENT, line.discount_percent)] if line.discount_percent > 0 else []
    amount = apply_discounts(line.quantity * line.unit_price, discounts, line.currency).net_amount
    return OneTimeCharge(
        charge_id=order_fee_charge_id(line.order_line_id),
        kind=OneTimeChargeKind.ORDER_FEE,
        account_id=line.account_id,
        currency=line.currency,
        charge_date=local_date(line.approved_at, account.time_zone),
        description=product_name or line.product_id,
        quantity=line.quantity,
        unit_price=line.unit_price,
        amount=amount,
        subscription_id=line.subscription_id,
        product_id=line.product_id,
        price_id=line.price_id,
        price_version=line.price_version,
        source_id=line.order_id,
    )


def subscriptions_of(
    records: Iterable[SubscriptionRecord],
    prices: Mapping[tuple[str, int], PriceTerms],
    products: Mapping[str, CatalogProduct],
) -> list[BillingSubscription]:
    """Each subscription with every version in effective order; its terms from its latest event."""
    by_subscription: dict[str, list[SubscriptionRecord]] = defaultdict(list)
    for record in records:
        by_subscription[record.subscription_id].append(record)
    subscriptions = []
    for subscription_id, kept in sorted(by_subscription.items()):
        ordered = sorted(kept, key=lambda r: (r.version.effective_date, r.event_at, r.event_id))
        latest = max(kept, key=lambda r: (r.event_at, r.event_id))
        price = prices.get((latest.version.price_id, latest.version.price_version))
        product = products.get(latest.product_id)
        subscriptions.append(
            BillingSubscription(
                subscription_id=subscription_id,
                account_id=latest.account_id,
                product_id=latest.product_id,
                currency=latest.currency,
                charge_type=latest.charge_type
                or (price.charge_type if price else None)
                or ChargeType.RECURRING,
                billing_period=latest.billing_period
                or (price.billing_period if price else None)
                or BillingFrequency.MONTHLY,
                billing_timing=latest.billing_timing
                or (price.timing if price else None)
                or BillingTiming.IN_ADVANCE,
                versions=tuple(
                    r.version if r.version.sequence == i else replace(r.version, sequence=i)
                    for i, r in enumerate(ordered)
                ),
                product_name=product.name if product else None,
            )
        )
    return subscriptions


def assemble_billing_inputs(
    requested: Collection[str],
    records: ReadModelRecords,
    *,
    billed: Mapping[str, Sequence[BilledCharge]] | None = None,
    adjustments: Mapping[str, Sequence[PendingAdjustment]] | None = None,
) -> dict[str, BillingInputs]:
    """The billing inputs of each requested account that is invoiced itself, children merged in.

    A requested account that bills to its parent, or that the read model does not know, is left
    out (its charges are on its parent's inputs). `billed` and `adjustments`, keyed by invoiced
    account, are what the invoices and adjustments kept by invoicing itself add.
    """
    accounts = records.accounts
    prices = records.prices or {}
    products = records.products or {}
    invoiced = {
        account_id
        for account_id in requested
        if account_id in accounts and is_invoiced_itself(accounts[account_id])
    }

    def owner(account_id: str) -> str | None:
        root = invoiced_account_id(account_id, accounts)
        return root if root in invoiced else None

    subscriptions: dict[str, list[BillingSubscription]] = defaultdict(list)
    for subscription in subscriptions_of(records.subscriptions, prices, products):
        if (root := owner(subscription.account_id)) is not None:
            subscriptions[root].append(subscription)
    usage: dict[str, list[RatedUsageCharge]] = defaultdict(list)
    for rated in sorted(records.rated_usage, key=lambda r: (r.period_start, r.rated_usage_id)):
        if (root := owner(rated.account_id)) is not None:
            usage[root].append(rated)
    fulfilled: dict[str, list[FulfilledCharge]] = defaultdict(list)
    for line in sorted(
        records.fulfillments, key=lambda f: (f.completed_on, f.fulfillment_id, f.order_line_id)
    ):
        # A committed, prepaid part of a fulfillment has nothing to invoice.
        if line.billable_quantity > 0 and (root := owner(line.account_id)) is not None:
            fulfilled[root].append(line)
    one_time: dict[str, list[OneTimeCharge]] = defaultdict(list)
    for charge in records.one_time_charges:
        if (root := owner(charge.account_id)) is not None:
            one_time[root].append(charge)
    for order_line in records.order_lines:
        root = owner(order_line.account_id)
        if root is None:
            continue
        product = products.get(order_line.product_id)
        fee = order_fee_of(
            order_line,
            prices.get((order_line.price_id, order_line.price_version)),
            accounts[order_line.account_id],
            product.name if product else None,
        )
        if fee is not None:
            one_time[root].append(fee)
    return {
        account_id: BillingInputs(
            account=accounts[account_id],
            subscriptions=tuple(subscriptions[account_id]),
            rated_usage=tuple(usage[account_id]),
            fulfillments=tuple(fulfilled[account_id]),
            one_time_charges=tuple(sorted(one_time[account_id], key=lambda c: (c.charge_date, c.charge_id))),
            adjustments=tuple((adjustments or {}).get(account_id, ())),
            billed=tuple((billed or {}).get(account_id, ())),
        )
        for account_id in sorted(invoiced)
    }
