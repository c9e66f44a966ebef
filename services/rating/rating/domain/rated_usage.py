"""Rating a closed billing period of a subscription's meter: which price, which quantity, what amount.

Rules (docs/rating.md, DESIGN §7):
- The usage price of a (subscription, meter, period) is the subscription's pinned price
  version when the subscription is to the meter's product and that version is a usage price;
  else the meter product's usage price in the subscription's currency whose version is in
  force on the period's first day (the first such price by id when there are several).
- `libs.pricing.rate` alone prices the quantity (included units, tiers, packages, cost-plus,
  minimum commitment); nothing here re-implements the math.
- Prepaid units are drawn first, from the units beyond the included ones: they take units
  out of the quantity before it is priced. Prepaid money is then drawn against what is due
  (the rounded charge plus the minimum shortfall): amount = charge + shortfall - prepaid money.
- A period closes once it has ended in the account's time zone: its end is on or before the
  account's local today.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from libs.contracts.vocabulary import BillingFrequency, PricingModel
from libs.platform.periods import BillingPeriod, period_containing
from libs.pricing import Charge, PriceSpec, TierLine, rate

from .prices import PriceVersion, version_in_force
from .subscriptions import Subscription

ZERO = Decimal(0)


@dataclass(frozen=True)
class Meter:
    """What rating needs of a meter: the product whose usage price rates it, and its unit."""

    code: str
    product_id: str
    unit_of_measure: str
    active: bool = True


@dataclass(frozen=True)
class UsageSeries:
    """A subscription's meter over one billing period: the aggregated quantity to rate."""

    subscription_id: str
    meter: str
    period_start: date
    period_end: date
    account_id: str
    quantity: Decimal
    event_count: int
    late_quantity: Decimal = ZERO

    @property
    def key(self) -> tuple[str, str, date]:
        """(subscription, meter, period start): one rating per key, ever."""
        return (self.subscription_id, self.meter, self.period_start)


@dataclass(frozen=True)
class PriceWanted:
    """Where the usage price of a subscription's meter over a period comes from.

    `pinned` (price id, version) when the subscription is to the meter's product; otherwise,
    or when that version is not a usage price, the meter product's usage price in `currency`
    in force on `on` (the period's first day).
    """

    product_id: str
    currency: str
    on: date
    pinned: tuple[str, int] | None = None


def price_wanted(subscription: Subscription, meter: Meter, period_start: date) -> PriceWanted:
    """Where the price of a subscription's meter over the period starting `period_start` comes from."""
    pinned = None
    if subscription.product_id == meter.product_id and subscription.charge_type in (None, "usage"):
        pinned = (subscription.price_id, subscription.price_version)
    return PriceWanted(meter.product_id, subscription.currency, period_start, pinned)


def choose_usage_price(
    wanted: PriceWanted, pinned: PriceVersion | None, product_prices: Iterable[PriceVersion]
) -> PriceVersion | None:
    """The price version that rates the usage, or None when the read model holds none (yet).

    `pinned` is the stored version `wanted.pinned` names (None when not received yet: the
    usage waits for it rather than being rated at another price); `product_prices` are stored
    versions of the meter product's prices (any charge type and currency: filtered here).
    """
    if wanted.pinned is not None:
        if pinned is None:
            return None
        if pinned.is_usage:
            return pinned
    by_price: dict[str, list[PriceVersion]] = {}
    for version in product_prices:
        if (
            version.is_usage
            and version.product_id == wanted.product_id
            and version.currency == wanted.currency
        ):
            by_price.setdefault(version.price_id, []).append(version)
    for price_id in sorted(by_price):
        found = version_in_force(by_price[price_id], wanted.on)
        if found is not None:
            return found
    return None


def prepaid_units_wanted(spec: PriceSpec, quantity: Decimal) -> Decimal:
    """The units a prepaid units balance is asked for: those beyond the included ones (none for flat)."""
    if spec.model == PricingModel.FLAT:
        return ZERO
    return max(ZERO, quantity - Decimal(spec.included_quantity))


def quantity_after_prepaid(spec: PriceSpec, quantity: Decimal, prepaid_available: Decimal) -> Decimal:
    """The quantity left to price once up to `prepaid_available` prepaid units cover the non-included ones."""
    return quantity - min(max(ZERO, prepaid_available), prepaid_units_wanted(spec, quantity))


