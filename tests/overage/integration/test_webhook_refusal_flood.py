"""Refused webhook calls are recorded without a flood filling the database (SQLite and PostgreSQL):
identical refusals (same vendor, reason, status and body) within the window are counted on one
record with when it was first and last seen; after the window a new record starts; a flood of
different bodies stops adding records at the cap of the window and is counted on the reason's
latest record. Every refusal still answers 401 and is counted; an operator lists the records."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from fastapi import FastAPI

from overage.app import create_app
from overage.domain.rejections import DEFAULT_REJECTION_POLICY
from tests.overage.integration.conftest import MovableClock, overage_settings
from tests.overage.integration.factories import notice_body, post_notice, seeded_tenant, signed_headers
from tests.support.services import auth, running_app


async def _rejections(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    params: dict[str, str] = {"limit": "100"}
    while True:
        response = await client.get("/v1/webhook-rejections", params=params, headers=auth("ops"))
        assert response.status_code == 200, response.text
        found.extend(response.json()["data"])
        if not response.json()["has_more"]:
            return found
        params["cursor"] = response.json()["next_cursor"]


async def test_identical_refusals_are_counted_on_one_record_per_window(
    client: httpx.AsyncClient, overage_app: FastAPI, clock: MovableClock
) -> None:
    tenant = await seeded_tenant(client, overage_app)
    body = notice_body("monet-2026-07")
    first_at = clock.now()
    for _ in range(25):
        answer = await post_notice(client, tenant.vendor_id, "not-the-secret", body, clock)
        assert answer.status_code == 401
        clock.advance(timedelta(seconds=2))
    # A stale timestamp is another refusal: its own record.
    stale = await client.post(
        f"/v1/webhooks/vendors/{tenant.vendor_id}/overage",
        content=body,
        headers=signed_headers(tenant.secret, body, clock.now() - timedelta(minutes=10)),
    )
    assert stale.status_code == 401

    records = await _rejections(client)
    assert [(r["reason"], r["count"]) for r in records] == [("bad_signature", 25), ("stale_timestamp", 1)]
    flood = records[0]
    assert flood["first_seen_at"].startswith(first_at.strftime("%Y-%m-%dT%H:%M:%S"))
    assert flood["last_seen_at"].startswith((first_at + timedelta(seconds=48)).strftime("%Y-%m-%dT%H:%M:%S"))

    # After the window, the same refusal opens a new record.
    clock.advance(timedelta(seconds=DEFAULT_REJECTION_POLICY.window_s + 1))
    assert (await post_notice(client, tenant.vendor_id, "not-the-secret", body, clock)).status_code == 401
    records = await _rejections(client)
    assert [(r["reason"], r["count"]) for r in records] == [
        ("bad_signature", 25),
        ("stale_timestamp", 1),
        ("bad_signature", 1),
    ]


async def test_a_flood_of_different_bodies_stops_at_the_cap_and_is_still_counted(
    client: httpx.AsyncClient, overage_app: FastAPI, clock: MovableClock
) -> None:
    tenant = await seeded_tenant(client, overage_app)
    cap = DEFAULT_REJECTION_POLICY.records_per_window
    calls = cap + 30
    for n in range(calls):
        body = notice_body(f"forged-{n}")
        answer = await post_notice(client, tenant.vendor_id, "not-the-secret", body, clock)
        assert answer.status_code == 401
    records = await _rejections(client)
    assert len(records) == cap
    assert {r["reason"] for r in records} == {"bad_signature"}
    assert sum(r["count"] for r in records) == calls
    assert records[-1]["count"] == 31


async def test_the_window_and_the_cap_are_settings(database_url: str, clock: MovableClock) -> None:
    app = create_app(
        overage_settings(database_url, rejection_window_s=10, rejection_records_per_window=3), clock=clock
    )
    async with running_app(app) as http:
        tenant = await seeded_tenant(http, app)
        for n in range(5):
            body = notice_body(f"forged-{n}")
            assert (
                await post_notice(http, tenant.vendor_id, "not-the-secret", body, clock)
            ).status_code == 401
        assert [r["count"] for r in await _rejections(http)] == [1, 1, 3]
        clock.advance(timedelta(seconds=11))
        body = notice_body("forged-0")
        assert (await post_notice(http, tenant.vendor_id, "not-the-secret", body, clock)).status_code == 401
        assert [r["count"] for r in await _rejections(http)] == [1, 1, 3, 1]
