"""Edge rules of issue 6 on the catalog API: exact JSON quantities, one money-field rule per
currency, one SKU rule and one free-text rule. Each bad request is a 422 (or 409) that names the
field and changes nothing.
"""

from __future__ import annotations

from typing import Any

import pytest

from libs.platform.settings import Role
from tests.catalog.integration import factories as f
from tests.catalog.integration.conftest import CatalogClient
from tests.support.services import auth


async def _raw_post(catalog: CatalogClient, path: str, body: str) -> Any:
    """POST a JSON text exactly as written (httpx's `json=` would re-encode a float)."""
    headers = {**auth(Role.ADMIN), "content-type": "application/json"}
    return await catalog.http.post(path, content=body.encode(), headers=headers)


def _fields(response: Any) -> list[str]:
    return [error["field"] for error in response.json()["errors"]]


# --- defect 8: a JSON number is a quantity only when it is an integer as written -----------


@pytest.mark.parametrize("number", ["0.99999999999999999", "1.00000000000000001", "1.5", "2.5e0"])
async def test_a_quote_refuses_a_fractional_json_number_as_quantity(
    sqlite_catalog: CatalogClient, number: str
) -> None:
    product = await sqlite_catalog.created("/v1/products", f.product())
    price = await sqlite_catalog.created("/v1/prices", f.per_unit_price(product["id"]))
    body = '{"currency": "USD", "as_of": "2026-03-01", "items": [{"price_id": "%s", "quantity": %s}]}'
    response = await _raw_post(sqlite_catalog, "/v1/quotes", body % (price["id"], number))
    assert response.status_code == 422, response.text
    assert _fields(response) == ["items.0.quantity"]


@pytest.mark.parametrize("body", ["4.5", "0.99999999999999999"])
async def test_a_json_number_is_never_a_change_set(sqlite_catalog: CatalogClient, body: str) -> None:
    # FastAPI reads a body model from attributes: a number object would pass as "change nothing".
    product = await sqlite_catalog.created("/v1/products", f.product())
    bundle = await sqlite_catalog.created(
        "/v1/bundles", {"name": "Starter", "components": [{"product_id": product["id"], "quantity": "1"}]}
    )
    headers = {**auth(Role.ADMIN), "content-type": "application/json"}
    response = await sqlite_catalog.http.patch(f"/v1/bundles/{bundle['id']}", content=body, headers=headers)
    assert response.status_code == 422, response.text


@pytest.mark.parametrize(("number", "quantity"), [("3", "3"), ("3.0", "3"), ("3e0", "3"), ("2E+1", "20")])
async def test_a_quote_takes_a_json_number_whose_exact_value_is_an_integer(
    sqlite_catalog: CatalogClient, number: str, quantity: str
) -> None:
    # JSON Schema's "integer" is any number with a zero fractional part (3.0 is the integer 3),
    # and the OpenAPI document says `integer`: the server agrees with its schema.
    product = await sqlite_catalog.created("/v1/products", f.product())
    price = await sqlite_catalog.created("/v1/prices", f.per_unit_price(product["id"], "2.00"))
    body = '{"currency": "USD", "as_of": "2026-03-01", "items": [{"price_id": "%s", "quantity": %s}]}'
    response = await _raw_post(sqlite_catalog, "/v1/quotes", body % (price["id"], number))
    assert response.status_code == 201, response.text
    assert response.json()["lines"][0]["quantity"] == quantity


async def test_money_as_a_json_number_is_still_refused(sqlite_catalog: CatalogClient) -> None:
    product = await sqlite_catalog.created("/v1/products", f.product())
    body = (
        '{"product_id": "%s", "currency": "USD", "charge_type": "recurring", "billing_period": '
        '"monthly", "model": "per_unit", "unit_price": 12.5, "effective_from": "2026-01-01"}'
    )
    response = await _raw_post(sqlite_catalog, "/v1/prices", body % product["id"])
    assert response.status_code == 422, response.text
    assert _fields(response) == ["unit_price"]


# --- one money-field rule: an amount in a currency has at most its minor units ------------


