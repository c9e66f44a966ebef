"""A discount above its approval threshold holds the order until finance approves it."""

from __future__ import annotations

import httpx

from tests.catalog.integration import factories as catalog_factories
from tests.e2e.journeys import (
    ADMIN,
    created,
    customer_account,
    order_seats,
    resold_wfm_seats,
    submit,
    workflows_of,
)
from tests.provisioning.integration.factories import CRM, FINANCE, OPS, ok


async def test_discount_over_threshold_waits_for_finance_approval(
    catalog: httpx.AsyncClient, provisioning: httpx.AsyncClient
) -> None:
    seats = await resold_wfm_seats(catalog)
    strategic = await created(
        catalog,
        "/v1/discounts",
        catalog_factories.discount(name="Strategic 20%", value="20", approval_threshold_percent="15"),
        ADMIN,
    )
    account = await customer_account(provisioning)
    order = await order_seats(
        provisioning, account.account_id, seats.price_id, discount_ids=[strategic["id"]]
    )
    (priced,) = order["lines"]
    # 20 % off 3,000.00 a month is above the 15 % the discount allows without approval.
    assert (priced["list_amount"], priced["discount_amount"], priced["net_amount"]) == (
        "3000.00",
        "600.00",
        "2400.00",
    )
    assert priced["needs_approval"] is True

    submitted = await submit(provisioning, order["id"])
    assert (submitted["status"], submitted["approval_required"]) == ("submitted", True)
    assert await workflows_of(provisioning, order["id"]) == []

    refused = await provisioning.post(f"/v1/orders/{order['id']}/approve", headers=CRM)
    assert refused.status_code == 403, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    still = await ok(await provisioning.get(f"/v1/orders/{order['id']}", headers=OPS))
    assert still["status"] == "submitted"

    approved = await ok(await provisioning.post(f"/v1/orders/{order['id']}/approve", headers=FINANCE))
    assert approved["status"] == "approved"
    assert approved["approved_by"]
    (workflow,) = await workflows_of(provisioning, order["id"])
    assert (workflow["template_name"], workflow["status"]) == ("resold_wfm_seats", "running")
