"""Rows of rating's own tables for integration tests, written straight into the service's database.

Meters and aggregates are what the ingestion builds (another part of the service); the read
model is what the consumer keeps from the catalog's and provisioning's events. Tests of the
close, the running charge and the checks start from them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal

from fastapi import FastAPI

from rating.models import Meter, RatedAccount, RatedCostBook, RatedPrice, RatedSubscription, UsageAggregate

D = Decimal
EVENT_AT = datetime(2026, 1, 1, tzinfo=UTC)


async def add_rows(app: FastAPI, *rows: object) -> None:
    """Insert rows in one transaction of the app's database."""
    async with app.state.runtime.db.session() as session:
        for row in rows:
            session.add(row)
        await session.commit()


def account_row(account_id: str = "acct_1", *, time_zone: str = "UTC", currency: str = "USD") -> RatedAccount:
    """An account billed on the 1st."""
    return RatedAccount(
        account_id=account_id,
        customer_id="cus_1",
        currency=currency,
        bill_cycle_day=1,
        time_zone=time_zone,
        event_at=EVENT_AT,
    )


def subscription_row(
    subscription_id: str = "sub_1",
    *,
    account_id: str = "acct_1",
    product_id: str = "prod_platform",
    price_id: str = "price_platform",
    charge_type: str | None = "recurring",
    currency: str = "USD",
    state: str = "active",
) -> RatedSubscription:
    """A subscription on a year's term from 2026-01-01."""
    return RatedSubscription(
        subscription_id=subscription_id,
        account_id=account_id,
        product_id=product_id,
        price_id=price_id,
        price_version=1,
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


def meter_row(code: str = "api_calls", product_id: str = "prod_api", unit: str = "call") -> Meter:
    """An active sum meter rated by `product_id`'s usage price."""
    return Meter(
        id=f"mtr_{code}",
        code=code,
        name=code,
        unit_of_measure=unit,
        aggregation="sum",
        product_id=product_id,
        active=True,
        created_at=EVENT_AT,
        updated_at=EVENT_AT,
    )


def price_row(
    price_id: str = "price_api",
    *,
    product_id: str = "prod_api",
    model: str = "per_unit",
    currency: str = "USD",
    unit_price: str | None = None,
    tiers: Sequence[tuple[str | None, str]] = (),
    included: str = "0",
    minimum: str | None = None,
    package_size: str | None = None,
    cost_book_id: str | None = None,
    version: int = 1,
    effective_from: date = date(2026, 1, 1),
) -> RatedPrice:
    """A monthly usage price version as the read model stores it."""
    terms = {
        "unit_price": unit_price,
        "amount": None,
        "tiers": [{"up_to": up, "unit_price": price, "flat_fee": "0"} for up, price in tiers],
        "package_size": package_size,
        "included_quantity": included,
        "minimum_commitment": minimum,
        "cost_book_id": cost_book_id,
    }
    return RatedPrice(
        price_id=price_id,
        version=version,
        product_id=product_id,
        currency=currency,
        charge_type="usage",
        billing_period="monthly",
        model=model,
        terms=json.dumps(terms),
        effective_from=effective_from,
        event_at=EVENT_AT,
    )


def cost_book_row(mode: str = "volume") -> RatedCostBook:
    """EXAMPLES §1's vendor book: 1-100 12.00, 101-500 10.00, 501+ 8.50 per seat per month, 20% markup."""
    tiers = [("100", "12.00"), ("500", "10.00"), (None, "8.50")]
    return RatedCostBook(
        cost_book_id="cb_wfm",
        version=1,
        vendor_id="ven_wfm",
        currency="USD",
        mode=mode,
        tier_period="monthly",
        markup_percent=D(20),
        tiers=json.dumps([{"up_to": up, "unit_price": price, "flat_fee": "0"} for up, price in tiers]),
        effective_from=date(2026, 1, 1),
        event_at=EVENT_AT,
    )


def aggregate_row(
    quantity: str,
    *,
    subscription_id: str = "sub_1",
    meter: str = "api_calls",
    start: date = date(2026, 7, 1),
    end: date = date(2026, 8, 1),
    account_id: str = "acct_1",
    events: int = 3,
) -> UsageAggregate:
    """A subscription's meter over [start, end), not rated yet."""
    return UsageAggregate(
        subscription_id=subscription_id,
        meter=meter,
        period_start=start,
        period_end=end,
        account_id=account_id,
        quantity=D(quantity),
        event_count=events,
        late_quantity=D(0),
        late_count=0,
        updated_at=EVENT_AT,
    )
