"""Plain billing inputs for the charge calculation's unit tests: accounts, subscriptions, versions."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from invoicing.domain.billing_inputs import (
    AdjustmentDirection,
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
from invoicing.domain.charges import ChargeLine
from libs.contracts.vocabulary import BillingFrequency, BillingTiming, ChargeType

D = Decimal


def account(
    account_id: str = "acct_1", *, currency: str = "USD", day: int = 1, parent: str | None = None
) -> BillingAccount:
    """An account billed on cycle day `day`."""
    return BillingAccount(
        account_id=account_id,
        customer_id="cus_1",
        name="Acme",
        currency=currency,
        bill_cycle_day=day,
        parent_account_id=parent,
        bills_to_parent=parent is not None,
    )


def version(
    effective: date,
    *,
    term: tuple[date, date],
    quantity: str = "1",
    unit_price: str = "300.00",
    discount: str = "0",
    state: str = "active",
    price_version: int = 1,
    sequence: int = 0,
    discount_cycles: int | None = None,
) -> SubscriptionVersion:
    """A subscription's state from `effective` on."""
    return SubscriptionVersion(
        effective_date=effective,
        state=state,
        quantity=D(quantity),
        unit_price=D(unit_price),
        discount_percent=D(discount),
        price_id="price_1",
        price_version=price_version,
        term_start=term[0],
        term_end=term[1],
        sequence=sequence,
        discount_cycles=discount_cycles,
    )


def subscription(
    *versions: SubscriptionVersion,
    subscription_id: str = "sub_1",
    account_id: str = "acct_1",
    currency: str = "USD",
    period: BillingFrequency = BillingFrequency.MONTHLY,
    timing: BillingTiming = BillingTiming.IN_ADVANCE,
    charge_type: ChargeType = ChargeType.RECURRING,
) -> BillingSubscription:
    """A subscription with the given versions (the first is the activation)."""
    return BillingSubscription(
        subscription_id=subscription_id,
        account_id=account_id,
        product_id="prod_1",
        currency=currency,
        charge_type=charge_type,
        billing_period=period,
        billing_timing=timing,
        versions=tuple(versions),
        product_name="Platform",
    )


def inputs(
    *subscriptions: BillingSubscription,
    billing_account: BillingAccount | None = None,
    rated_usage: Iterable[RatedUsageCharge] = (),
    fulfillments: Iterable[FulfilledCharge] = (),
    one_time: Iterable[OneTimeCharge] = (),
    adjustments: Iterable[PendingAdjustment] = (),
    billed: Iterable[BilledCharge] = (),
) -> BillingInputs:
    """One account's billing inputs."""
    return BillingInputs(
        account=billing_account or account(),
        subscriptions=tuple(subscriptions),
        rated_usage=tuple(rated_usage),
        fulfillments=tuple(fulfillments),
        one_time_charges=tuple(one_time),
        adjustments=tuple(adjustments),
        billed=tuple(billed),
    )


def billed_as(lines: Iterable[ChargeLine], invoice_id: str = "inv_1") -> list[BilledCharge]:
    """What an invoice of these lines leaves behind as already billed."""
    return [BilledCharge(line.charge_key, line.amount, invoice_id, line.list_amount) for line in lines]


def with_billed(
    given: BillingInputs, lines: Iterable[ChargeLine], invoice_id: str = "inv_1"
) -> BillingInputs:
    """`given` once `lines` were billed on an invoice."""
    return BillingInputs(
        account=given.account,
        subscriptions=given.subscriptions,
        rated_usage=given.rated_usage,
        fulfillments=given.fulfillments,
        one_time_charges=given.one_time_charges,
        adjustments=given.adjustments,
        billed=given.billed + tuple(billed_as(lines, invoice_id)),
    )


def rated_usage(
    rated_usage_id: str = "ru_1",
    *,
    period: tuple[date, date] = (date(2026, 5, 1), date(2026, 6, 1)),
    charge: str = "107.59",
    shortfall: str = "0",
    prepaid: str = "0",
    currency: str = "USD",
    account_id: str = "acct_1",
) -> RatedUsageCharge:
    """One rated usage: amount = charge + shortfall - prepaid."""
    return RatedUsageCharge(
        rated_usage_id=rated_usage_id,
        subscription_id="sub_u",
        account_id=account_id,
        product_id="prod_api",
        meter="api_calls",
        unit_of_measure="call",
        period_start=period[0],
        period_end=period[1],
        quantity=D(12345),
        billable_quantity=D(11345),
        currency=currency,
        price_id="price_api",
        price_version=2,
        charge_amount=D(charge),
        minimum_shortfall=D(shortfall),
        prepaid_amount=D(prepaid),
        amount=D(charge) + D(shortfall) - D(prepaid),
    )


def fulfilled(
    order_line_id: str,
    *,
    quantity: str,
    unit_price: str,
    discount: str = "0",
    completed_on: date = date(2026, 6, 10),
    fulfillment_id: str = "ful_1",
    currency: str = "USD",
    account_id: str = "acct_1",
) -> FulfilledCharge:
    """One line of a completed fulfillment."""
    return FulfilledCharge(
        fulfillment_id=fulfillment_id,
        order_line_id=order_line_id,
        order_id="ord_1",
        account_id=account_id,
        product_id=f"prod_{order_line_id}",
        currency=currency,
        completed_on=completed_on,
        billable_quantity=D(quantity),
        unit_price=D(unit_price),
        discount_percent=D(discount),
    )


def one_time_charge(
    charge_id: str = "otc_1", *, amount: str = "144.00", on: date = date(2026, 8, 5), currency: str = "USD"
) -> OneTimeCharge:
    """An overage re-bill of 12 seats at 12.00."""
    return OneTimeCharge(
        charge_id=charge_id,
        kind=OneTimeChargeKind.OVERAGE_REBILL,
        account_id="acct_1",
        currency=currency,
        charge_date=on,
        description="Overage July 2026: 12 seats",
        quantity=D(12),
        unit_price=D("12.00"),
        amount=D(amount),
        source_id="ovc_1",
    )


def adjustment(
    adjustment_id: str = "adj_1",
    *,
    amount: str = "25.00",
    direction: AdjustmentDirection = AdjustmentDirection.CREDIT,
    on: date = date(2026, 6, 1),
) -> PendingAdjustment:
    """A pending adjustment of the account."""
    return PendingAdjustment(
        adjustment_id=adjustment_id,
        account_id="acct_1",
        currency="USD",
        direction=direction,
        amount=D(amount),
        description="Goodwill credit",
        effective_date=on,
    )
