"""Request factories for the provisioning API: valid defaults, override what a test is about."""

from __future__ import annotations

import json
from typing import Any

import httpx
from fastapi import FastAPI
from sqlmodel import col, select

from libs.platform.outbox import OutboxMessage
from libs.platform.settings import Role
from tests.support.services import auth

CRM = auth(Role.CRM)
FINANCE = auth(Role.FINANCE)
ADMIN = auth(Role.ADMIN)
OPS = auth(Role.OPS)


def billing_profile(**overrides: Any) -> dict[str, Any]:
    """A USD profile billed on the 1st with a billing contact."""
    body: dict[str, Any] = {
        "currency": "USD",
        "bill_cycle_day": 1,
        "payment_terms_days": 30,
        "delivery": "email",
        "tax_address": {"country": "US", "region": "WA", "postal_code": "98101"},
        "contacts": [{"name": "Ada Payable", "email": "ap@redfin.example", "role": "billing"}],
    }
    body.update(overrides)
    return body


def line(price_id: str, quantity: int | str, **overrides: Any) -> dict[str, Any]:
    """An order line for a catalog price."""
    body: dict[str, Any] = {"price_id": price_id, "quantity": quantity}
    body.update(overrides)
    return body


async def ok(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    """The JSON of a response that must have `status` (the problem is shown otherwise)."""
    assert response.status_code == status, response.text
    data: dict[str, Any] = response.json()
    return data


async def customer_with_account(client: httpx.AsyncClient, **profile: Any) -> tuple[str, str]:
    """A customer and one account; returns (customer_id, account_id)."""
    customer = await ok(await client.post("/v1/customers", json={"name": "Redfin"}, headers=CRM), 201)
    account = await ok(
        await client.post(
            "/v1/accounts",
            json={
                "customer_id": customer["id"],
                "name": "Redfin HQ",
                "billing_profile": billing_profile(**profile),
            },
            headers=CRM,
        ),
        201,
    )
    return customer["id"], account["id"]


async def approved_order(
    client: httpx.AsyncClient, account_id: str, lines: list[dict[str, Any]]
) -> dict[str, Any]:
    """An order drafted and submitted (automatically approved: no discount above threshold)."""
    order = await ok(
        await client.post("/v1/orders", json={"account_id": account_id, "lines": lines}, headers=CRM), 201
    )
    submitted = await ok(await client.post(f"/v1/orders/{order['id']}/submit", headers=CRM))
    assert submitted["status"] == "approved", submitted
    return submitted


async def active_subscription(client: httpx.AsyncClient, account_id: str, quantity: int = 10) -> str:
    """A support subscription for 2027 walked through its one-step activation workflow."""
    order = await approved_order(
        client, account_id, [line("price_support", quantity, term_months=12, effective_date="2027-01-01")]
    )
    (workflow,) = await complete_workflows(client, order["id"])
    return str(workflow["subscription_id"])


async def complete_workflows(client: httpx.AsyncClient, order_id: str) -> list[dict[str, Any]]:
    """Every task of every workflow of an order started and completed, in order; the workflows."""
    workflows: list[dict[str, Any]] = (
        await ok(await client.get(f"/v1/workflows?order_id={order_id}", headers=OPS))
    )["data"]
    for workflow in workflows:
        for task in workflow["tasks"]:
            await ok(await client.post(f"/v1/tasks/{task['id']}/start", headers=CRM))
            await ok(await client.post(f"/v1/tasks/{task['id']}/complete", json={}, headers=CRM))
    return workflows


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