def amount_due(charge: Charge) -> Decimal:
    """What a rated charge asks before prepaid money: the rounded line plus the minimum shortfall."""
    return charge.rounded_amount + charge.minimum_shortfall


@dataclass(frozen=True)
class RatedUsage:
    """One closed period of a subscription's meter, priced: the content of `usage.rated`."""

    id: str
    subscription_id: str
    account_id: str
    product_id: str
    meter: str
    unit_of_measure: str
    period_start: date
    period_end: date
    quantity: Decimal
    event_count: int
    late_quantity: Decimal
    included_quantity: Decimal
    prepaid_quantity: Decimal
    billable_quantity: Decimal
    currency: str
    price_id: str
    price_version: int
    pricing_model: PricingModel
    tiers: tuple[TierLine, ...]
    charge_amount: Decimal
    minimum_shortfall: Decimal
    prepaid_amount: Decimal
    amount: Decimal
    rated_at: datetime


def charge_for(spec: PriceSpec, quantity: Decimal, prepaid_quantity: Decimal = ZERO) -> Charge:
    """The usage charge of `quantity` once `prepaid_quantity` units came off it (`libs.pricing.rate`)."""
    return rate(spec, quantity - prepaid_quantity)


def rated_usage(
    *,
    rated_usage_id: str,
    series: UsageSeries,
    meter: Meter,
    price: PriceVersion,
    spec: PriceSpec,
    charge: Charge,
    prepaid_quantity: Decimal,
    prepaid_amount: Decimal,
    rated_at: datetime,
) -> RatedUsage:
    """The rating of `series`: `charge` (from `charge_for`) less `prepaid_amount` of prepaid money.

    `prepaid_quantity` and `prepaid_amount` are what the balances actually gave (at most what
    `prepaid_units_wanted` and `amount_due` asked).
    """
    return RatedUsage(
        id=rated_usage_id,
        subscription_id=series.subscription_id,
        account_id=series.account_id,
        product_id=meter.product_id,
        meter=series.meter,
        unit_of_measure=meter.unit_of_measure,
        period_start=series.period_start,
        period_end=series.period_end,
        quantity=series.quantity,
        event_count=series.event_count,
        late_quantity=series.late_quantity,
        included_quantity=Decimal(spec.included_quantity),
        prepaid_quantity=prepaid_quantity,
        billable_quantity=charge.billable_quantity,
        currency=spec.currency,
        price_id=price.price_id,
        price_version=price.version,
        pricing_model=PricingModel(spec.model),
        tiers=charge.breakdown,
        charge_amount=charge.rounded_amount,
        minimum_shortfall=charge.minimum_shortfall,
        prepaid_amount=prepaid_amount,
        amount=amount_due(charge) - prepaid_amount,
        rated_at=rated_at,
    )


def series_reference(series: UsageSeries) -> str:
    """A stable name of one period of a subscription's meter (prepaid drawdowns refer to it)."""
    return f"usage:{series.subscription_id}:{series.meter}:{series.period_start.isoformat()}"


def usage_period(subscription: Subscription, bill_cycle_day: int, day: date) -> BillingPeriod:
    """The billing period usage on `day` counts in, as the ingestion aggregates it.

    Monthly (also when the subscription names no frequency) on the account's bill-cycle day;
    quarterly and annual anchored on the term start; a term-billed subscription's one period is
    its term (then windows of the same length). Used only where no aggregate says it yet.
    """
    frequency = BillingFrequency(subscription.billing_period or BillingFrequency.MONTHLY)
    if frequency is BillingFrequency.MONTHLY:
        return period_containing(day, frequency, bill_cycle_day)
    if frequency.is_fixed:
        return period_containing(day, frequency, subscription.term_start)
    length = max((subscription.term_end - subscription.term_start).days, 1)
    first = subscription.term_start + timedelta(days=(day - subscription.term_start).days // length * length)
    return BillingPeriod(first, first + timedelta(days=length))


def is_closable(period_end: date, local_today: date) -> bool:
    """True once the period [start, period_end) has ended on the account's local calendar."""
    return period_end <= local_today
