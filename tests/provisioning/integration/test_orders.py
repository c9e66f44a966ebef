"""Sales orders priced by the catalog: approval above a discount threshold, cancel, amendments."""

from __future__ import annotations

import httpx

from tests.provisioning.fakes import InMemoryCatalog
from tests.provisioning.integration.factories import (
    CRM,
    FINANCE,
    OPS,
    approved_order,
    customer_with_account,
    line,
    ok,
)


async def test_discount_over_threshold_waits_for_finance(
    client: httpx.AsyncClient, catalog: InMemoryCatalog
) -> None:
    _, account_id = await customer_with_account(client)
    order = await ok(
        await client.post(
            "/v1/orders",
            json={
                "account_id": account_id,
                "lines": [
                    line("price_support", 8, discount_ids=["disc_strategic"], term_months=24),
                    line("price_wfm", 250, term_months=36),
                ],
            },
            headers=CRM,
        ),
        201,
    )
    strategic = order["lines"][0]
    # 8 x 300.00 = 2,400.00 at 25 % off (threshold 15 %): 600.00 off, needs approval.
    assert (strategic["list_amount"], strategic["discount_amount"], strategic["net_amount"]) == (
        "2400.00",
        "600.00",
        "1800.00",
    )
    assert strategic["discounts"][0]["approval_threshold_percent"] == "15"
    assert strategic["needs_approval"] is True
    assert strategic["price_version"] == 1
    assert order["net_total"] == "4800.00"  # 1,800.00 + 250 x 12.00
    calls_before = catalog.quote_calls

    submitted = await ok(await client.post(f"/v1/orders/{order['id']}/submit", headers=CRM))
    assert submitted["status"] == "submitted" and submitted["approval_required"] is True
    assert catalog.quote_calls == calls_before + 1  # one quote prices every line
    assert (await client.get(f"/v1/subscriptions?account_id={account_id}", headers=OPS)).json()["data"] == []

    assert (await client.post(f"/v1/orders/{order['id']}/approve", headers=CRM)).status_code == 403
    assert (await client.post(f"/v1/orders/{order['id']}/approve", headers=OPS)).status_code == 403
    still = await ok(await client.get(f"/v1/orders/{order['id']}", headers=OPS))
    assert still["status"] == "submitted"

    approved = await ok(await client.post(f"/v1/orders/{order['id']}/approve", headers=FINANCE))
    assert approved["status"] == "approved"
    assert approved["approved_by"].startswith("finance:")
    subscriptions = (await ok(await client.get(f"/v1/subscriptions?account_id={account_id}", headers=OPS)))[
        "data"
    ]
    assert sorted(s["state"] for s in subscriptions) == ["pending", "pending"]
    assert (await client.post(f"/v1/orders/{order['id']}/approve", headers=FINANCE)).status_code == 409
    assert (await client.post(f"/v1/orders/{order['id']}/cancel", json={}, headers=CRM)).status_code == 409


async def test_pricing_problems(client: httpx.AsyncClient, catalog: InMemoryCatalog) -> None:
    _, account_id = await customer_with_account(client)
    bad = await client.post(
        "/v1/orders",
        json={
            "account_id": account_id,
            "lines": [
                line("price_nope", 1),
                line("price_eur", 1),
                line("price_support", 0),
                line("price_support", 1, discount_ids=["disc_nope"]),
            ],
        },
        headers=CRM,
    )
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {
        "lines.0.price_id",
        "lines.1.price_id",
        "lines.2.quantity",
        "lines.3.discount_ids.0",
    }
    money_as_number = await client.post(
        "/v1/orders", json={"account_id": account_id, "lines": [line("price_support", 1.5)]}, headers=CRM
    )
    assert money_as_number.status_code == 422
    assert (await ok(await client.get(f"/v1/orders?account_id={account_id}", headers=OPS)))["data"] == []

    catalog.unavailable = True
    down = await client.post(
        "/v1/orders", json={"account_id": account_id, "lines": [line("price_support", 1)]}, headers=CRM
    )
    assert down.status_code == 503
    assert down.json()["detail"] == "catalog unavailable"
    assert down.headers["content-type"].startswith("application/problem+json")


async def test_draft_lines_cancel_and_illegal_transitions(client: httpx.AsyncClient) -> None:
    _, account_id = await customer_with_account(client)
    order = await ok(await client.post("/v1/orders", json={"account_id": account_id}, headers=CRM), 201)
    assert (await client.post(f"/v1/orders/{order['id']}/submit", headers=CRM)).status_code == 422
    added = await ok(
        await client.post(
            f"/v1/orders/{order['id']}/lines",
            json={"lines": [line("price_support", 2), line("price_support", 3)]},
            headers=CRM,
        )
    )
    assert [ln["quantity"] for ln in added["lines"]] == ["2", "3"]
    removed = await ok(
        await client.delete(f"/v1/orders/{order['id']}/lines/{added['lines'][0]['id']}", headers=CRM)
    )
    assert [ln["quantity"] for ln in removed["lines"]] == ["3"]
    assert removed["net_total"] == "900.00"
    cancelled = await ok(
        await client.post(f"/v1/orders/{order['id']}/cancel", json={"reason": "lost"}, headers=CRM)
    )
    assert cancelled["status"] == "cancelled"
    assert (await client.post(f"/v1/orders/{order['id']}/submit", headers=CRM)).status_code == 409
    assert (
        await client.post(
            f"/v1/orders/{order['id']}/lines", json={"lines": [line("price_support", 1)]}, headers=CRM
        )
    ).status_code == 409
    assert (await client.get("/v1/orders/ord_nope", headers=OPS)).status_code == 404
    assert (await client.post("/v1/orders/ord_nope/submit", headers=CRM)).status_code == 404


async def test_amendment_changes_quantity_and_term_from_effective_date(client: httpx.AsyncClient) -> None:
    _, account_id = await customer_with_account(client)
    order = await approved_order(
        client, account_id, [line("price_support", 10, term_months=12, effective_date="2027-01-01")]
    )
    subscription = (await ok(await client.get(f"/v1/subscriptions?order_id={order['id']}", headers=OPS)))[
        "data"
    ][0]
    amendment = await ok(
        await client.post(
            "/v1/orders",
            json={
                "account_id": account_id,
                "kind": "amendment",
                "lines": [
                    {
                        "subscription_id": subscription["id"],
                        "quantity": 14,
                        "term_months": 24,
                        "effective_date": "2027-04-01",
                    }
                ],
            },
            headers=CRM,
        ),
        201,
    )
    assert amendment["lines"][0]["price_id"] == "price_support"
    done = await ok(await client.post(f"/v1/orders/{amendment['id']}/submit", headers=CRM))
    assert done["status"] == "fulfilled"
    changed = await ok(await client.get(f"/v1/subscriptions/{subscription['id']}", headers=OPS))
    assert (changed["quantity"], changed["term_end"]) == ("14", "2029-01-01")
    history = (await ok(await client.get(f"/v1/subscriptions/{subscription['id']}/history", headers=OPS)))[
        "data"
    ]
    assert [(h["kind"], h["effective_date"]) for h in history] == [
        ("quantity_change", "2027-04-01"),
        ("term_change", "2027-04-01"),
    ]
