"""Test factories for rating: the read model (the rows provisioning's and the catalog's events
would leave: accounts, subscriptions, prices, cost books), rows of rating's own tables (meters,
usage aggregates), usage events, a stand-in for the period close (an aggregate marked rated), and
what the service wrote to its outbox. The one module of the read model for every integration test.

Rows go straight into the service's database: give `add_rows` and the `rated_*` helpers the
running app, its runtime, a `Database` or anything with a `runtime` (a test's service wrapper).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import update
from sqlmodel import col, select

from libs.platform.db import Database
from libs.platform.ids import new_id
from libs.platform.outbox import OutboxMessage
from rating.bootstrap import RatingRuntime
from rating.models import (
    Meter,
    RatedAccount,
    RatedCostBook,
    RatedPrice,
    RatedSubscription,
    UsageAggregate,
)
from tests.support.services import auth

FINANCE = auth("finance")
ERP = auth("erp")
EVENT_AT = datetime(2026, 1, 1, tzinfo=UTC)
"""When the read model's rows were received (before every test's clock)."""
_sequence = itertools.count(1)


def database_of(target: Any) -> Database:
    """The database of a running app, a runtime, a test's service wrapper (`.runtime`) or a Database."""
    if isinstance(target, Database):
        return target
    if isinstance(target, FastAPI):
        target = target.state.runtime
    elif not isinstance(target, RatingRuntime):
        target = target.runtime
    assert isinstance(target, RatingRuntime)
    return target.db


async def add_rows(target: Any, *rows: object) -> None:
    """Insert rows in one transaction of the target's database."""
    async with database_of(target).session() as session:
        for row in rows:
            session.add(row)
        await session.commit()


# ----- the read model -------------------------------------------------------------------------


def account_row(
    account_id: str = "acct_1",
    *,
    time_zone: str = "UTC",
    bill_cycle_day: int = 1,
    currency: str = "USD",
    parent_account_id: str | None = None,
) -> RatedAccount:
    """An account as `account.opened` leaves it (billed on the 1st in UTC unless told otherwise)."""
    return RatedAccount(
        account_id=account_id,
        customer_id=f"cus_{account_id}",
        parent_account_id=parent_account_id,
        currency=currency,
        bill_cycle_day=bill_cycle_day,
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
    billing_period: str | None = "monthly",
    term_start: date = date(2026, 1, 1),
    term_end: date = date(2027, 1, 1),
    effective_date: date | None = None,
) -> RatedSubscription:
    """A subscription as `subscription.activated` leaves it (a year's term from 2026-01-01 unless told)."""
    return RatedSubscription(
        subscription_id=subscription_id,
        account_id=account_id,
        product_id=product_id,
        price_id=price_id,
        price_version=1,
        currency=currency,
        charge_type=charge_type,
        billing_period=billing_period,
        state=state,
        quantity=Decimal(1),
        term_start=term_start,
        term_end=term_end,
        effective_date=effective_date or term_start,
        event_at=EVENT_AT,
        event_kind="subscription.activated",
    )


async def rated_account(
    target: Any,
    *,
    account_id: str | None = None,
    time_zone: str = "UTC",
    bill_cycle_day: int = 1,
    currency: str = "USD",
    parent_account_id: str | None = None,
) -> str:
    """An account in rating's read model (a new id unless given); returns its id."""
    account_id = account_id or new_id("acct")
    row = account_row(
        account_id,
        time_zone=time_zone,
        bill_cycle_day=bill_cycle_day,
        currency=currency,
        parent_account_id=parent_account_id,
    )
    await add_rows(target, row)
    return account_id


async def rated_subscription(
    target: Any,
    *,
    account_id: str,
    product_id: str = "prod_api",
    term_start: date = date(2026, 1, 1),
    term_end: date = date(2029, 1, 1),
    billing_period: str | None = "monthly",
    state: str = "active",
    effective_date: date | None = None,
    subscription_id: str | None = None,
    currency: str = "USD",
) -> str:
    """A usage subscription of the account in rating's read model (a new id unless given); its id."""
    subscription_id = subscription_id or new_id("sub")
    row = subscription_row(
        subscription_id,
        account_id=account_id,
        product_id=product_id,
        price_id=new_id("price"),
        charge_type="usage",
        currency=currency,
        state=state,
        billing_period=billing_period,
        term_start=term_start,
        term_end=term_end,
        effective_date=effective_date,
    )
    await add_rows(target, row)
    return subscription_id


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


