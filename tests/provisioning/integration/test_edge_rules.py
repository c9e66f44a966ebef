"""Edge rules of issue 6 on the provisioning API: exact JSON quantities, canonical time zones,
one free-text rule and a repeated named-user assignment that changes nothing."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.provisioning.integration.factories import (
    CRM,
    FINANCE,
    billing_profile,
    customer_with_account,
    ok,
    outbox_payloads,
)


def _fields(response: httpx.Response) -> list[str]:
    return [error["field"] for error in response.json()["errors"]]


# --- defect 8 ------------------------------------------------------------------------------


@pytest.mark.parametrize("number", ["0.99999999999999999", "1.5", "1e-1"])
async def test_an_order_line_refuses_a_fractional_json_number_as_quantity(
    client: httpx.AsyncClient, number: str
) -> None:
    _, account_id = await customer_with_account(client)
    body = '{"account_id": "%s", "lines": [{"price_id": "price_support", "quantity": %s}]}'
    response = await client.post(
        "/v1/orders",
        content=(body % (account_id, number)).encode(),
        headers={**CRM, "content-type": "application/json"},
    )
    assert response.status_code == 422, response.text
    assert _fields(response) == ["lines.0.quantity"]


async def test_an_order_line_takes_an_integral_json_number(client: httpx.AsyncClient) -> None:
    _, account_id = await customer_with_account(client)
    body = '{"account_id": "%s", "lines": [{"price_id": "price_support", "quantity": 2.0}]}'
    response = await client.post(
        "/v1/orders",
        content=(body % account_id).encode(),
        headers={**CRM, "content-type": "application/json"},
    )
    order = await ok(response, 201)
    assert order["lines"][0]["quantity"] == "2"


# --- time zones ----------------------------------------------------------------------------


async def _account(client: httpx.AsyncClient, **profile: Any) -> httpx.Response:
    customer = await ok(await client.post("/v1/customers", json={"name": "Redfin"}, headers=CRM), 201)
    body = {"customer_id": customer["id"], "name": "HQ", "billing_profile": billing_profile(**profile)}
    return await client.post("/v1/accounts", json=body, headers=CRM)


@pytest.mark.parametrize("zone", ["localtime", "posixrules", "Factory", "posix/UTC", "right/UTC", "utc"])
async def test_an_account_refuses_a_host_dependent_time_zone(client: httpx.AsyncClient, zone: str) -> None:
    response = await _account(client, time_zone=zone)
    assert response.status_code == 422, response.text
    assert _fields(response) == ["billing_profile.time_zone"]


@pytest.mark.parametrize("zone", ["UTC", "Europe/Paris", "America/Argentina/Buenos_Aires", "Etc/GMT+5"])
async def test_an_account_takes_an_iana_time_zone(client: httpx.AsyncClient, zone: str) -> None:
    account = await ok(await _account(client, time_zone=zone), 201)
    assert account["billing_profile"]["time_zone"] == zone


# --- free text -----------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["Red\r\nfin", "Red\x1b[2Jfin", "Red\u202efin", "Red\u2069fin", "Red\x9bfin"])
async def test_a_customer_name_refuses_control_and_bidi_characters(
    client: httpx.AsyncClient, bad: str
) -> None:
    response = await client.post("/v1/customers", json={"name": bad}, headers=CRM)
    assert response.status_code == 422, response.text
    assert _fields(response) == ["name"]


async def test_a_contact_and_a_tax_address_follow_the_text_rule(client: httpx.AsyncClient) -> None:
    contact = {"name": "Ada\u202e", "email": "ap@redfin.example", "role": "billing"}
    response = await _account(
        client,
        contacts=[contact],
        tax_address={"country": "US", "region": "WA\n", "postal_code": "98101"},
    )
    assert response.status_code == 422, response.text
    assert sorted(_fields(response)) == [
        "billing_profile.contacts.0.name",
        "billing_profile.tax_address.region",
    ]


async def test_deal_details_may_span_lines_but_hold_no_escape(client: httpx.AsyncClient) -> None:
    partner = await ok(await client.post("/v1/partners", json={"name": "Acme"}, headers=CRM), 201)
    body = {"partner_id": partner["id"], "opportunity_name": "Roll-out", "opportunity_details": "a\nb\tc"}
    deal = await ok(await client.post("/v1/deal-registrations", json=body, headers=CRM), 201)
    assert deal["opportunity_details"] == "a\nb\tc"
    body["opportunity_details"] = "a\x1b[31m"
    response = await client.post("/v1/deal-registrations", json=body, headers=CRM)
    assert response.status_code == 422, response.text
    assert _fields(response) == ["opportunity_details"]


# --- named users ---------------------------------------------------------------------------


async def test_assigning_the_same_named_user_again_changes_nothing(
    client: httpx.AsyncClient, provisioning_app: FastAPI
) -> None:
    _, account_id = await customer_with_account(client)
    pool_body = {
        "account_id": account_id,
        "size": 5,
        "programs_per_user": 3,
        "contract_programs": ["p1", "p2", "p3"],
        "contract_start": "2026-01-01",
    }
    pool = await ok(await client.post("/v1/named-users/pools", json=pool_body, headers=CRM), 201)
    path = f"/v1/named-users/pools/{pool['id']}/assignments"
    first = await ok(
        await client.post(path, json={"user_id": "ada", "programs": ["p1", "p2"]}, headers=CRM), 201
    )

    async def audit() -> list[Any]:
        return (await ok(await client.get(f"/v1/audit-log?entity_id={pool['id']}", headers=FINANCE)))["data"]

    events, records = await outbox_payloads(provisioning_app, "named_user.assigned"), await audit()
    for programs in (["p1", "p2"], ["p2"], ["p2", "p1", "p2"]):
        again = await client.post(path, json={"user_id": "ada", "programs": programs}, headers=CRM)
        assert again.status_code == 200, again.text
        assert again.json() == first
    assert await outbox_payloads(provisioning_app, "named_user.assigned") == events
    assert await audit() == records
    assert (await ok(await client.get(f"/v1/named-users/pools/{pool['id']}", headers=FINANCE)))[
        "seats_used"
    ] == 1

    # A program the user does not hold yet is a change.
    more = await ok(await client.post(path, json={"user_id": "ada", "programs": ["p3"]}, headers=CRM), 201)
    assert more["programs"] == ["p1", "p2", "p3"]
    assert len(await outbox_payloads(provisioning_app, "named_user.assigned")) == len(events) + 1