@pytest.mark.parametrize(
    ("currency", "amount", "status"),
    [("JPY", "10.5", 422), ("USD", "10.005", 422), ("BHD", "1.005", 201), ("JPY", "10", 201)],
)
async def test_a_flat_price_amount_keeps_to_its_currencys_minor_units(
    sqlite_catalog: CatalogClient, currency: str, amount: str, status: int
) -> None:
    product = await sqlite_catalog.created("/v1/products", f.product())
    body = f.per_unit_price(product["id"], currency=currency)
    body.pop("unit_price")
    body.update(model="flat", amount=amount)
    response = await sqlite_catalog.post("/v1/prices", body)
    assert response.status_code == status, response.text
    if status == 422:
        assert _fields(response) == ["amount"]
        assert currency in response.json()["errors"][0]["message"]


async def test_a_new_price_version_keeps_the_same_money_rule(sqlite_catalog: CatalogClient) -> None:
    product = await sqlite_catalog.created("/v1/products", f.product())
    body = f.per_unit_price(product["id"], currency="JPY")
    body.pop("unit_price")
    body.update(model="flat", amount="1000")
    price = await sqlite_catalog.created("/v1/prices", body)
    version = {"model": "flat", "amount": "1000.5", "effective_from": "2026-06-01"}
    response = await sqlite_catalog.post(f"/v1/prices/{price['id']}/versions", version)
    assert response.status_code == 422, response.text
    assert _fields(response) == ["amount"]


@pytest.mark.parametrize(("currency", "value", "status"), [("JPY", "500.5", 422), ("USD", "5.001", 422)])
async def test_an_amount_off_discount_keeps_to_its_currencys_minor_units(
    sqlite_catalog: CatalogClient, currency: str, value: str, status: int
) -> None:
    body = f.discount(kind="amount", value=value, currency=currency)
    response = await sqlite_catalog.post("/v1/discounts", body)
    assert response.status_code == status, response.text
    assert _fields(response) == ["value"]


async def test_a_percent_discount_is_not_money(sqlite_catalog: CatalogClient) -> None:
    await sqlite_catalog.created("/v1/discounts", f.discount(value="12.5"))


# --- SKUs: one rule, upper case on input --------------------------------------------------


async def test_a_sku_is_upper_cased_so_case_variants_are_one_product(sqlite_catalog: CatalogClient) -> None:
    first = await sqlite_catalog.created("/v1/products", f.product(sku="case1"))
    assert first["sku"] == "CASE1"
    again = await sqlite_catalog.post("/v1/products", f.product(sku="CASE1"))
    assert again.status_code == 409, again.text


@pytest.mark.parametrize("sku", ["CASE1.", "-CASE", "CASE_", "CA SE", "ÄBC", "CASE\n", ".CASE"])
async def test_a_sku_starts_and_ends_with_a_letter_or_digit(sqlite_catalog: CatalogClient, sku: str) -> None:
    response = await sqlite_catalog.post("/v1/products", f.product(sku=sku))
    assert response.status_code == 422, response.text
    assert _fields(response) == ["sku"]


async def test_a_sku_may_hold_dots_dashes_and_underscores_inside(sqlite_catalog: CatalogClient) -> None:
    product = await sqlite_catalog.created("/v1/products", f.product(sku="wfm-seat_v2.1"))
    assert product["sku"] == "WFM-SEAT_V2.1"


# --- one free-text rule ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad", ["Seat\r\nX-Injected: 1", "Seat\x1b[31m", "Seat\u202egnp.exe", "Seat\u2066", "\x85"]
)
async def test_a_name_refuses_control_and_bidi_override_characters(
    sqlite_catalog: CatalogClient, bad: str
) -> None:
    response = await sqlite_catalog.post("/v1/products", f.product(name=bad))
    assert response.status_code == 422, response.text
    assert _fields(response) == ["name"]


async def test_a_description_may_hold_lines_but_no_escape(sqlite_catalog: CatalogClient) -> None:
    product = await sqlite_catalog.created("/v1/products", f.product(description="Line one\nLine\ttwo"))
    assert product["description"] == "Line one\nLine\ttwo"
    response = await sqlite_catalog.post("/v1/products", f.product(description="Line\u202eone"))
    assert response.status_code == 422, response.text
    assert _fields(response) == ["description"]
