"""Subscription terms agreed per order line: renewal policy and commitment, end to end."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.provisioning.fakes import InMemoryCatalog
from tests.provisioning.integration.factories import (
    CRM,
    OPS,
    approved_order,
    customer_with_account,
    line,
    ok,
    outbox_payloads,
)

AUTO_RENEW_12 = {"policy": "auto_renew", "months": 12}


@pytest.fixture(autouse=True)
def committed_seats(catalog: InMemoryCatalog) -> None:
    """A recurring committed license: committed seats billed monthly."""
    catalog.add_product("prod_seats", price_id="price_seats", unit_price="20.00", license_type="committed")


async def _subscriptions(client: httpx.AsyncClient, order_id: str) -> dict[str, dict[str, Any]]:
    page = await ok(await client.get(f"/v1/subscriptions?order_id={order_id}", headers=OPS))
    return {sub["price_id"]: sub for sub in page["data"]}


async def test_line_terms_flow_into_the_subscriptions(any_db_client: httpx.AsyncClient) -> None:
    client = any_db_client
    _, account_id = await customer_with_account(client)
    order = await approved_order(
        client,
        account_id,
        [
            line("price_support", 10, renewal=AUTO_RENEW_12, commitment_quantity=4),
            line("price_seats", 50),
            line("price_wfm", 25, renewal={"policy": "expire"}, commitment_quantity="0"),
        ],
    )
    support, seats, wfm = order["lines"]
    assert (support["renewal"], support["commitment_quantity"]) == (AUTO_RENEW_12, "4")
    # Defaults: expire; a committed license commits its whole quantity, anything else nothing.
    assert (seats["renewal"], seats["commitment_quantity"]) == ({"policy": "expire", "months": None}, "50")
    assert (wfm["renewal"]["policy"], wfm["commitment_quantity"]) == ("expire", "0")

    subs = await _subscriptions(client, order["id"])
    assert {
        price: (sub["renewal"], sub["renewal_months"], sub["commitment_quantity"])
        for price, sub in subs.items()
    } == {
        "price_support": ("auto_renew", 12, "4"),
        "price_seats": ("expire", None, "50"),
        "price_wfm": ("expire", None, "0"),
    }


async def test_a_commitment_above_the_quantity_is_refused_and_creates_nothing(
    any_db_client: httpx.AsyncClient,
) -> None:
    client = any_db_client
    _, account_id = await customer_with_account(client)
    refused = await client.post(
        "/v1/orders",
        json={
            "account_id": account_id,
            "lines": [line("price_support", 10), line("price_seats", 5, commitment_quantity=6)],
        },
        headers=CRM,
    )
    assert refused.status_code == 422
    assert [(e["field"], e["code"]) for e in refused.json()["errors"]] == [
        ("lines.1.commitment_quantity", "above_quantity")
    ]
    missing_months = await client.post(
        "/v1/orders",
        json={
            "account_id": account_id,
            "lines": [line("price_support", 1, renewal={"policy": "auto_renew"})],
        },
        headers=CRM,
    )
    assert missing_months.status_code == 422
    assert (await ok(await client.get(f"/v1/orders?account_id={account_id}", headers=OPS)))["data"] == []

    # A draft's added line is checked the same way, and the draft keeps its lines.
    draft = await ok(
        await client.post(
            "/v1/orders", json={"account_id": account_id, "lines": [line("price_support", 2)]}, headers=CRM
        ),
        201,
    )
    added = await client.post(
        f"/v1/orders/{draft['id']}/lines",
        json={"lines": [line("price_seats", 3, commitment_quantity="3.5")]},
        headers=CRM,
    )
    assert added.status_code == 422
    assert added.json()["errors"][0]["field"] == "lines.1.commitment_quantity"
    assert len((await ok(await client.get(f"/v1/orders/{draft['id']}", headers=OPS)))["lines"]) == 1


async def test_amendment_lines_do_not_take_terms(client: httpx.AsyncClient) -> None:
    _, account_id = await customer_with_account(client)
    order = await approved_order(client, account_id, [line("price_support", 10)])
    sub_id = (await _subscriptions(client, order["id"]))["price_support"]["id"]
    refused = await client.post(
        "/v1/orders",
        json={
            "account_id": account_id,
            "kind": "amendment",
            "lines": [
                {
                    "subscription_id": sub_id,
                    "quantity": 12,
                    "effective_date": "2027-03-01",
                    "renewal": AUTO_RENEW_12,
                    "commitment_quantity": 1,
                }
            ],
        },
        headers=CRM,
    )
    assert refused.status_code == 422
    assert {e["field"] for e in refused.json()["errors"]} == {
        "lines.0.renewal",
        "lines.0.commitment_quantity",
    }


async def test_terms_reach_the_events(client: httpx.AsyncClient, provisioning_app: FastAPI) -> None:
    _, account_id = await customer_with_account(client)
    order = await approved_order(
        client,
        account_id,
        [
            line(
                "price_support",
                10,
                term_months=12,
                effective_date="2027-01-01",
                renewal=AUTO_RENEW_12,
                commitment_quantity=8,
            )
        ],
    )
    approved = (await outbox_payloads(provisioning_app, "order.approved"))[0]
    assert (
        approved["lines"][0]["renewal"],
        approved["lines"][0]["renewal_months"],
        approved["lines"][0]["commitment_quantity"],
    ) == ("auto_renew", 12, "8")
    workflow = (await ok(await client.get(f"/v1/workflows?order_id={order['id']}", headers=OPS)))["data"][0]
    for task in workflow["tasks"]:
        await ok(await client.post(f"/v1/tasks/{task['id']}/start", headers=CRM))
        await ok(await client.post(f"/v1/tasks/{task['id']}/complete", json={}, headers=CRM))
    activated = (await outbox_payloads(provisioning_app, "subscription.activated"))[0]
    assert (activated["renewal"], activated["renewal_months"], activated["commitment_quantity"]) == (
        "auto_renew",
        12,
        "8",
    )


async def test_deal_conversion_lines_take_terms(any_db_client: httpx.AsyncClient) -> None:
    client = any_db_client
    partner = await ok(await client.post("/v1/partners", json={"name": "Acme Partners"}, headers=CRM), 201)
    deal = await ok(
        await client.post(
            "/v1/deal-registrations",
            json={
                "partner_id": partner["id"],
                "opportunity_name": "Redfin seats",
                "opportunity_details": "50 committed seats",
                "customer_company_name": "Redfin",
                "agreement_contact": {"name": "Jo Buyer", "email": "jo@redfin.example"},
                "licensing": {
                    "currency": "USD",
                    "license_type": "new_license",
                    "start_date": "2027-01-01",
                    "end_date": "2030-01-01",
                },
                "project_description": "Seats for the planners",
            },
            headers=CRM,
        ),
        201,
    )
    over = await client.post(
        f"/v1/deal-registrations/{deal['id']}/convert",
        json={"lines": [line("price_seats", 50, commitment_quantity=51)]},
        headers=CRM,
    )
    assert over.status_code == 422
    assert over.json()["errors"][0]["field"] == "lines.0.commitment_quantity"
    assert (await ok(await client.get("/v1/customers", headers=OPS)))["data"] == []

    conversion = await ok(
        await client.post(
            f"/v1/deal-registrations/{deal['id']}/convert",
            json={
                "lines": [
                    line(
                        "price_seats",
                        50,
                        renewal={"policy": "auto_renew", "months": 36},
                        commitment_quantity=40,
                    )
                ]
            },
            headers=CRM,
        ),
        201,
    )
    converted_line = conversion["order"]["lines"][0]
    assert (converted_line["renewal"], converted_line["commitment_quantity"]) == (
        {"policy": "auto_renew", "months": 36},
        "40",
    )
    submitted = await ok(await client.post(f"/v1/deal-registrations/{deal['id']}/submit", headers=CRM))
    sub = (await _subscriptions(client, submitted["id"]))["price_seats"]
    assert (sub["renewal"], sub["renewal_months"], sub["commitment_quantity"]) == ("auto_renew", 36, "40")
    assert (sub["term_start"], sub["term_end"]) == ("2027-01-01", "2030-01-01")
