"""License fulfillment (seed 003): committed bundles launched in cohorts, a pay-as-you-go workshop."""

from __future__ import annotations

from decimal import Decimal

import httpx
from fastapi import FastAPI

from tests.provisioning.integration.factories import (
    CRM,
    OPS,
    approved_order,
    customer_with_account,
    line,
    ok,
    outbox_payloads,
)

BUNDLE = ("price_accelerate", "price_ws_seat", "price_assessment")


async def test_committed_bundle_launched_in_two_cohorts(client: httpx.AsyncClient) -> None:
    _, account_id = await customer_with_account(client)
    order = await approved_order(
        client, account_id, [*(line(p, 300) for p in BUNDLE), line("price_workshop", 2)]
    )
    parts = {ln["price_id"]: ln["id"] for ln in order["lines"]}

    # Mass launch of 100 users, no workshop known: completed at once, nothing to invoice.
    launch = await ok(
        await client.post(
            "/v1/fulfillments",
            json={
                "order_id": order["id"],
                "status": "completed",
                "completed_on": "2027-01-15",
                "lines": [{"order_line_id": parts[p], "quantity": 100} for p in BUNDLE],
            },
            headers=CRM,
        ),
        201,
    )
    assert launch["billable_total"] == "0.00"
    balance = await ok(await client.get(f"/v1/orders/{order['id']}/commitments", headers=OPS))
    assert [(b["committed"], b["launched"], b["remaining"]) for b in balance["lines"]] == [
        ("300", "100", "200")
    ] * 3

    # A cohort of 10 for a virtual workshop, scheduled, then 12.
    cohort = await ok(
        await client.post(
            "/v1/fulfillments",
            json={
                "order_id": order["id"],
                "associated_project_id": "vilt-2027-02",
                "lines": [
                    *({"order_line_id": parts[p], "quantity": 10} for p in BUNDLE),
                    {"order_line_id": parts["price_workshop"], "quantity": 1},
                ],
            },
            headers=CRM,
        ),
        201,
    )
    assert cohort["status"] == "scheduled"
    grown = await ok(
        await client.patch(
            f"/v1/fulfillments/{cohort['id']}",
            json={"lines": [{"order_line_id": parts[p], "quantity": 12} for p in BUNDLE]},
            headers=CRM,
        )
    )
    assert [ln["quantity"] for ln in grown["lines"]] == ["12", "12", "12", "1"]
    done = await ok(
        await client.post(
            f"/v1/fulfillments/{cohort['id']}/complete", json={"completed_on": "2027-02-20"}, headers=CRM
        )
    )
    # Only the workshop itself is invoiced: 1 x 5,000.00.
    assert done["billable_total"] == "5000.00"
    balance = await ok(await client.get(f"/v1/orders/{order['id']}/commitments", headers=OPS))
    assert [b["remaining"] for b in balance["lines"]] == ["188", "188", "188"]

    assert (
        await client.post(f"/v1/fulfillments/{cohort['id']}/complete", json={}, headers=CRM)
    ).status_code == 409
    assert (
        await client.patch(
            f"/v1/fulfillments/{cohort['id']}",
            json={"lines": [{"order_line_id": parts["price_accelerate"], "quantity": 5}]},
            headers=CRM,
        )
    ).status_code == 409

    # More than remains is refused and consumes nothing.
    over = await client.post(
        "/v1/fulfillments",
        json={
            "order_id": order["id"],
            "lines": [{"order_line_id": parts["price_accelerate"], "quantity": 189}],
        },
        headers=CRM,
    )
    assert over.status_code == 422
    balance = await ok(await client.get(f"/v1/orders/{order['id']}/commitments", headers=OPS))
    assert balance["lines"][0]["remaining"] == "188"


async def test_pay_as_you_go_workshop_bills_actuals_in_one_event(
    client: httpx.AsyncClient, provisioning_app: FastAPI
) -> None:
    _, account_id = await customer_with_account(client)
    order = await approved_order(
        client,
        account_id,
        [line("price_platform", 20), line("price_ws_license", 20), line("price_workshop", 1)],
    )
    platform, ws_license, workshop = (ln["id"] for ln in order["lines"])
    scheduled = await ok(
        await client.post(
            "/v1/fulfillments",
            json={
                "order_id": order["id"],
                "associated_project_id": "sigura-solution-selling",
                "lines": [
                    {"order_line_id": platform, "quantity": 15},
                    {"order_line_id": ws_license, "quantity": 15},
                    {"order_line_id": workshop, "quantity": 1},
                ],
            },
            headers=CRM,
        ),
        201,
    )
    assert await outbox_payloads(provisioning_app, "fulfillment.completed") == []
    await ok(
        await client.patch(
            f"/v1/fulfillments/{scheduled['id']}",
            json={"lines": [{"order_line_id": ws_license, "quantity": 12}]},
            headers=CRM,
        )
    )
    completed = await ok(
        await client.post(
            f"/v1/fulfillments/{scheduled['id']}/complete", json={"completed_on": "2027-03-12"}, headers=CRM
        )
    )
    # 15 x 150.00 + 12 x 400.00 + 1 x 5,000.00 = 2,250.00 + 4,800.00 + 5,000.00
    assert [ln["billable_amount"] for ln in completed["lines"]] == ["2250.00", "4800.00", "5000.00"]
    assert completed["billable_total"] == "12050.00"

    events = await outbox_payloads(provisioning_app, "fulfillment.completed")
    assert len(events) == 1
    event = events[0]
    assert (event["associated_project_id"], event["completed_on"], event["currency"]) == (
        "sigura-solution-selling",
        "2027-03-12",
        "USD",
    )
    billed = sum(Decimal(ln["billable_quantity"]) * Decimal(ln["unit_price"]) for ln in event["lines"])
    assert billed == Decimal("12050.00")
    assert [(ln["consumed_quantity"], ln["billable_quantity"]) for ln in event["lines"]] == [
        ("15", "15"),
        ("12", "12"),
        ("1", "1"),
    ]


async def test_fulfillment_refusals(client: httpx.AsyncClient) -> None:
    _, account_id = await customer_with_account(client)
    draft = await ok(
        await client.post(
            "/v1/orders", json={"account_id": account_id, "lines": [line("price_platform", 5)]}, headers=CRM
        ),
        201,
    )
    on_draft = await client.post(
        "/v1/fulfillments",
        json={"order_id": draft["id"], "lines": [{"order_line_id": draft["lines"][0]["id"], "quantity": 1}]},
        headers=CRM,
    )
    assert on_draft.status_code == 409
    unknown_order = await client.post(
        "/v1/fulfillments",
        json={"order_id": "ord_nope", "lines": [{"order_line_id": "oli_x", "quantity": 1}]},
        headers=CRM,
    )
    assert unknown_order.status_code == 404
    assert (await client.get("/v1/fulfillments/ful_nope", headers=OPS)).status_code == 404