def graduated_price_row() -> RatedPrice:
    """EXAMPLES §7: first 1,000 included, 1,001-10,000 at 0.0100, above 10,000 at 0.0075."""
    return price_row(model="tiered_graduated", included="1000", tiers=[("10000", "0.0100"), (None, "0.0075")])


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
        markup_percent=Decimal(20),
        tiers=json.dumps([{"up_to": up, "unit_price": price, "flat_fee": "0"} for up, price in tiers]),
        effective_from=date(2026, 1, 1),
        event_at=EVENT_AT,
    )


# ----- rating's own rows ------------------------------------------------------------------------


def meter_row(code: str = "api_calls", product_id: str = "prod_api", unit: str = "call") -> Meter:
    """An active sum meter rated by `product_id`'s usage price (id `mtr_<code>`)."""
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
    """A subscription's meter over [start, end), not rated yet (what the ingestion builds)."""
    return UsageAggregate(
        subscription_id=subscription_id,
        meter=meter,
        period_start=start,
        period_end=end,
        account_id=account_id,
        quantity=Decimal(quantity),
        event_count=events,
        late_quantity=Decimal(0),
        late_count=0,
        updated_at=EVENT_AT,
    )


async def outbox_payloads(target: Any, event_type: str) -> list[dict[str, Any]]:
    """Payloads of the events of one type the service wrote to its outbox, oldest first."""
    async with database_of(target).session() as session:
        rows = (
            await session.exec(
                select(OutboxMessage)
                .where(OutboxMessage.event_type == event_type)
                .order_by(col(OutboxMessage.id))
            )
        ).all()
    return [json.loads(row.body)["payload"] for row in rows]


async def mark_rated(target: Any, subscription_id: str, meter: str, period_start: date) -> None:
    """What the period close does to an aggregate: marks it rated (later events go to the next period)."""
    async with database_of(target).session() as session:
        connection = await session.connection()
        await connection.execute(
            update(UsageAggregate)
            .where(
                col(UsageAggregate.subscription_id) == subscription_id,
                col(UsageAggregate.meter) == meter,
                col(UsageAggregate.period_start) == period_start,
            )
            .values(rated_at=datetime.now(UTC))
        )
        await session.commit()


def meter_body(**fields: Any) -> dict[str, Any]:
    """A meter request: a sum meter of API calls unless told otherwise (a fresh code each time)."""
    body: dict[str, Any] = {
        "code": f"api_calls_{next(_sequence)}",
        "name": "API calls",
        "unit_of_measure": "call",
        "aggregation": "sum",
        "product_id": "prod_api",
    }
    body.update(fields)
    return body


async def create_meter(client: httpx.AsyncClient, **fields: Any) -> dict[str, Any]:
    """A meter created through the API; returns its view."""
    response = await client.post("/v1/meters", json=meter_body(**fields), headers=FINANCE)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def usage_event(
    meter: str,
    *,
    quantity: int | str = 1,
    timestamp: str = "2026-07-01T09:30:00Z",
    subscription_id: str | None = None,
    account_id: str | None = None,
    event_id: str | None = None,
    properties: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One usage event as a producer sends it (a fresh event id unless given)."""
    event: dict[str, Any] = {
        "event_id": event_id or f"ev-{next(_sequence):08d}-{new_id('x')[-8:]}",
        "meter": meter,
        "quantity": quantity,
        "timestamp": timestamp,
    }
    if subscription_id is not None:
        event["subscription_id"] = subscription_id
    if account_id is not None:
        event["account_id"] = account_id
    if properties is not None:
        event["properties"] = properties
    return event


async def post_usage(client: httpx.AsyncClient, events: list[dict[str, Any]]) -> dict[str, Any]:
    """POST a JSON batch (as a mediation system with an erp key); returns the receipt of a 200."""
    response = await client.post("/v1/usage", json={"events": events}, headers=ERP)
    assert response.status_code == 200, response.text
    receipt: dict[str, Any] = response.json()
    return receipt


async def period_usage(
    client: httpx.AsyncClient, subscription_id: str, meter: str, period_start: str = "2026-07-01"
) -> tuple[str, int]:
    """(quantity, event count) of a subscription's period of a meter, as
    `GET /v1/subscriptions/{id}/usage` shows it; ("0", 0) before any usage of it."""
    response = await client.get(f"/v1/subscriptions/{subscription_id}/usage", headers=auth("ops"))
    assert response.status_code == 200, response.text
    for period in response.json()["periods"]:
        if (period["meter"], period["period_start"]) == (meter, period_start):
            return period["quantity"], period["event_count"]
    return "0", 0
