"""Factories of the balance tests: bodies of balance requests and a clock a test can move (the
read model and the outbox: `factories.py`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

import httpx

from libs.platform.settings import Role
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


def kinds(view: dict[str, Any]) -> list[tuple[str, str]]:
    """(kind, quantity) of a balance view's transactions, oldest first."""
    return [(t["kind"], t["quantity"]) for t in view["transactions"]]
