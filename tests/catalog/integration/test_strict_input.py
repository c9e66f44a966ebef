"""Request bodies are read strictly: a date is a "YYYY-MM-DD" string, a boolean is true/false and
an integer a JSON integer. FastAPI validates bodies in pydantic's python mode, whose lax
coercions would read 0 as 1970-01-01, 0 as false and true or "0001" as 1; each is a 422 that
names the field and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.catalog.integration import factories as f
from tests.catalog.integration.conftest import CatalogClient

Ids = dict[str, str]
LISTS = ("/v1/products", "/v1/prices", "/v1/vendor-cost-books", "/v1/discounts", "/v1/bundles")
LISTS += ("/v1/contract-templates", "/v1/quotes")


async def _seed(catalog: CatalogClient) -> Ids:
    """One of each thing a bad request could create a version of or change."""
    product = await catalog.created("/v1/products", f.product())
    return {
        "product_id": product["id"],
        "price_id": (await catalog.created("/v1/prices", f.per_unit_price(product["id"])))["id"],
        "cost_book_id": (await catalog.created("/v1/vendor-cost-books", f.cost_book()))["id"],
        "discount_id": (await catalog.created("/v1/discounts", f.discount()))["id"],
        "bundle_id": (await catalog.created("/v1/bundles", f.bundle((product["id"], "2"))))["id"],
        "template_id": (await catalog.created("/v1/contract-templates", f.contract_template()))["id"],
    }


async def _state(catalog: CatalogClient) -> list[Any]:
    """Everything the catalog shows, its audit trail and its outbox."""
    lists = [(await catalog.get(path)).json()["data"] for path in LISTS]
    return [*lists, await catalog.audit_count(), await catalog.event_types()]


def _price(**overrides: Any) -> Callable[[Ids], Any]:
    return lambda ids: f.per_unit_price(ids["product_id"], **overrides)


def _price_version(**overrides: Any) -> Callable[[Ids], Any]:
    return lambda ids: {
        "model": "per_unit",
        "unit_price": "160.00",
        "effective_from": "2026-06-01",
        **overrides,
    }


def _cost_book(**overrides: Any) -> Callable[[Ids], Any]:
    return lambda ids: f.cost_book(**overrides)


def _cost_book_version(**overrides: Any) -> Callable[[Ids], Any]:
    fields = ("name", "mode", "markup_percent", "tiers")
    terms = {k: v for k, v in f.cost_book().items() if k in fields}
    return lambda ids: {**terms, "effective_from": "2026-06-01", **overrides}


def _body(**fields: Any) -> Callable[[Ids], Any]:
    return lambda ids: fields


def _discount(**overrides: Any) -> Callable[[Ids], Any]:
    return lambda ids: f.discount(**overrides)


def _template(**overrides: Any) -> Callable[[Ids], Any]:
    return lambda ids: f.contract_template(**overrides)


def _quote(**overrides: Any) -> Callable[[Ids], Any]:
    return lambda ids: f.quote(f.quote_item(ids["price_id"], 1), **overrides)


LAX_DATES = [0, -0.0, "-0", "0.0000001", "2026-01-01T00:00:00Z"]
WIRE_TYPE_ERRORS = {"date_format", "bool_type", "int_type"}
CASES = [
    *[
        pytest.param("POST", "/v1/prices", _price(effective_from=v), "effective_from", id=f"price-from-{v!r}")
        for v in LAX_DATES
    ],
    pytest.param("POST", "/v1/prices", _price(effective_to=0), "effective_to", id="price-to-0"),
    pytest.param(
        "POST",
        "/v1/prices/{price_id}/versions",
        _price_version(effective_from=0),
        "effective_from",
        id="price-version-from-0",
    ),
    pytest.param(
        "POST",
        "/v1/prices/{price_id}/versions",
        _price_version(effective_to="2027-01-01T00:00:00Z"),
        "effective_to",
        id="price-version-to-datetime",
    ),
    pytest.param(
        "POST",
        "/v1/vendor-cost-books",
        _cost_book(effective_from="-0"),
        "effective_from",
        id="cost-book-from",
    ),
    pytest.param(
        "POST",
        "/v1/vendor-cost-books",
        _cost_book(effective_to="0.0000001"),
        "effective_to",
        id="cost-book-to",
    ),
    pytest.param(
        "POST",
        "/v1/vendor-cost-books/{cost_book_id}/versions",
        _cost_book_version(effective_from=-0.0),
        "effective_from",
        id="cost-book-version-from",
    ),
    pytest.param("POST", "/v1/discounts", _discount(valid_from=0), "valid_from", id="discount-from-0"),
    pytest.param(
        "POST",
        "/v1/discounts",
        _discount(valid_to="2026-01-01T00:00:00Z"),
        "valid_to",
        id="discount-to-datetime",
    ),
    pytest.param(
        "POST", "/v1/discounts", _discount(duration_cycles=True), "duration_cycles", id="discount-cycles-true"
    ),
    pytest.param(
        "POST",
        "/v1/discounts",
        _discount(duration_cycles="0001"),
        "duration_cycles",
        id="discount-cycles-0001",
    ),
    pytest.param(
        "POST",
        "/v1/discounts",
        _discount(duration_cycles=" 1"),
        "duration_cycles",
        id="discount-cycles-space",
    ),
    pytest.param("PATCH", "/v1/discounts/{discount_id}", _body(active=0), "active", id="discount-active-0"),
    pytest.param(
        "PATCH", "/v1/discounts/{discount_id}", _body(valid_from="-0"), "valid_from", id="discount-patch-from"
    ),
    pytest.param(
        "PATCH",
        "/v1/discounts/{discount_id}",
        _body(duration_cycles=True),
        "duration_cycles",
        id="discount-patch-cycles",
    ),
    pytest.param("PATCH", "/v1/products/{product_id}", _body(active=0), "active", id="product-active-0"),
    pytest.param(
        "PATCH", "/v1/products/{product_id}", _body(active="false"), "active", id="product-active-string"
    ),
    pytest.param("PATCH", "/v1/bundles/{bundle_id}", _body(active=1), "active", id="bundle-active-1"),
    pytest.param(
        "POST",
        "/v1/contract-templates",
        _template(period_months=True),
        "period_months",
        id="template-months-true",
    ),
    pytest.param(
        "PATCH",
        "/v1/contract-templates/{template_id}",
        _body(period_months="12"),
        "period_months",
        id="template-months-string",
    ),
    pytest.param("POST", "/v1/quotes", _quote(as_of=0), "as_of", id="quote-as-of-0"),
    pytest.param(
        "POST", "/v1/quotes", _quote(as_of="2026-03-01T00:00:00Z"), "as_of", id="quote-as-of-datetime"
    ),
]


@pytest.mark.parametrize(("method", "path", "build", "field"), CASES)
async def test_lax_dates_booleans_and_integers_are_refused_and_change_nothing(
    catalog: CatalogClient, method: str, path: str, build: Callable[[Ids], Any], field: str
) -> None:
    ids = await _seed(catalog)
    before = await _state(catalog)

    send = catalog.post if method == "POST" else catalog.patch
    response = await send(path.format(**ids), build(ids))

    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    # Refused by the wire types themselves, not by a later business rule.
    assert [(e["field"], e["code"] in WIRE_TYPE_ERRORS) for e in response.json()["errors"]] == [(field, True)]
    assert await _state(catalog) == before


async def test_iso_dates_booleans_and_integers_are_accepted(catalog: CatalogClient) -> None:
    ids = await _seed(catalog)

    version = await catalog.created(
        f"/v1/prices/{ids['price_id']}/versions", _price_version(effective_to="2027-01-01")(ids)
    )
    assert (version["effective_from"], version["effective_to"]) == ("2026-06-01", "2027-01-01")
    discount = await catalog.created(
        "/v1/discounts", f.discount(duration_cycles=3, valid_from="2026-01-01", valid_to="2026-07-01")
    )
    assert (discount["duration_cycles"], discount["valid_from"]) == (3, "2026-01-01")

    changed = await catalog.patch(f"/v1/discounts/{discount['id']}", {"active": False, "duration_cycles": 6})
    assert changed.status_code == 200, changed.text
    assert (changed.json()["active"], changed.json()["duration_cycles"]) == (False, 6)
    product = await catalog.patch(f"/v1/products/{ids['product_id']}", {"active": True})
    assert product.status_code == 200 and product.json()["active"] is True
    template = await catalog.patch(f"/v1/contract-templates/{ids['template_id']}", {"period_months": 24})
    assert template.status_code == 200 and template.json()["period_months"] == 24
    quote = await catalog.created("/v1/quotes", _quote(as_of="2026-03-01")(ids))
    assert quote["as_of"] == "2026-03-01"
