"""The signed webhook on SQLite and PostgreSQL: a notice is stored, acknowledged and worked into
its tenant's case; every attack is refused (or deduplicated), recorded, and changes no case;
rotation keeps the old secret valid through its overlap only; an unmapped tenant waits in review."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import httpx
from fastapi import FastAPI

from tests.overage.integration.conftest import MovableClock, runtime_of
from tests.overage.integration.factories import (
    amounts,
    case,
    cases,
    map_tenant,
    notice_body,
    outbox,
    post_notice,
    seeded_tenant,
    signed_headers,
)
from tests.support.services import auth


async def _notices(client: httpx.AsyncClient, path: str = "/v1/overage-notices") -> list[dict[str, object]]:
    response = await client.get(path, headers=auth("ops"))
    assert response.status_code == 200, response.text
    return list(response.json()["data"])


async def _rejections(client: httpx.AsyncClient) -> list[dict[str, object]]:
    response = await client.get("/v1/webhook-rejections", headers=auth("ops"))
    assert response.status_code == 200, response.text
    return list(response.json()["data"])


async def test_a_signed_notice_is_acknowledged_then_worked_into_a_case_and_a_replay_changes_nothing(
    client: httpx.AsyncClient, overage_app: FastAPI, clock: MovableClock
) -> None:
    tenant = await seeded_tenant(client, overage_app)
    body = notice_body("monet-2026-07")
    first = await post_notice(client, tenant.vendor_id, tenant.secret, body, clock)
    assert (first.status_code, first.json()["status"]) == (202, "received")
    # Acknowledged = stored; nothing worked yet.
    assert [n["status"] for n in await _notices(client)] == ["received"]
    assert await cases(client) == []

    assert await runtime_of(overage_app).work_notices() == 1
    (opened,) = await cases(client)
    detail = await case(client, opened["id"])
    assert (detail["state"], detail["account_id"], detail["licensed_mismatch"]) == (
        "notified",
        "acct_wfm",
        False,
    )
    (line,) = detail["notices"]
    assert (line["overage_count"], line["unit_price"], line["amount"], line["charge_key"]) == (
        "12",
        "12",
        "144.00",
        f"overage:{tenant.vendor_id}:monet-2026-07",
    )
    assert amounts(await outbox(overage_app, "overage.rebill_requested")) == [("2026-07-01", "12", "144.00")]

    # The same notice again (a vendor retry, or an attacker replaying it freshly signed): 200, nothing new.
    again = await post_notice(client, tenant.vendor_id, tenant.secret, body, clock)
    assert (again.status_code, again.json()["status"], again.json()["id"]) == (
        200,
        "duplicate",
        first.json()["id"],
    )
    assert await runtime_of(overage_app).work_notices() == 0
    assert len(await _notices(client)) == 1
    assert len((await case(client, opened["id"]))["notices"]) == 1
    assert len(await outbox(overage_app, "overage.rebill_requested")) == 1


async def test_attacks_are_refused_recorded_and_change_no_case(
    client: httpx.AsyncClient, overage_app: FastAPI, clock: MovableClock
) -> None:
    tenant = await seeded_tenant(client, overage_app)
    url = f"/v1/webhooks/vendors/{tenant.vendor_id}/overage"
    body = notice_body("monet-2026-07")
    now = clock.now()

    wrong_secret = await client.post(url, content=body, headers=signed_headers("not-the-secret", body, now))
    altered = notice_body("monet-2026-07", actual=300)
    altered_body = await client.post(url, content=altered, headers=signed_headers(tenant.secret, body, now))
    stale = await client.post(
        url, content=body, headers=signed_headers(tenant.secret, body, now - timedelta(minutes=6))
    )
    future = await client.post(
        url, content=body, headers=signed_headers(tenant.secret, body, now + timedelta(minutes=6))
    )
    unsigned = await client.post(url, content=body, headers={"Content-Type": "application/json"})
    unknown_vendor = await client.post(
        "/v1/webhooks/vendors/ven_nobody/overage",
        content=body,
        headers=signed_headers(tenant.secret, body, now),
    )
    oversized_body = b'{"pad": "' + b"x" * (64 * 1024) + b'"}'
    oversized = await client.post(
        url, content=oversized_body, headers=signed_headers(tenant.secret, oversized_body, now)
    )
    malformed_body = b'{"notice_id": "monet-2026-07", '
    malformed = await client.post(
        url, content=malformed_body, headers=signed_headers(tenant.secret, malformed_body, now)
    )
    bad_counts = notice_body("monet-2026-07").replace(b'"overage_count": 12', b'"overage_count": 2')
    miscounted = await client.post(
        url, content=bad_counts, headers=signed_headers(tenant.secret, bad_counts, now)
    )

    statuses = [
        r.status_code
        for r in (
            wrong_secret,
            altered_body,
            stale,
            future,
            unsigned,
            unknown_vendor,
            oversized,
            malformed,
            miscounted,
        )
    ]
    assert statuses == [401, 401, 401, 401, 401, 401, 413, 422, 422]
    assert all(
        r.headers["content-type"].startswith("application/problem+json")
        for r in (wrong_secret, oversized, malformed)
    )
    assert malformed.json()["status"] == 422

    rejections = await _rejections(client)
    assert [(r["reason"], r["status_code"]) for r in rejections] == [
        ("bad_signature", 401),
        ("bad_signature", 401),
        ("stale_timestamp", 401),
        ("future_timestamp", 401),
        ("missing_signature", 401),
        ("unknown_vendor", 401),
        ("body_too_large", 413),
        ("malformed_body", 422),
        ("malformed_body", 422),
    ]
    # Recorded by size and digest, never the body.
    assert rejections[0]["body_sha256"] == hashlib.sha256(body).hexdigest()
    assert rejections[0]["body_bytes"] == len(body)
    assert all(tenant.secret not in str(r) and "monet-tenant-1" not in str(r) for r in rejections)

    await runtime_of(overage_app).work_notices()
    assert await _notices(client) == [] and await cases(client) == []
    assert await outbox(overage_app, "overage.rebill_requested") == []


async def test_a_rotated_secret_overlaps_the_old_one_for_24_hours(
    client: httpx.AsyncClient, overage_app: FastAPI, clock: MovableClock
) -> None:
    tenant = await seeded_tenant(client, overage_app)
    rotated = await client.post(f"/v1/vendors/{tenant.vendor_id}/secrets", json={}, headers=auth("finance"))
    assert rotated.status_code == 201, rotated.text
    new_secret = rotated.json()["secret"]
    assert new_secret != tenant.secret

    vendor = (await client.get(f"/v1/vendors/{tenant.vendor_id}", headers=auth("ops"))).json()
    assert [(s["active"], s["expires_at"] is None) for s in vendor["secrets"]] == [
        (True, False),
        (True, True),
    ]
    assert tenant.secret not in str(vendor) and new_secret not in str(vendor)  # shown once only
    assert vendor["account_director"]["name"] == "Brooks Morris"

    old = await post_notice(client, tenant.vendor_id, tenant.secret, notice_body("n-old"), clock)
    new = await post_notice(
        client, tenant.vendor_id, new_secret, notice_body("n-new", period="2026-08"), clock
    )
    assert (old.status_code, new.status_code) == (202, 202)

    clock.advance(timedelta(hours=24))
    expired = await post_notice(
        client, tenant.vendor_id, tenant.secret, notice_body("n-late", period="2026-09"), clock
    )
    still = await post_notice(
        client, tenant.vendor_id, new_secret, notice_body("n-new-2", period="2026-09"), clock
    )
    assert (expired.status_code, still.status_code) == (401, 202)
    assert [r["reason"] for r in await _rejections(client)] == ["bad_signature"]


async def test_a_notice_of_an_unmapped_tenant_waits_in_review_until_it_is_mapped(
    client: httpx.AsyncClient, overage_app: FastAPI, clock: MovableClock
) -> None:
    tenant = await seeded_tenant(client, overage_app)
    body = notice_body("monet-new-tenant", tenant="monet-tenant-2")
    assert (await post_notice(client, tenant.vendor_id, tenant.secret, body, clock)).status_code == 202
    await runtime_of(overage_app).work_notices()
    (waiting,) = await _notices(client, "/v1/overage-notices/review")
    assert (waiting["status"], waiting["review_reason"], waiting["tenant_id"]) == (
        "review",
        "unknown_tenant",
        "monet-tenant-2",
    )
    assert await cases(client) == []

    nothing_yet = await client.post("/v1/overage-notices/review/reprocess", headers=auth("finance"))
    assert nothing_yet.json() == {"applied": 0, "still_in_review": 1}
    await map_tenant(client, tenant.vendor_id, "monet-tenant-2", "acct_wfm", "sub_wfm")
    done = await client.post(
        "/v1/overage-notices/review/reprocess", headers={**auth("finance"), "Idempotency-Key": "reprocess-1"}
    )
    assert done.json() == {"applied": 1, "still_in_review": 0}
    assert await _notices(client, "/v1/overage-notices/review") == []
    (opened,) = await cases(client)
    assert opened["tenant_id"] == "monet-tenant-2"
    assert amounts(await outbox(overage_app, "overage.rebill_requested")) == [("2026-07-01", "12", "144.00")]


async def test_a_licensed_count_that_differs_from_our_subscription_is_flagged(
    client: httpx.AsyncClient, overage_app: FastAPI, clock: MovableClock
) -> None:
    tenant = await seeded_tenant(client, overage_app, licensed="240")
    await post_notice(client, tenant.vendor_id, tenant.secret, notice_body("monet-2026-07"), clock)
    await runtime_of(overage_app).work_notices()
    (opened,) = await cases(client)
    detail = await case(client, opened["id"])
    assert detail["licensed_mismatch"] is True
    (line,) = detail["notices"]
    assert (line["licensed_count"], line["our_licensed_quantity"], line["licensed_mismatch"]) == (
        "250",
        "240",
        True,
    )
    # Still charged as the vendor charged it: 12 x 12.00.
    assert line["amount"] == "144.00"
