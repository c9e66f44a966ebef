"""`/v1/tax-rates` on SQLite and PostgreSQL: publish, read, list with filters and a cursor, end,
overlaps, bad input, idempotent creation, audit; and the bill run's one-query rate table."""

from __future__ import annotations

import asyncio
from datetime import date
from decimal import Decimal
from typing import Any

import httpx

from invoicing.app import create_app
from invoicing.bootstrap import bootstrap
from invoicing.handlers.tax_rates import tax_calculator_for
from tests.invoicing.integration.conftest import invoicing_settings
from tests.invoicing.integration.factories_tax import FINANCE, create_tax_rate, tax_rate_body
from tests.invoicing.unit.factories_tax import exempt, line, request, taxable
from tests.support.services import auth, running_app


def _problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    return body


def _fields(response: httpx.Response) -> list[str]:
    return [e["field"] for e in _problem(response, 422)["errors"]]


async def test_a_rate_is_published_read_and_listed_with_filters(any_db_client: httpx.AsyncClient) -> None:
    client = any_db_client
    vat = await create_tax_rate(client, rate="20.00")
    assert vat["id"].startswith("txr_")
    assert (vat["country"], vat["region"], vat["tax_code"], vat["rate"], vat["name"]) == (
        "GB",
        None,
        None,
        "20",
        "VAT",
    )
    assert (vat["effective_from"], vat["effective_to"]) == ("2026-01-01", None)
    fetched = await client.get(f"/v1/tax-rates/{vat['id']}", headers=auth("ops"))
    assert fetched.status_code == 200 and fetched.json() == vat

    ca = await create_tax_rate(client, country="US", region="CA", rate="7.25", name="Sales tax")
    ca_software = await create_tax_rate(
        client, country="US", region="CA", tax_code="SW050000", rate="0", name="Sales tax"
    )
    old = await create_tax_rate(client, rate="17.5", effective_from="2008-12-01", effective_to="2010-01-01")
    await create_tax_rate(client, country="JP", rate="10", name="Consumption tax")

    async def ids(**params: Any) -> list[str]:
        response = await client.get("/v1/tax-rates", params=params, headers=FINANCE)
        assert response.status_code == 200, response.text
        return [r["id"] for r in response.json()["data"]]

    assert await ids(country="GB") == sorted([vat["id"], old["id"]])
    assert await ids(country="GB", as_of="2009-06-30") == [old["id"]]
    assert await ids(country="GB", as_of="2010-01-01") == []  # the end is exclusive
    assert await ids(country="GB", as_of="2026-01-01") == [vat["id"]]
    assert await ids(region="ca") == sorted([ca["id"], ca_software["id"]])
    assert await ids(tax_code="SW050000") == [ca_software["id"]]
    assert await ids(country="FR") == []

    first = (await client.get("/v1/tax-rates", params={"limit": 3}, headers=FINANCE)).json()
    assert len(first["data"]) == 3 and first["has_more"]
    rest = (
        await client.get(
            "/v1/tax-rates", params={"limit": 3, "cursor": first["next_cursor"]}, headers=FINANCE
        )
    ).json()
    assert len(rest["data"]) == 2 and not rest["has_more"]
    assert len({r["id"] for r in first["data"] + rest["data"]}) == 5


async def test_overlaps_are_refused_and_ending_a_rate_makes_room(any_db_client: httpx.AsyncClient) -> None:
    client = any_db_client
    vat = await create_tax_rate(client)
    clash = await client.post(
        "/v1/tax-rates", json=tax_rate_body(rate="21", effective_from="2027-01-01"), headers=FINANCE
    )
    problem = _problem(clash, 422)
    assert [e["field"] for e in problem["errors"]] == ["effective_from", "effective_to"]
    assert {e["code"] for e in problem["errors"]} == {"overlapping_rate"}
    assert vat["id"] in problem["errors"][0]["message"]
    # Another key (a tax code, a region) is not an overlap.
    await create_tax_rate(client, tax_code="FOOD", rate="0", name="Zero-rated food")
    await create_tax_rate(client, region="Wales", rate="20")

    ended = await client.post(
        f"/v1/tax-rates/{vat['id']}/end", json={"effective_to": "2027-01-01"}, headers=FINANCE
    )
    assert ended.status_code == 200, ended.text
    assert (ended.json()["effective_to"], ended.json()["rate"]) == ("2027-01-01", "20")
    await create_tax_rate(client, rate="21", effective_from="2027-01-01")

    longer = await client.post(
        f"/v1/tax-rates/{vat['id']}/end", json={"effective_to": "2027-02-01"}, headers=FINANCE
    )
    assert _fields(longer) == ["effective_to"]
    before_start = await client.post(
        f"/v1/tax-rates/{vat['id']}/end", json={"effective_to": "2026-01-01"}, headers=FINANCE
    )
    assert _fields(before_start) == ["effective_to"]
    _problem(
        await client.post(
            "/v1/tax-rates/txr_missing/end", json={"effective_to": "2027-01-01"}, headers=FINANCE
        ),
        404,
    )
    _problem(await client.get("/v1/tax-rates/txr_missing", headers=FINANCE), 404)
    edit = await client.patch(f"/v1/tax-rates/{vat['id']}", json={"rate": "5"}, headers=FINANCE)
    assert edit.status_code == 405 and "/end" in edit.text

    audit = await client.get(
        "/v1/audit-log", params={"entity_type": "tax_rate", "entity_id": vat["id"]}, headers=FINANCE
    )
    assert [entry["action"] for entry in audit.json()["data"]] == ["tax_rate.created", "tax_rate.ended"]


