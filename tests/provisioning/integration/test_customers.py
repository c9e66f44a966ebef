"""Customers, accounts, the hierarchy and billing profiles over REST."""

from __future__ import annotations

import httpx

from tests.provisioning.integration.factories import CRM, OPS, billing_profile, customer_with_account, ok


async def test_account_carries_full_billing_profile(any_db_client: httpx.AsyncClient) -> None:
    client = any_db_client
    customer_id, _ = await customer_with_account(client)
    profile = billing_profile(
        currency="EUR",
        bill_cycle_day=31,
        time_zone="Europe/Paris",
        delivery="portal",
        tax_status={
            "treatment": "exempt",
            "certificate_number": "EX-2291",
            "certificate_expiry": "2027-12-31",
        },
        contacts=[
            {"name": "Ada Payable", "email": "ap@x.example", "role": "billing"},
            {"name": "Sam Seller", "email": "sam@us.example", "role": "crm_owner"},
            {"name": "Tia Tech", "email": "tia@x.example", "role": "technical"},
        ],
    )
    created = await ok(
        await client.post(
            "/v1/accounts",
            json={"customer_id": customer_id, "name": "Redfin EU", "billing_profile": profile},
            headers=CRM,
        ),
        201,
    )
    fetched = await ok(await client.get(f"/v1/accounts/{created['id']}", headers=OPS))
    assert fetched["billing_profile"]["tax_status"] == {
        "treatment": "exempt",
        "certificate_number": "EX-2291",
        "certificate_expiry": "2027-12-31",
    }
    assert fetched["billing_profile"]["bill_cycle_day"] == 31
    assert [c["role"] for c in fetched["billing_profile"]["contacts"]] == [
        "billing",
        "crm_owner",
        "technical",
    ]


async def test_child_billing_to_parent_must_share_its_currency(client: httpx.AsyncClient) -> None:
    customer_id, parent_id = await customer_with_account(client)
    refused = await client.post(
        "/v1/accounts",
        json={
            "customer_id": customer_id,
            "name": "Redfin Canada",
            "parent_account_id": parent_id,
            "bills_to_parent": True,
            "billing_profile": billing_profile(currency="CAD"),
        },
        headers=CRM,
    )
    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == ["billing_profile.currency"]
    listed = await ok(await client.get(f"/v1/accounts?customer_id={customer_id}", headers=CRM))
    assert len(listed["data"]) == 1  # nothing was created

    child = await ok(
        await client.post(
            "/v1/accounts",
            json={
                "customer_id": customer_id,
                "name": "Redfin Seattle",
                "parent_account_id": parent_id,
                "bills_to_parent": True,
                "billing_profile": billing_profile(),
            },
            headers=CRM,
        ),
        201,
    )
    assert child["parent_account_id"] == parent_id and child["bills_to_parent"] is True
    # The parent may not change currency while a child bills to it.
    changed = await client.patch(
        f"/v1/accounts/{parent_id}", json={"billing_profile": billing_profile(currency="EUR")}, headers=CRM
    )
    assert changed.status_code == 422


async def test_exempt_account_needs_certificate_and_all_problems_come_together(
    client: httpx.AsyncClient,
) -> None:
    customer_id, _ = await customer_with_account(client)
    response = await client.post(
        "/v1/accounts",
        json={
            "customer_id": customer_id,
            "name": "Bad",
            "billing_profile": billing_profile(
                time_zone="Mars/Olympus", tax_status={"treatment": "exempt"}, tax_address={"country": "ZZ"}
            ),
        },
        headers=CRM,
    )
    assert response.status_code == 422
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields == {
        "billing_profile.time_zone",
        "billing_profile.tax_status.certificate_number",
        "billing_profile.tax_status.certificate_expiry",
        "billing_profile.tax_address.country",
    }


async def test_unknown_ids_are_404_and_ops_cannot_write(client: httpx.AsyncClient) -> None:
    assert (await client.get("/v1/accounts/acct_nope", headers=OPS)).status_code == 404
    assert (await client.get("/v1/customers/cus_nope", headers=OPS)).status_code == 404
    assert (await client.post("/v1/customers", json={"name": "X"}, headers=OPS)).status_code == 403
    missing_customer = await client.post(
        "/v1/accounts",
        json={"customer_id": "cus_nope", "name": "X", "billing_profile": billing_profile()},
        headers=CRM,
    )
    assert missing_customer.status_code == 404
