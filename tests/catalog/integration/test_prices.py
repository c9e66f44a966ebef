"""Prices through the API: tiers at and across boundaries, packages, minimums, versions as of a date."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from libs.platform.settings import Role
from tests.catalog.integration import factories as f
from tests.catalog.integration.conftest import CatalogClient
from tests.support.services import auth

# Graduated usage: 500 included; 501-5,000 at 0.0200; 5,001-20,000 at 0.0150; above at 0.0100.
GRADUATED = [f.tier("5000", "0.0200"), f.tier("20000", "0.0150"), f.tier(None, "0.0100")]
# Volume seats: up to 100 at 4.00, up to 1,000 at 3.25, above at 2.80 (all seats at the total's band).
VOLUME = [f.tier("100", "4.00"), f.tier("1000", "3.25"), f.tier(None, "2.80")]


async def _product(catalog: CatalogClient, **overrides: Any) -> str:
    return str((await catalog.created("/v1/products", f.product(**overrides)))["id"])


async def _quote_lines(catalog: CatalogClient, price_id: str, *quantities: int) -> dict[str, Any]:
    return await catalog.created("/v1/quotes", f.quote(*(f.quote_item(price_id, q) for q in quantities)))


async def test_graduated_price_at_and_across_its_tier_boundaries(catalog: CatalogClient) -> None:
    product_id = await _product(catalog, kind="usage", unit_of_measure="api_call")
    body = f.tiered_price(product_id, "tiered_graduated", GRADUATED, included_quantity="500")
    price = await catalog.created("/v1/prices", body)

    quote = await _quote_lines(catalog, price["id"], 400, 5000, 5001, 20000, 23457)

    amounts = [line["list_amount"] for line in quote["lines"]]
    # 400: all included; 5,000: 4,500 x 0.02; 5,001: + 1 x 0.015 = 90.015 -> half up;
    # 20,000: 90 + 15,000 x 0.015; 23,457: 315 + 3,457 x 0.01.
    assert amounts == ["0.00", "90.00", "90.02", "315.00", "349.57"]
    assert quote["subtotal"] == "844.59"
    # The breakdown is informational and unrounded.
    bands = [(b["band_to"], b["quantity"], b["amount"]) for b in quote["lines"][2]["tier_breakdown"]]
    assert [(to, Decimal(q), Decimal(a)) for to, q, a in bands] == [
        ("500", Decimal(500), Decimal(0)),
        ("5000", Decimal(4500), Decimal("90.00")),
        ("20000", Decimal(1), Decimal("0.015")),
    ]


async def test_volume_price_at_and_across_its_tier_boundaries(catalog: CatalogClient) -> None:
    product_id = await _product(catalog)
    price = await catalog.created("/v1/prices", f.tiered_price(product_id, "tiered_volume", VOLUME))

    quote = await _quote_lines(catalog, price["id"], 100, 101, 333, 1000, 1001)

    lines = quote["lines"]
    assert [line["list_amount"] for line in lines] == ["400.00", "328.25", "1082.25", "3250.00", "2802.80"]
    assert [line["unit_price"] for line in lines] == ["4", "3.25", "3.25", "3.25", "2.8"]
    assert quote["total"] == "7863.30"


async def test_package_and_minimum_commitment(catalog: CatalogClient) -> None:
    product_id = await _product(catalog, kind="service", unit_of_measure="hour")
    package = await catalog.created(
        "/v1/prices", f.per_unit_price(product_id, "90.00", model="package", package_size="25")
    )
    floored = await catalog.created(
        "/v1/prices", f.per_unit_price(product_id, "2.00", minimum_commitment="500.00")
    )

    quote = await catalog.created(
        "/v1/quotes", f.quote(f.quote_item(package["id"], 51), f.quote_item(floored["id"], 100))
    )

    packs, usage = quote["lines"]
    assert packs["list_amount"] == "270.00"  # ceil(51 / 25) = 3 packages
    assert usage["list_amount"] == "200.00"
    assert usage["minimum_shortfall"] == "300.00"
    assert quote["subtotal"] == "770.00"  # 270 + 200 + the 300 shortfall line
    assert quote["total"] == "770.00"


async def test_versions_are_looked_up_as_of_a_date(catalog: CatalogClient) -> None:
    product_id = await _product(catalog)
    v1 = await catalog.created("/v1/prices", f.per_unit_price(product_id, "150.00"))
    price_id = v1["id"]
    v2 = await catalog.created(
        f"/v1/prices/{price_id}/versions",
        {"model": "per_unit", "unit_price": "165.00", "effective_from": "2026-07-01"},
    )
    await catalog.created(
        f"/v1/prices/{price_id}/versions",
        {"model": "per_unit", "unit_price": "170.00", "effective_from": "2027-01-01"},
    )

    async def as_of(day: str) -> dict[str, Any]:
        response = await catalog.get(f"/v1/prices/{price_id}", params={"as_of": day})
        return {"status": response.status_code, **response.json()}

    june = await as_of("2026-06-30")
    assert (june["version"], june["unit_price"], june["effective_to"]) == (1, "150", "2026-07-01")
    july = await as_of("2026-07-01")
    assert (july["version"], july["unit_price"], july["effective_to"]) == (2, "165", "2027-01-01")
    assert (await as_of("2027-03-01"))["version"] == 3
    assert (await as_of("2025-12-31"))["status"] == 404
    latest = (await catalog.get(f"/v1/prices/{price_id}")).json()
    assert (latest["version"], latest["latest_version"]) == (3, 3)
    assert v2["charge_type"] == "recurring"  # a version keeps the price's schedule

    versions = (await catalog.get(f"/v1/prices/{price_id}/versions")).json()["data"]
    assert [(v["version"], v["effective_from"], v["effective_to"]) for v in versions] == [
        (1, "2026-01-01", "2026-07-01"),
        (2, "2026-07-01", "2027-01-01"),
        (3, "2027-01-01", None),
    ]
    quote = await catalog.created("/v1/quotes", f.quote(f.quote_item(price_id, 10), as_of="2026-08-01"))
    assert (quote["lines"][0]["price_version"], quote["total"]) == (2, "1650.00")
    events = await catalog.event_types()
    assert events.count("catalog.price_published") == 3


async def test_a_new_version_must_start_after_the_current_one(catalog: CatalogClient) -> None:
    product_id = await _product(catalog)
    price = await catalog.created("/v1/prices", f.per_unit_price(product_id, effective_from="2026-03-01"))

    for day in ("2026-03-01", "2026-02-01"):
        response = await catalog.post(
            f"/v1/prices/{price['id']}/versions",
            {"model": "per_unit", "unit_price": "1.00", "effective_from": day},
        )
        assert response.status_code == 422
        assert [e["field"] for e in response.json()["errors"]] == ["effective_from"]
    versions = (await catalog.get(f"/v1/prices/{price['id']}/versions")).json()["data"]
    assert len(versions) == 1
    assert versions[0]["effective_to"] is None


async def test_a_price_lists_every_problem_of_its_terms(catalog: CatalogClient) -> None:
    product_id = await _product(catalog)
    overlapping = [f.tier("100", "4.00"), f.tier("50", "3.00"), f.tier("500", "2.00")]
    response = await catalog.post("/v1/prices", f.tiered_price(product_id, "tiered_volume", overlapping))
    assert response.status_code == 422
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields == {"tiers.1.up_to", "tiers.2.up_to"}

    wrong_model = await catalog.post("/v1/prices", f.per_unit_price(product_id, tiers=[f.tier(None, "1")]))
    assert {e["field"] for e in wrong_model.json()["errors"]} == {"tiers"}
    one_time = await catalog.post("/v1/prices", f.per_unit_price(product_id, charge_type="one_time"))
    assert [e["field"] for e in one_time.json()["errors"]] == ["billing_period"]
    jpy_minimum = await catalog.post(
        "/v1/prices", f.per_unit_price(product_id, currency="JPY", minimum_commitment="100.50")
    )
    assert [e["field"] for e in jpy_minimum.json()["errors"]] == ["minimum_commitment"]
    assert (await catalog.get("/v1/prices")).json()["data"] == []
    assert await catalog.event_types() == ["catalog.product_changed"]


async def test_price_of_unknown_product_is_404(catalog: CatalogClient) -> None:
    response = await catalog.post("/v1/prices", f.per_unit_price("prod_missing"))
    assert response.status_code == 404
    assert (await catalog.get("/v1/prices/price_missing")).status_code == 404


async def test_editing_a_published_price_says_how_to_publish_a_version(catalog: CatalogClient) -> None:
    product = await _product(catalog)
    price = await catalog.created("/v1/prices", f.per_unit_price(product))
    for method in ("PATCH", "PUT", "DELETE"):
        response = await catalog.http.request(
            method, f"/v1/prices/{price['id']}", json={"unit_price": "1.00"}, headers=auth(Role.ADMIN)
        )
        assert response.status_code == 405, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert f"POST /v1/prices/{price['id']}/versions" in response.json()["detail"]
        assert response.headers["allow"] == "GET"
