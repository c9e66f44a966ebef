"""Partner deal registration: register, update, convert (all missing fields in one 422), submit."""

from __future__ import annotations

import httpx

from tests.provisioning.integration.factories import CRM, OPS, line, ok


async def _partner(client: httpx.AsyncClient) -> str:
    partner = await ok(
        await client.post(
            "/v1/partners", json={"name": "Acme Partners", "contact_email": "d@acme.example"}, headers=CRM
        ),
        201,
    )
    return str(partner["id"])


async def test_deal_converted_and_submitted_to_contracts(client: httpx.AsyncClient) -> None:
    partner_id = await _partner(client)
    deal = await ok(
        await client.post(
            "/v1/deal-registrations",
            json={"partner_id": partner_id, "opportunity_name": "Redfin rollout"},
            headers=CRM,
        ),
        201,
    )
    assert {m["field"] for m in deal["missing"]} >= {"customer_company_name", "licensing.currency"}

    # Converting now reports every missing mandatory field in one 422, and creates nothing.
    refused = await client.post(f"/v1/deal-registrations/{deal['id']}/convert", json={}, headers=CRM)
    assert refused.status_code == 422
    assert {e["field"] for e in refused.json()["errors"]} == {
        "opportunity_details",
        "customer_company_name",
        "project_description",
        "agreement_contact.name",
        "agreement_contact.email",
        "licensing.currency",
        "licensing.license_type",
        "licensing.start_date",
        "licensing.end_date",
    }
    assert (await ok(await client.get("/v1/customers", headers=OPS)))["data"] == []

    # The partner fills in the details in two updates (licensing merges field by field).
    await ok(
        await client.patch(
            f"/v1/deal-registrations/{deal['id']}",
            json={
                "opportunity_details": "40 planners on the WFM suite",
                "customer_company_name": "Redfin",
                "agreement_contact": {"name": "Jo Buyer", "email": "jo@redfin.example"},
                "licensing": {"currency": "USD", "license_type": "new_license"},
            },
            headers=CRM,
        )
    )
    updated = await ok(
        await client.patch(
            f"/v1/deal-registrations/{deal['id']}",
            json={
                "licensing": {"start_date": "2027-01-01", "end_date": "2030-01-01"},
                "discounts_requested": [{"description": "Partner launch", "percent": "10"}],
                "project_description": "Phase 1: planners; phase 2: agents",
            },
            headers=CRM,
        )
    )
    assert updated["missing"] == []
    assert updated["licensing"]["currency"] == "USD"

    conversion = await ok(
        await client.post(
            f"/v1/deal-registrations/{deal['id']}/convert",
            json={"lines": [line("price_support", 40, discount_ids=["disc_partner"])]},
            headers=CRM,
        ),
        201,
    )
    order = conversion["order"]
    assert conversion["customer"]["name"] == "Redfin"
    assert conversion["customer"]["partner_id"] == partner_id
    assert conversion["account"]["billing_profile"]["currency"] == "USD"
    assert order["status"] == "draft"
    assert order["deal"]["opportunity_details"] == "40 planners on the WFM suite"
    assert order["deal"]["agreement_contact"] == {"name": "Jo Buyer", "email": "jo@redfin.example"}
    assert order["deal"]["licensing"]["license_type"] == "new_license"
    # Priced by the catalog: 40 x 300.00 = 12,000.00 less 10 % = 10,800.00, within its 15 % threshold.
    assert order["lines"][0]["term_months"] == 36
    assert order["lines"][0]["effective_date"] == "2027-01-01"
    assert (order["list_total"], order["discount_total"], order["net_total"]) == (
        "12000.00",
        "1200.00",
        "10800.00",
    )
    assert order["lines"][0]["needs_approval"] is False

    again = await client.post(f"/v1/deal-registrations/{deal['id']}/convert", json={}, headers=CRM)
    assert again.status_code == 409
    assert (
        await client.patch(f"/v1/deal-registrations/{deal['id']}", json={}, headers=CRM)
    ).status_code == 409

    submitted = await ok(await client.post(f"/v1/deal-registrations/{deal['id']}/submit", headers=CRM))
    assert submitted["id"] == order["id"]
    assert submitted["status"] == "approved"
    assert (await client.post(f"/v1/deal-registrations/{deal['id']}/submit", headers=CRM)).status_code == 409


async def test_deal_conversion_refuses_unknown_prices_and_changes_nothing(client: httpx.AsyncClient) -> None:
    partner_id = await _partner(client)
    deal = await ok(
        await client.post(
            "/v1/deal-registrations",
            json={
                "partner_id": partner_id,
                "opportunity_name": "Sigura",
                "opportunity_details": "SPI-1 rollout",
                "customer_company_name": "Sigura",
                "agreement_contact": {"name": "Lee", "email": "lee@sigura.example"},
                "licensing": {
                    "currency": "USD",
                    "license_type": "new_license",
                    "start_date": "2027-01-01",
                    "end_date": "2028-01-01",
                },
                "project_description": "Workshops",
            },
            headers=CRM,
        ),
        201,
    )
    response = await client.post(
        f"/v1/deal-registrations/{deal['id']}/convert",
        json={"lines": [line("price_support", 5), line("price_nope", 1, discount_ids=["disc_nope"])]},
        headers=CRM,
    )
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {"lines.1.price_id"}
    assert (await ok(await client.get(f"/v1/deal-registrations/{deal['id']}", headers=OPS)))[
        "status"
    ] == "registered"
    assert (await client.post(f"/v1/deal-registrations/{deal['id']}/submit", headers=CRM)).status_code == 409
    assert (await client.get("/v1/deal-registrations/dreg_nope", headers=OPS)).status_code == 404
    unknown_partner = await client.post(
        "/v1/deal-registrations", json={"partner_id": "ptnr_nope", "opportunity_name": "X"}, headers=CRM
    )
    assert unknown_partner.status_code == 404
