"""Test factories for rating: read-model rows (as provisioning's events would leave them), meters,
usage events, and a stand-in for the period close (an aggregate marked rated)."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import update
from sqlmodel import col

from libs.platform.db import Database
from libs.platform.ids import new_id
from rating.models import RatedAccount, RatedSubscription, UsageAggregate
from tests.support.services import auth

FINANCE = auth("finance")
ERP = auth("erp")
_EVENT_AT = datetime(2026, 1, 1, tzinfo=UTC)
_sequence = itertools.count(1)


async def rated_account(
    db: Database,
    *,
    account_id: str | None = None,
    time_zone: str = "UTC",
    bill_cycle_day: int = 1,
    currency: str = "USD",
    parent_account_id: str | None = None,
) -> str:
    """An account in rating's read model; returns its id."""
    account_id = account_id or new_id("acct")
    async with db.session() as session:
        session.add(
            RatedAccount(
                account_id=account_id,
                customer_id=new_id("cus"),
                parent_account_id=parent_account_id,
                currency=currency,
                bill_cycle_day=bill_cycle_day,
                time_zone=time_zone,
                event_at=_EVENT_AT,
            )
        )
        await session.commit()
    return account_id


async def rated_subscription(
    db: Database,
    *,
    account_id: str,
    product_id: str,
    term_start: date = date(2026, 1, 1),
    term_end: date = date(2029, 1, 1),
    billing_period: str | None = "monthly",
    state: str = "active",
    effective_date: date | None = None,
    subscription_id: str | None = None,
    currency: str = "USD",
) -> str:
    """A subscription in rating's read model; returns its id."""
    subscription_id = subscription_id or new_id("sub")
    async with db.session() as session:
        session.add(
            RatedSubscription(
                subscription_id=subscription_id,
                account_id=account_id,
                product_id=product_id,
                price_id=new_id("price"),
                price_version=1,
                currency=currency,
                charge_type="usage",
                billing_period=billing_period,
                state=state,
                quantity=Decimal(1),
                term_start=term_start,
                term_end=term_end,
                effective_date=effective_date or term_start,
                event_at=_EVENT_AT,
                event_kind="subscription.activated",
            )
        )
        await session.commit()
    return subscription_id


async def mark_rated(db: Database, subscription_id: str, meter: str, period_start: date) -> None:
    """What the period close does to an aggregate: marks it rated (later events go to the next period)."""
    async with db.session() as session:
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
