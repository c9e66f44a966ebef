"""Subscription lifecycle: suspend, resume, change, cancel, with history and refused transitions."""

from __future__ import annotations

import httpx

from tests.provisioning.integration.factories import (
    CRM,
    FINANCE,
    OPS,
    active_subscription,
    customer_with_account,
    ok,
)


async def test_lifecycle_with_effective_dated_history(any_db_client: httpx.AsyncClient) -> None:
    client = any_db_client
    _, account_id = await customer_with_account(client)
    sub_id = await active_subscription(client, account_id)
    base = f"/v1/subscriptions/{sub_id}"

    assert (await client.post(f"{base}/resume", json={}, headers=CRM)).status_code == 409
    suspended = await ok(
        await client.post(
            f"{base}/suspend", json={"effective_date": "2027-03-01", "reason": "fraud check"}, headers=FINANCE
        )
    )
    assert suspended["state"] == "suspended"
    assert (await client.post(f"{base}/suspend", json={}, headers=FINANCE)).status_code == 409
    assert (
        await ok(await client.post(f"{base}/resume", json={"effective_date": "2027-03-05"}, headers=FINANCE))
    )["state"] == "active"

    upgraded = await ok(
        await client.post(
            f"{base}/change", json={"effective_date": "2027-04-01", "quantity": 15}, headers=CRM
        )
    )
    assert upgraded["quantity"] == "15"
    extended = await ok(
        await client.post(
            f"{base}/change", json={"effective_date": "2027-06-01", "term_end": "2029-01-01"}, headers=CRM
        )
    )
    assert extended["term_end"] == "2029-01-01"
    refused = await client.post(
        f"{base}/change", json={"effective_date": "2030-01-01", "quantity": 3}, headers=CRM
    )
    assert refused.status_code == 422
    assert (await ok(await client.get(base, headers=OPS)))["quantity"] == "15"  # nothing changed

    cancelled = await ok(
        await client.post(
            f"{base}/cancel", json={"effective_date": "2027-09-01", "reason": "moved"}, headers=CRM
        )
    )
    assert cancelled["state"] == "cancelled"
    assert (await client.post(f"{base}/resume", json={}, headers=CRM)).status_code == 409
    assert (
        await client.post(f"{base}/change", json={"effective_date": "2027-10-01", "quantity": 2}, headers=CRM)
    ).status_code == 409

    history = (await ok(await client.get(f"{base}/history", headers=OPS)))["data"]
    assert [(h["kind"], h["effective_date"]) for h in history] == [
        ("activate", "2027-01-01"),
        ("suspend", "2027-03-01"),
        ("resume", "2027-03-05"),
        ("upgrade", "2027-04-01"),
        ("term_change", "2027-06-01"),
        ("cancel", "2027-09-01"),
    ]
    assert (history[3]["before"]["quantity"], history[3]["after"]["quantity"]) == ("10", "15")
    assert history[1]["reason"] == "fraud check"

    audit = (await ok(await client.get(f"/v1/audit-log?entity_id={sub_id}", headers=FINANCE)))["data"]
    assert {"subscription.suspended", "subscription.changed", "subscription.cancelled"} <= {
        a["action"] for a in audit
    }


async def test_unknown_subscription_is_404_and_ops_is_read_only(client: httpx.AsyncClient) -> None:
    assert (await client.get("/v1/subscriptions/sub_nope", headers=OPS)).status_code == 404
    assert (await client.get("/v1/subscriptions/sub_nope/history", headers=OPS)).status_code == 404
    assert (await client.post("/v1/subscriptions/sub_nope/suspend", json={}, headers=CRM)).status_code == 404
    assert (await client.post("/v1/subscriptions/sub_nope/suspend", json={}, headers=OPS)).status_code == 403
