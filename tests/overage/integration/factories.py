"""Vendors, tenants, the read model and signed notices for overage's integration tests.

EXAMPLES §1: a tenant licensed for 250 seats; the vendor's book marks up 20%; July 2026 shows 262
users, 12 over at the vendor's 10.00 — re-billed 12 x 12.00 = 144.00.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import httpx
from fastapi import FastAPI
from sqlmodel import select

from libs.contracts import catalog, provisioning
from libs.contracts.vocabulary import TierMode
from libs.platform.outbox import OutboxMessage
from overage.domain.signatures import sign
from overage.handlers import read_model
from tests.overage.integration.conftest import MovableClock, runtime_of
from tests.support.services import auth

T0 = datetime(2026, 7, 1, 9, tzinfo=UTC)


@dataclass(frozen=True)
class Tenant:
    """A vendor with its secret and one mapped tenant."""

    vendor_id: str
    secret: str
    tenant_ref: str
    tenant_id: str
    account_id: str
    subscription_id: str


def subscription_activated(
    subscription_id: str, account_id: str, quantity: str = "250"
) -> provisioning.SubscriptionActivated:
    """Seed 000's resold seats: a 3-year committed term from 2026-03-01."""
    return provisioning.SubscriptionActivated(
        subscription_id=subscription_id,
        account_id=account_id,
        product_id="prod_wfm",
        price_id="price_wfm",
        price_version=1,
        currency="USD",
        unit_price="144.00",
        discount_percent="0",
        quantity=quantity,
        commitment_quantity=quantity,
        license_type="committed",
        term_start=date(2026, 3, 1),
        term_end=date(2029, 3, 1),
        renewal="expire",
        state="active",
        effective_date=date(2026, 3, 1),
    )


def cost_book_published(cost_book_id: str = "cb_wfm", markup: str = "20") -> catalog.CostBookPublished:
    """EXAMPLES §1's vendor book (volume; 12.00 / 10.00 / 8.50 per seat per month), markup 20%."""
    return catalog.CostBookPublished(
        cost_book_id=cost_book_id,
        version=1,
        vendor_id="ven_wfm",
        currency="USD",
        mode=TierMode.VOLUME,
        markup_percent=markup,
        tiers=[
            catalog.TierTerms(up_to="100", unit_price="12.00"),
            catalog.TierTerms(up_to="500", unit_price="10.00"),
            catalog.TierTerms(unit_price="8.50"),
        ],
        effective_from=date(2026, 1, 1),
    )


async def apply_upstream(app: FastAPI, *events: Any) -> None:
    """Apply provisioning / catalog events to the read model as the consumer would (bus off)."""
    runtime = runtime_of(app)
    for event in events:
        async with runtime.overage_unit_of_work() as uow:
            if isinstance(event, catalog.CostBookPublished):
                await read_model.apply_cost_book_published(uow=uow, event=event, occurred_at=T0)
            else:
                await read_model.apply_subscription_event(uow=uow, event=event, occurred_at=T0)


async def create_vendor(client: httpx.AsyncClient, cost_book_id: str = "cb_wfm") -> tuple[str, str]:
    """A vendor with its account director; its id and its first webhook secret."""
    body = {
        "name": "Verint Monet",
        "cost_book_id": cost_book_id,
        "contacts": [
            {
                "role": "account_director",
                "name": "Brooks Morris",
                "title": "National Account Director",
                "email": "brooks.morris@vendor.example",
                "phone": "+1 310 207 2236",
            }
        ],
    }
    response = await client.post("/v1/vendors", json=body, headers=auth("finance"))
    assert response.status_code == 201, response.text
    created = response.json()
    return created["id"], created["webhook_secret"]["secret"]


async def map_tenant(
    client: httpx.AsyncClient, vendor_id: str, tenant_ref: str, account_id: str, subscription_id: str
) -> str:
    """Map a vendor tenant; its id."""
    body = {
        "vendor_id": vendor_id,
        "tenant_id": tenant_ref,
        "account_id": account_id,
        "subscription_id": subscription_id,
    }
    response = await client.post("/v1/vendor-tenants", json=body, headers=auth("finance"))
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def seeded_tenant(client: httpx.AsyncClient, app: FastAPI, *, licensed: str = "250") -> Tenant:
    """A vendor, the read model (subscription of `licensed` seats, the 20% book) and a mapped tenant."""
    vendor_id, secret = await create_vendor(client)
    await apply_upstream(app, subscription_activated("sub_wfm", "acct_wfm", licensed), cost_book_published())
    tenant_id = await map_tenant(client, vendor_id, "monet-tenant-1", "acct_wfm", "sub_wfm")
    return Tenant(vendor_id, secret, "monet-tenant-1", tenant_id, "acct_wfm", "sub_wfm")


def notice_body(
    notice_id: str,
    *,
    tenant: str = "monet-tenant-1",
    period: str = "2026-07",
    licensed: int = 250,
    actual: int = 262,
    cost: str = "10.00",
) -> bytes:
    """A notice as the vendor sends it."""
    payload = {
        "notice_id": notice_id,
        "tenant_id": tenant,
        "period": period,
        "licensed_count": licensed,
        "actual_user_count": actual,
        "overage_count": max(actual - licensed, 0),
        "vendor_unit_cost": cost,
    }
    return json.dumps(payload).encode()


def signed_headers(secret: str, body: bytes, at: datetime) -> dict[str, str]:
    """The vendor's signature headers for `body` sent at `at`."""
    timestamp = str(int(at.timestamp()))
    return {
        "X-Signature-Timestamp": timestamp,
        "X-Signature": sign(secret, timestamp, body),
        "Content-Type": "application/json",
    }


async def post_notice(
    client: httpx.AsyncClient,
    vendor_id: str,
    secret: str,
    body: bytes,
    clock: MovableClock,
    *,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """POST a notice signed now (by the service's clock)."""
    return await client.post(
        f"/v1/webhooks/vendors/{vendor_id}/overage",
        content=body,
        headers=headers if headers is not None else signed_headers(secret, body, clock.now()),
    )


async def outbox(app: FastAPI, event_type: str) -> list[dict[str, Any]]:
    """Payloads of the service's outbox rows of one type, oldest first."""
    async with runtime_of(app).db.session() as session:
        stmt = select(OutboxMessage).where(OutboxMessage.event_type == event_type).order_by(OutboxMessage.id)  # type: ignore[arg-type]
        rows = (await session.exec(stmt)).all()
    return [json.loads(row.body)["payload"] for row in rows]


async def cases(client: httpx.AsyncClient, **params: str) -> list[dict[str, Any]]:
    """Every case listed (one page)."""
    response = await client.get("/v1/overage-cases", params=params, headers=auth("ops"))
    assert response.status_code == 200, response.text
    return list(response.json()["data"])


async def case(client: httpx.AsyncClient, case_id: str) -> dict[str, Any]:
    """One case with its notices and steps."""
    response = await client.get(f"/v1/overage-cases/{case_id}", headers=auth("ops"))
    assert response.status_code == 200, response.text
    return dict(response.json())


async def act(client: httpx.AsyncClient, case_id: str, action: str, **extra: str) -> httpx.Response:
    """A case action as finance."""
    return await client.post(
        f"/v1/overage-cases/{case_id}/actions", json={"action": action, **extra}, headers=auth("finance")
    )


def amounts(payloads: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    """(period, overage count, amount) of re-bill payloads."""
    return [(p["period_start"], p["overage_count"], p["amount"]) for p in payloads]


ZERO = Decimal(0)
