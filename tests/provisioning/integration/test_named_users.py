"""Named-user pools (seed 003): pool limit, per-user program limit, yearly transfer allowance."""

from __future__ import annotations

import httpx

from tests.provisioning.integration.factories import CRM, OPS, customer_with_account, ok

PROGRAMS = ["p1", "p2", "p3", "p4", "p5", "p6"]


async def test_pool_refuses_over_pool_over_programs_and_over_allowance(client: httpx.AsyncClient) -> None:
    _, account_id = await customer_with_account(client)
    pool = await ok(
        await client.post(
            "/v1/named-users/pools",
            json={
                "account_id": account_id,
                "size": 20,
                "programs_per_user": 3,
                "contract_programs": PROGRAMS,
                "contract_start": "2026-01-01",
            },
            headers=CRM,
        ),
        201,
    )
    assert (pool["transfers_per_year"], pool["transfer_percent"]) == (2, "10")
    base = f"/v1/named-users/pools/{pool['id']}"
    for n in range(20):
        await ok(
            await client.post(
                f"{base}/assignments", json={"user_id": f"u{n}", "programs": ["p1"]}, headers=CRM
            ),
            201,
        )
    # A user in more programs still counts once.
    await ok(
        await client.post(
            f"{base}/assignments", json={"user_id": "u0", "programs": ["p2", "p3"]}, headers=CRM
        ),
        201,
    )
    assert (await ok(await client.get(base, headers=OPS)))["seats_used"] == 20

    over_pool = await client.post(
        f"{base}/assignments", json={"user_id": "u20", "programs": ["p1"]}, headers=CRM
    )
    assert over_pool.status_code == 422
    assert over_pool.json()["errors"][0]["code"] == "pool_full"
    over_programs = await client.post(
        f"{base}/assignments", json={"user_id": "u0", "programs": ["p4"]}, headers=CRM
    )
    assert over_programs.status_code == 422
    assert over_programs.json()["errors"][0]["code"] == "too_many_programs"

    year_one = await client.post(
        f"{base}/transfers", json={"from_user": "u1", "to_user": "v1", "on_date": "2026-06-01"}, headers=CRM
    )
    assert year_one.status_code == 422
    for n in (1, 2):
        moved = await ok(
            await client.post(
                f"{base}/transfers",
                json={"from_user": f"u{n}", "to_user": f"v{n}", "on_date": "2027-02-01"},
                headers=CRM,
            ),
            201,
        )
        assert moved["contract_year"] == 2
    assert moved["transfers_remaining"] == 0
    over_allowance = await client.post(
        f"{base}/transfers", json={"from_user": "u3", "to_user": "v3", "on_date": "2027-12-31"}, headers=CRM
    )
    assert over_allowance.status_code == 422
    assert over_allowance.json()["errors"][0]["code"] == "transfer_allowance_exhausted"
    # A new contract year brings a new allowance.
    await ok(
        await client.post(
            f"{base}/transfers",
            json={"from_user": "u3", "to_user": "v3", "on_date": "2028-01-01"},
            headers=CRM,
        ),
        201,
    )
    users = (await ok(await client.get(f"{base}/assignments?limit=200", headers=OPS)))["data"]
    assert len(users) == 20
    assert {"v1", "v2", "v3"} <= {u["user_id"] for u in users}
    assert "u1" not in {u["user_id"] for u in users}


async def test_unknown_pool_and_account(client: httpx.AsyncClient) -> None:
    assert (await client.get("/v1/named-users/pools/pool_nope", headers=OPS)).status_code == 404
    assert (
        await client.post(
            "/v1/named-users/pools/pool_nope/assignments",
            json={"user_id": "u", "programs": ["p"]},
            headers=CRM,
        )
    ).status_code == 404
    response = await client.post(
        "/v1/named-users/pools",
        json={
            "account_id": "acct_nope",
            "size": 1,
            "programs_per_user": 1,
            "contract_programs": ["p"],
            "contract_start": "2026-01-01",
        },
        headers=CRM,
    )
    assert response.status_code == 404
