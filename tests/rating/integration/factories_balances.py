"""Factories of the balance tests: the read model rows provisioning's events would bring, bodies
of balance requests, a clock a test can move, and what the service wrote to its outbox."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

import httpx
from fastapi import FastAPI
from sqlmodel import col, select

from libs.platform.ids import new_id
from libs.platform.outbox import OutboxMessage
from libs.platform.settings import Role
from rating.models import RatedAccount, RatedSubscription
from tests.support.services import auth

FINANCE = auth(Role.FINANCE)
OPS = auth(Role.OPS)
CRM = auth(Role.CRM)


@dataclass
class MovableClock:
    """A clock a test sets to a day (noon UTC) and moves forward."""

    at: datetime

    def now(self) -> datetime:
        """The instant the test set."""
        return self.at

    def set_day(self, day: date) -> None:
        """Noon UTC of `day`."""
        self.at = datetime.combine(day, time(12), tzinfo=UTC)


def clock_on(day: date) -> MovableClock:
    """A movable clock at noon UTC on `day`."""
    return MovableClock(datetime.combine(day, time(12), tzinfo=UTC))


async def add_account(
    app: FastAPI,
    *,
    currency: str = "USD",
    bill_cycle_day: int = 1,
    time_zone: str = "UTC",
    account_id: str | None = None,
) -> str:
    """An account in rating's read model (as `account.opened` would bring it); returns its id."""
    account_id = account_id or new_id("acct")
    async with app.state.runtime.db.session() as session:
        session.add(
            RatedAccount(
                account_id=account_id,
                customer_id=new_id("cus"),
                currency=currency,
                bill_cycle_day=bill_cycle_day,
                time_zone=time_zone,
                event_at=datetime.now(UTC),
            )
        )
        await session.commit()
    return account_id


async def add_subscription(
    app: FastAPI, account_id: str, *, currency: str = "USD", term_start: date = date(2026, 1, 1)
) -> str:
    """An active subscription of the account in rating's read model; returns its id."""
    subscription_id = new_id("sub")
    async with app.state.runtime.db.session() as session:
        session.add(
            RatedSubscription(
                subscription_id=subscription_id,
                account_id=account_id,
                product_id="prod_support",
                price_id="price_support",
                price_version=1,
                currency=currency,
                charge_type="usage",
                billing_period="monthly",
                state="active",
                quantity=Decimal(1),
                term_start=term_start,
                term_end=date(term_start.year + 1, term_start.month, term_start.day),
                effective_date=term_start,
                event_at=datetime.now(UTC),
                event_kind="subscription.activated",
            )
        )
        await session.commit()
    return subscription_id


def money_balance(account_id: str, amount: str | None = None, **overrides: Any) -> dict[str, Any]:
    """A money balance body, with an initial grant of `amount` when given."""
    body: dict[str, Any] = {"account_id": account_id, "kind": "money"}
    if amount is not None:
        body["initial_grant"] = {"amount": amount}
    body.update(overrides)
    return body


def units_balance(
    account_id: str,
    quantity: int | str | None = None,
    unit_price: str = "0",
    *,
    meter: str = "support_hours",
    unit_label: str = "hours",
    **overrides: Any,
) -> dict[str, Any]:
    """A units balance body for `meter`, with an initial grant of `quantity` at `unit_price` when given."""
    body: dict[str, Any] = {
        "account_id": account_id,
        "kind": "units",
        "meter": meter,
        "unit_label": unit_label,
    }
    if quantity is not None:
        body["initial_grant"] = {"quantity": quantity, "unit_price": unit_price}
    body.update(overrides)
    return body


async def ok(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    """The JSON of a response that must have `status` (the problem is shown otherwise)."""
    assert response.status_code == status, response.text
    data: dict[str, Any] = response.json()
    return data


async def create(client: httpx.AsyncClient, body: dict[str, Any]) -> dict[str, Any]:
    """POST a balance; its view."""
    return await ok(await client.post("/v1/balances", json=body, headers=FINANCE), 201)


async def outbox_payloads(app: FastAPI, event_type: str) -> list[dict[str, Any]]:
    """Payloads of the events of one type the service wrote to its outbox, oldest first."""
    async with app.state.runtime.db.session() as session:
        rows = (
            await session.exec(
                select(OutboxMessage)
                .where(OutboxMessage.event_type == event_type)
                .order_by(col(OutboxMessage.id))
            )
        ).all()
    return [json.loads(row.body)["payload"] for row in rows]


def kinds(view: dict[str, Any]) -> list[tuple[str, str]]:
    """(kind, quantity) of a balance view's transactions, oldest first."""
    return [(t["kind"], t["quantity"]) for t in view["transactions"]]
