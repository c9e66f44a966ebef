"""Bad input gets a 4xx problem+json with the offending field, and changes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from tests.catalog.integration import factories as f
from tests.catalog.integration.conftest import CatalogClient
from tests.support.services import auth


async def _unchanged(catalog: CatalogClient) -> tuple[int, int, list[str]]:
    prices = (await catalog.get("/v1/prices")).json()["data"]
    return await catalog.audit_count(), len(prices), await catalog.event_types()


def _price_with(**overrides: Any) -> Any:
    return lambda product_id: f.per_unit_price(product_id, **overrides)


BAD_PRICES = [
    pytest.param(_price_with(unit_price=150.0), "unit_price", id="json-number-for-money"),
    pytest.param(_price_with(unit_price="1e-9"), "unit_price", id="exponent"),
    pytest.param(_price_with(unit_price="0.0000001"), "unit_price", id="seven-decimals"),
    pytest.param(_price_with(unit_price="-1.00"), "unit_price", id="negative"),
    pytest.param(_price_with(unit_price="1234567890123456789.00"), "unit_price", id="huge"),
    pytest.param(_price_with(unit_price="NaN"), "unit_price", id="nan"),
    pytest.param(_price_with(currency="XYZ"), "currency", id="unknown-currency"),
    pytest.param(_price_with(currency="usd"), "currency", id="lower-case-currency"),
    pytest.param(_price_with(model="freemium"), "model", id="unknown-model"),
    pytest.param(_price_with(included_quantity=-5), "included_quantity", id="negative-quantity"),
    pytest.param(_price_with(included_quantity=10**30), "included_quantity", id="huge-integer"),
    pytest.param(_price_with(effective_from="2026-02-30"), "effective_from", id="impossible-date"),
    pytest.param(_price_with(surprise="field"), "surprise", id="unknown-field"),
    pytest.param(
        _price_with(
            model="tiered_graduated", unit_price=None, tiers=[f.tier("100", "1"), f.tier("100", "2")]
        ),
        "tiers.1.up_to",
        id="overlapping-tiers",
    ),
    pytest.param(
        _price_with(
            model="tiered_volume",
            unit_price=None,
            tiers=[f.tier("500", "1"), f.tier("100", "2"), f.tier(None, "3")],
        ),
        "tiers.1.up_to",
        id="unsorted-tiers",
    ),
    pytest.param(
        _price_with(model="tiered_volume", unit_price=None, tiers=[{"up_to": "100", "unit_price": 2}]),
        "tiers.0.unit_price",
        id="json-number-in-a-tier",
    ),
]


@pytest.mark.parametrize(("build", "field"), BAD_PRICES)
async def test_bad_price_is_refused_and_changes_nothing(
    sqlite_catalog: CatalogClient, build: Any, field: str
) -> None:
    product_id = (await sqlite_catalog.created("/v1/products", f.product()))["id"]
    before = await _unchanged(sqlite_catalog)

    response = await sqlite_catalog.post("/v1/prices", build(product_id))

    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert field in [e["field"] for e in response.json()["errors"]]
    assert await _unchanged(sqlite_catalog) == before


BAD_QUOTES = [
    pytest.param({"quantity": "-5"}, "items.0.quantity", id="negative-quantity"),
    pytest.param({"quantity": -5}, "items.0.quantity", id="negative-integer"),
    pytest.param({"quantity": 2.5}, "items.0.quantity", id="float-quantity"),
    pytest.param({"quantity": "1e3"}, "items.0.quantity", id="exponent-quantity"),
    pytest.param({"quantity": "9" * 19}, "items.0.quantity", id="huge-quantity"),
    pytest.param({"price_id": None}, "items.0", id="neither-price-nor-bundle"),
]


@pytest.mark.parametrize(("item_overrides", "field"), BAD_QUOTES)
async def test_bad_quote_is_refused_and_changes_nothing(
    sqlite_catalog: CatalogClient, item_overrides: dict[str, Any], field: str
) -> None:
    product_id = (await sqlite_catalog.created("/v1/products", f.product()))["id"]
    price_id = (await sqlite_catalog.created("/v1/prices", f.per_unit_price(product_id)))["id"]
    before = await _unchanged(sqlite_catalog)
    item = {**f.quote_item(price_id, 1), **item_overrides}

    response = await sqlite_catalog.post("/v1/quotes", f.quote(item))

    assert response.status_code == 422, response.text
    assert field in [e["field"] for e in response.json()["errors"]]
    assert await _unchanged(sqlite_catalog) == before


async def test_a_quote_too_large_to_represent_is_refused(sqlite_catalog: CatalogClient) -> None:
    product_id = (await sqlite_catalog.created("/v1/products", f.product()))["id"]
    price_id = (await sqlite_catalog.created("/v1/prices", f.per_unit_price(product_id, "999999999.999999")))[
        "id"
    ]

    response = await sqlite_catalog.post("/v1/quotes", f.quote(f.quote_item(price_id, "999999999999999999")))

    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["items.0.quantity"]


async def test_malformed_and_unknown_ids(sqlite_catalog: CatalogClient) -> None:
    for path in ("/v1/prices/price_missing", "/v1/bundles/bnd_x", "/v1/discounts/disc_x", "/v1/quotes/quo_x"):
        assert (await sqlite_catalog.get(path)).status_code == 404
    assert (await sqlite_catalog.get("/v1/vendor-cost-books/cb_x")).status_code == 404
    assert (await sqlite_catalog.get("/v1/contract-templates/ctpl_x")).status_code == 404
    # Not an id at all (a NUL byte would break PostgreSQL): refused before any query.
    assert (await sqlite_catalog.get("/v1/products/a%00b")).status_code == 422
    assert (await sqlite_catalog.get("/v1/prices", params={"product_id": "x\x00"})).status_code == 422
    assert (await sqlite_catalog.get("/v1/prices/price_x", params={"as_of": "tomorrow"})).status_code == 422


async def test_text_with_control_characters_is_refused(sqlite_catalog: CatalogClient) -> None:
    response = await sqlite_catalog.post("/v1/products", f.product(name="Seat\x00"))
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["name"]


async def test_body_that_is_not_json_is_refused(sqlite_catalog: CatalogClient) -> None:
    response = await sqlite_catalog.http.post(
        "/v1/products", content=b"{not json", headers={**auth(), "content-type": "application/json"}
    )
    assert response.status_code == 422
