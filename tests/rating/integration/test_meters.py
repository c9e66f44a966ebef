"""`/v1/meters` on SQLite and PostgreSQL: create, read, list with a cursor, change, conflicts, audit."""

from __future__ import annotations

from typing import Any

import httpx

from tests.rating.integration.factories import FINANCE, create_meter, meter_body
from tests.support.services import auth


def _problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    return body


async def test_a_meter_is_created_read_and_listed(any_db_client: httpx.AsyncClient) -> None:
    created = await create_meter(
        any_db_client,
        code="storage.gb",
        name="Storage",
        unit_of_measure="GB",
        aggregation="latest",
        filter={"region": ["us", "eu", "eu"]},
    )
    assert created["id"].startswith("mtr_")
    assert (created["code"], created["aggregation"], created["active"]) == ("storage.gb", "latest", True)
    assert created["filter"] == {"region": ["eu", "us"]}
    fetched = await any_db_client.get(f"/v1/meters/{created['id']}", headers=auth("ops"))
    assert fetched.status_code == 200 and fetched.json() == created

    for i in range(4):
        await create_meter(any_db_client, code=f"calls_{i}", product_id="prod_other" if i % 2 else "prod_api")
    first = (await any_db_client.get("/v1/meters", params={"limit": 3}, headers=FINANCE)).json()
    assert len(first["data"]) == 3 and first["has_more"]
    rest = (
        await any_db_client.get(
            "/v1/meters", params={"limit": 3, "cursor": first["next_cursor"]}, headers=FINANCE
        )
    ).json()
    assert len(rest["data"]) == 2 and not rest["has_more"]
    assert len({m["id"] for m in first["data"] + rest["data"]}) == 5
    other = (
        await any_db_client.get("/v1/meters", params={"product_id": "prod_other"}, headers=FINANCE)
    ).json()
    assert sorted(m["code"] for m in other["data"]) == ["calls_1", "calls_3"]


async def test_a_meter_code_is_unique(any_db_client: httpx.AsyncClient) -> None:
    await create_meter(any_db_client, code="sms")
    again = await any_db_client.post("/v1/meters", json=meter_body(code="sms"), headers=FINANCE)
    assert "sms" in _problem(again, 409)["detail"]


async def test_a_unique_count_meter_needs_its_property_and_others_take_none(
    any_db_client: httpx.AsyncClient,
) -> None:
    missing = await any_db_client.post(
        "/v1/meters", json=meter_body(aggregation="unique_count"), headers=FINANCE
    )
    assert [e["field"] for e in _problem(missing, 422)["errors"]] == ["property"]
    extra = await any_db_client.post("/v1/meters", json=meter_body(property="user"), headers=FINANCE)
    assert [e["field"] for e in _problem(extra, 422)["errors"]] == ["property"]
    users = await create_meter(any_db_client, aggregation="unique_count", property="user_id")
    assert users["property"] == "user_id"


async def test_bad_meter_requests_are_422_with_field_errors(any_db_client: httpx.AsyncClient) -> None:
    for field, value in (
        ("code", "Has Spaces"),
        ("aggregation", "average"),
        ("filter", {"region": []}),
        ("filter", {"bad name": ["x"]}),
        ("unit_of_measure", ""),
        ("surprise", 1),
    ):
        response = await any_db_client.post("/v1/meters", json=meter_body(**{field: value}), headers=FINANCE)
        fields = [e["field"].split(".")[0] for e in _problem(response, 422)["errors"]]
        assert field in fields, (field, fields)


async def test_name_filter_and_activity_change_and_are_audited(any_db_client: httpx.AsyncClient) -> None:
    meter = await create_meter(any_db_client, filter={"region": ["eu"]})
    path = f"/v1/meters/{meter['id']}"
    changed = await any_db_client.patch(
        path, json={"name": "Calls", "filter": {"tier": ["gold"]}, "active": False}, headers=FINANCE
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["name"], changed.json()["filter"], changed.json()["active"]) == (
        "Calls",
        {"tier": ["gold"]},
        False,
    )
    cleared = await any_db_client.patch(path, json={"filter": None}, headers=FINANCE)
    assert cleared.json()["filter"] is None
    for immutable in ({"aggregation": "max"}, {"code": "other"}, {"name": None}):
        _problem(await any_db_client.patch(path, json=immutable, headers=FINANCE), 422)
    _problem(await any_db_client.patch("/v1/meters/mtr_missing", json={"name": "x"}, headers=FINANCE), 404)
    _problem(await any_db_client.patch(path, json={"name": "x"}, headers=auth("crm")), 403)
    audit = await any_db_client.get(
        "/v1/audit-log", params={"entity_type": "meter", "entity_id": meter["id"]}, headers=FINANCE
    )
    actions = [entry["action"] for entry in audit.json()["data"]]
    assert actions.count("meter.created") == 1 and actions.count("meter.updated") == 2
