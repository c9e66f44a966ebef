"""Steps a CRM or operations user takes over REST, shared by the end-to-end tests."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from libs.platform.settings import Role
from tests.catalog.integration import factories as catalog_factories
from tests.catalog.integration.factories import tier
from tests.provisioning.integration.factories import CRM, OPS, billing_profile, line, ok
from tests.support.services import auth

ADMIN = auth(Role.ADMIN)
WFM_STEPS = [
    "verify_order_lines",
    "request_vendor_quote",
    "submit_purchase_request",
    "vendor_paperwork_signed",
    "kickoff_scheduled",
]


@dataclass(frozen=True)
class ResoldSeats:
    """A resold WFM seat in the catalog: its vendor, cost book, product and cost-plus price."""

    vendor_id: str
    cost_book_id: str
    product_id: str
    price_id: str
    price_version: int


@dataclass(frozen=True)
class Account:
    """A customer and its billing account."""

    customer_id: str
    account_id: str


async def created(client: httpx.AsyncClient, path: str, body: dict[str, Any], headers: Any) -> dict[str, Any]:
    """POST a new resource that must answer 201; the resource."""
    return await ok(await client.post(path, json=body, headers=headers), 201)


async def resold_wfm_seats(catalog: httpx.AsyncClient, **price_terms: Any) -> ResoldSeats:
    """Seed 000: a vendor's seats on a volume book 1-100 12.00, 101-500 10.00, 501+ 8.50, +20 %
    (a monthly cost-plus price unless `price_terms` say otherwise)."""
    vendor_id = f"ven_wfm_{uuid.uuid4().hex[:8]}"
    book = await created(
        catalog,
        "/v1/vendor-cost-books",
        catalog_factories.cost_book(
            vendor_id=vendor_id,
            name="WFM seats",
            mode="volume",
            markup_percent="20",
            tiers=[tier("100", "12.00"), tier("500", "10.00"), tier(None, "8.50")],
        ),
        ADMIN,
    )
    product = await created(
        catalog,
        "/v1/products",
        catalog_factories.product(
            sku=f"WFM-SEAT-{uuid.uuid4().hex[:8]}", name="WFM seat", vendor_id=vendor_id
        ),
        ADMIN,
    )
    price = await created(
        catalog,
        "/v1/prices",
        catalog_factories.cost_plus_price(
            product["id"], book["id"], **{"effective_from": "2026-01-01", **price_terms}
        ),
        ADMIN,
    )
    return ResoldSeats(vendor_id, book["id"], product["id"], price["id"], int(price["version"]))


async def customer_account(provisioning: httpx.AsyncClient) -> Account:
    """A customer with a USD account billed on the 1st, with a tax address and a billing contact."""
    customer = await created(provisioning, "/v1/customers", {"name": "Redfin Logistics"}, CRM)
    account = await created(
        provisioning,
        "/v1/accounts",
        {"customer_id": customer["id"], "name": "Redfin HQ", "billing_profile": billing_profile()},
        CRM,
    )
    return Account(customer["id"], account["id"])


async def order_seats(
    provisioning: httpx.AsyncClient, account_id: str, price_id: str, **line_terms: Any
) -> dict[str, Any]:
    """A draft order for 250 seats on a 36-month term from 2026-03-01."""
    terms = {"term_months": 36, "effective_date": "2026-03-01", **line_terms}
    body = {"account_id": account_id, "lines": [line(price_id, 250, **terms)]}
    return await created(provisioning, "/v1/orders", body, CRM)


async def submit(provisioning: httpx.AsyncClient, order_id: str) -> dict[str, Any]:
    """Submit an order to contracts."""
    return await ok(await provisioning.post(f"/v1/orders/{order_id}/submit", headers=CRM))


async def workflows_of(provisioning: httpx.AsyncClient, order_id: str) -> list[dict[str, Any]]:
    """The provisioning workflows an order started."""
    page = await ok(await provisioning.get("/v1/workflows", params={"order_id": order_id}, headers=OPS))
    return list(page["data"])


async def tasks_of(provisioning: httpx.AsyncClient, workflow_id: str) -> list[dict[str, Any]]:
    """A workflow's tasks, read through the task list filtered by the workflow."""
    params = {"workflow_id": workflow_id, "limit": 100}
    page = await ok(await provisioning.get("/v1/tasks", params=params, headers=OPS))
    assert not page["has_more"]
    return list(page["data"])


async def walk_workflow(provisioning: httpx.AsyncClient, workflow_id: str) -> list[str]:
    """Start and complete each task as it becomes ready until none is left; the keys, in order."""
    walked: list[str] = []
    while True:
        tasks = await tasks_of(provisioning, workflow_id)
        done = {t["key"] for t in tasks if t["state"] == "done"}
        if len(done) == len(tasks):
            return walked
        ready = [t for t in tasks if t["state"] == "open" and set(t["requires"]) <= done]
        assert ready, f"unfinished tasks but none ready: {tasks}"
        task = ready[0]
        started = await ok(await provisioning.post(f"/v1/tasks/{task['id']}/start", headers=CRM))
        assert started["state"] == "in_progress"
        completed = await ok(
            await provisioning.post(f"/v1/tasks/{task['id']}/complete", json={}, headers=CRM)
        )
        assert completed["state"] == "done"
        walked.append(task["key"])