async def test_bad_requests_are_422_with_field_errors_and_change_nothing(
    any_db_client: httpx.AsyncClient,
) -> None:
    client = any_db_client
    for field, value in (
        ("rate", 20),  # a JSON number for a percent
        ("rate", 20.5),
        ("rate", "101"),
        ("rate", "-1"),
        ("rate", "12.34567"),
        ("country", "XX"),
        ("country", "gb"),
        ("effective_from", "2026-02-30"),
        ("effective_from", 20260101),
        ("effective_from", "2026-01-01T00:00:00Z"),
        ("effective_to", "2025-12-31"),
        ("tax_code", "has space"),
        ("name", ""),
        ("surprise", 1),
    ):
        response = await client.post("/v1/tax-rates", json=tax_rate_body(**{field: value}), headers=FINANCE)
        assert field in _fields(response), (field, value)
    bad_end = await client.post("/v1/tax-rates/txr_x/end", json={"effective_to": 1}, headers=FINANCE)
    assert _fields(bad_end) == ["effective_to"]
    _problem(await client.get("/v1/tax-rates", params={"as_of": "someday"}, headers=FINANCE), 422)
    _problem(await client.get("/v1/tax-rates", params={"country": "ZZ"}, headers=FINANCE), 422)
    _problem(await client.post("/v1/tax-rates", json=tax_rate_body(), headers=auth("crm")), 403)
    listed = await client.get("/v1/tax-rates", headers=FINANCE)
    assert listed.json()["data"] == []


async def test_creation_is_idempotent_by_key(any_db_client: httpx.AsyncClient) -> None:
    client = any_db_client
    headers = {**FINANCE, "Idempotency-Key": "rate-1"}
    first = await client.post("/v1/tax-rates", json=tax_rate_body(), headers=headers)
    again = await client.post("/v1/tax-rates", json=tax_rate_body(), headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers.get("idempotent-replayed") == "true"
    other = await client.post("/v1/tax-rates", json=tax_rate_body(rate="5"), headers=headers)
    _problem(other, 409)
    assert len((await client.get("/v1/tax-rates", headers=FINANCE)).json()["data"]) == 1


async def test_the_bill_run_taxes_a_chunk_from_one_load(database_url: str) -> None:
    settings = invoicing_settings(database_url)
    async with running_app(create_app(settings)) as client:
        await create_tax_rate(client, country="US", region="CA", rate="7.25", name="Sales tax")
        await create_tax_rate(
            client, country="US", region="CA", tax_code="SW050000", rate="0", name="Sales tax"
        )
        await create_tax_rate(client, country="JP", rate="10", name="Consumption tax")
        runtime = bootstrap(settings)
        try:
            async with runtime.invoicing_unit_of_work() as uow:
                accounts = [taxable("US", "CA"), taxable("JP"), exempt()]
                calculator = await tax_calculator_for(uow, date(2026, 8, 1), accounts)
        finally:
            await runtime.db.dispose()
    us = calculator.assess(
        request(
            line("100.00", "SW050000"), line("99.99", "OTHER"), account=taxable("US", "CA"), currency="USD"
        )
    )
    assert [t.amount for t in us.lines] == [Decimal("0.00"), Decimal("7.25")]  # 7.249275 → 7.25
    jp = calculator.assess(request(line("12345"), account=taxable("JP"), currency="JPY"))
    assert jp.total == Decimal("1235")
    free = calculator.assess(request(line("100.00"), account=exempt(), currency="USD"))
    assert (free.total, free.note) == (Decimal(0), "Exempt: certificate EX-123 valid until 2027-12-31")


async def test_two_overlapping_rates_published_at_once_cannot_both_pass(
    any_db_client: httpx.AsyncClient,
) -> None:
    bodies = [tax_rate_body(rate=str(rate), effective_from=f"2026-0{rate}-01") for rate in range(1, 9)]
    answers = await asyncio.gather(
        *(any_db_client.post("/v1/tax-rates", json=body, headers=FINANCE) for body in bodies)
    )
    assert sorted(a.status_code for a in answers) == [201] + [422] * 7, [a.text for a in answers]
    listed = (await any_db_client.get("/v1/tax-rates", headers=FINANCE)).json()["data"]
    assert len(listed) == 1
