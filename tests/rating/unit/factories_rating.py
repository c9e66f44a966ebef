"""Plain values for rating's unit tests: accounts, subscriptions, meters, prices, aggregates."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal

from libs.contracts.vocabulary import BillingFrequency, ChargeType, PricingModel, TierMode, TierPeriod
from libs.pricing import Tier
from rating.domain.prices import CostBookVersion, PriceTerms, PriceVersion
from rating.domain.rated_usage import Meter, UsageSeries
from rating.domain.subscriptions import Account, Subscription

D = Decimal
EVENT_AT = datetime(2026, 1, 1, tzinfo=UTC)


def account(
    account_id: str = "acct_1", *, time_zone: str = "UTC", currency: str = "USD", day: int = 1
) -> Account:
    """An account billed on `day` in `time_zone`."""
    return Account(account_id, "cus_1", None, currency, day, time_zone, EVENT_AT)


def subscription(
    subscription_id: str = "sub_1",
    *,
    account_id: str = "acct_1",
    product_id: str = "prod_platform",
    price_id: str = "price_platform",
    price_version: int = 1,
    currency: str = "USD",
    charge_type: str | None = "recurring",
    state: str = "active",
) -> Subscription:
    """A subscription with a pinned price, on a year's term from 2026-01-01."""
    return Subscription(
        subscription_id=subscription_id,
        account_id=account_id,
        product_id=product_id,
        price_id=price_id,
        price_version=price_version,
        currency=currency,
        charge_type=charge_type,
        billing_period="monthly",
        state=state,
        quantity=D(1),
        term_start=date(2026, 1, 1),
        term_end=date(2027, 1, 1),
        effective_date=date(2026, 1, 1),
        event_at=EVENT_AT,
        event_kind="subscription.activated",
    )


def meter(code: str = "api_calls", product_id: str = "prod_api", *, active: bool = True) -> Meter:
    """A meter rated by `product_id`'s usage price."""
    return Meter(code, product_id, "call", active)


def tiers(*bands: tuple[str | None, str]) -> tuple[Tier, ...]:
    """Tiers from (up_to, unit_price) pairs."""
    return tuple(Tier(None if up is None else D(up), D(price)) for up, price in bands)


def usage_price(
    price_id: str = "price_api",
    *,
    version: int = 1,
    product_id: str = "prod_api",
    currency: str = "USD",
    model: PricingModel = PricingModel.PER_UNIT,
    unit_price: str | None = None,
    amount: str | None = None,
    bands: Sequence[tuple[str | None, str]] = (),
    package_size: str | None = None,
    included: str = "0",
    minimum: str | None = None,
    cost_book_id: str | None = None,
    effective_from: date = date(2026, 1, 1),
    effective_to: date | None = None,
    charge_type: ChargeType = ChargeType.USAGE,
) -> PriceVersion:
    """A monthly usage price version."""
    return PriceVersion(
        price_id=price_id,
        version=version,
        product_id=product_id,
        currency=currency,
        charge_type=charge_type,
        billing_period=BillingFrequency.MONTHLY,
        terms=PriceTerms(
            model=model,
            unit_price=None if unit_price is None else D(unit_price),
            amount=None if amount is None else D(amount),
            tiers=tiers(*bands),
            package_size=None if package_size is None else D(package_size),
            included_quantity=D(included),
            minimum_commitment=None if minimum is None else D(minimum),
            cost_book_id=cost_book_id,
        ),
        effective_from=effective_from,
        effective_to=effective_to,
    )


def wfm_cost_book(
    mode: TierMode, *, version: int = 1, effective_from: date = date(2026, 1, 1)
) -> CostBookVersion:
    """EXAMPLES §1: 1-100 seats 12.00, 101-500 10.00, 501+ 8.50 per seat per month; markup 20%."""
    return CostBookVersion(
        cost_book_id="cb_wfm",
        version=version,
        vendor_id="ven_wfm",
        currency="USD",
        mode=mode,
        tier_period=TierPeriod.MONTHLY,
        markup_percent=D(20),
        tiers=tiers(("100", "12.00"), ("500", "10.00"), (None, "8.50")),
        effective_from=effective_from,
    )


def series(
    quantity: str,
    *,
    subscription_id: str = "sub_1",
    meter_code: str = "api_calls",
    start: date = date(2026, 7, 1),
    end: date = date(2026, 8, 1),
    account_id: str = "acct_1",
    events: int = 3,
    late: str = "0",
) -> UsageSeries:
    """A subscription's meter over [start, end)."""
    return UsageSeries(subscription_id, meter_code, start, end, account_id, D(quantity), events, D(late))
