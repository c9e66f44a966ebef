"""Vendor cost books and cost-plus prices: volume and graduated books, markup, versions."""

from __future__ import annotations

from typing import Any

from tests.catalog.integration import factories as f
from tests.catalog.integration.conftest import CatalogClient


async def _cost_plus_price(catalog: CatalogClient, **book: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    cost_book = await catalog.created("/v1/vendor-cost-books", f.cost_book(**book))
    product = await catalog.created("/v1/products", f.product(vendor_id="ven_rostering"))
    price = await catalog.created("/v1/prices", f.cost_plus_price(product["id"], cost_book["id"]))
    return cost_book, price


async def test_volume_cost_book_priced_at_the_band_of_the_total(catalog: CatalogClient) -> None:
    _, price = await _cost_plus_price(catalog)

    quote = await catalog.created(
        "/v1/quotes", f.quote(f.quote_item(price["id"], 450), f.quote_item(price["id"], 200))
    )

    seats_450, seats_200 = quote["lines"]
    # 450 seats fall in 201-1,000 at 16.00; x 1.25 = 20.00 a seat.
    assert (seats_450["unit_price"], seats_450["list_amount"]) == ("20", "9000.00")
    # 200 seats sit on the first band's edge: 20.00 x 1.25 = 25.00.
    assert (seats_200["unit_price"], seats_200["list_amount"]) == ("25", "5000.00")
    assert quote["total"] == "14000.00"


async def test_graduated_cost_book_and_a_fractional_markup(catalog: CatalogClient) -> None:
    _, graduated = await _cost_plus_price(catalog, mode="graduated")
    _, marked = await _cost_plus_price(catalog, markup_percent="17.5")

    quote = await catalog.created(
        "/v1/quotes", f.quote(f.quote_item(graduated["id"], 450), f.quote_item(marked["id"], 450))
    )

    # Graduated: (200 x 20.00 + 250 x 16.00) x 1.25 = 10,000.00; volume at 17.5%: 16.00 x 1.175 x 450.
    assert [line["list_amount"] for line in quote["lines"]] == ["10000.00", "8460.00"]


async def test_a_new_cost_book_version_reprices_quotes_from_its_date(catalog: CatalogClient) -> None:
    book, price = await _cost_plus_price(catalog)
    tiers = [f.tier("200", "20.00"), f.tier("1000", "15.00"), f.tier(None, "13.50")]
    version = await catalog.created(
        f"/v1/vendor-cost-books/{book['id']}/versions",
        {
            "name": "Rostering seats 2026-Q2",
            "mode": "volume",
            "markup_percent": "25",
            "tiers": tiers,
            "effective_from": "2026-04-01",
        },
    )
    assert version["version"] == 2

    march = await catalog.created("/v1/quotes", f.quote(f.quote_item(price["id"], 450), as_of="2026-03-31"))
    april = await catalog.created("/v1/quotes", f.quote(f.quote_item(price["id"], 450), as_of="2026-04-01"))

    assert march["total"] == "9000.00"
    assert april["total"] == "8437.50"  # 15.00 x 1.25 = 18.75 a seat
    as_of = (await catalog.get(f"/v1/vendor-cost-books/{book['id']}", params={"as_of": "2026-03-31"})).json()
    assert (as_of["version"], as_of["effective_to"]) == (1, "2026-04-01")
    assert (
        await catalog.get(f"/v1/vendor-cost-books/{book['id']}", params={"as_of": "2025-01-01"})
    ).status_code == 404
    assert (await catalog.event_types()).count("catalog.cost_book_published") == 2


async def test_cost_plus_needs_a_book_in_the_price_currency(catalog: CatalogClient) -> None:
    book = await catalog.created("/v1/vendor-cost-books", f.cost_book(currency="EUR"))
    product = await catalog.created("/v1/products", f.product())

    mismatch = await catalog.post("/v1/prices", f.cost_plus_price(product["id"], book["id"]))
    missing = await catalog.post("/v1/prices", f.cost_plus_price(product["id"], "cb_missing"))
    without = await catalog.post("/v1/prices", f.cost_plus_price(product["id"], None))

    assert mismatch.status_code == 422
    assert [e["field"] for e in mismatch.json()["errors"]] == ["cost_book_id"]
    assert missing.status_code == 404
    assert [e["field"] for e in without.json()["errors"]] == ["cost_book_id"]


async def test_cost_book_tiers_must_be_sorted_and_end_open(catalog: CatalogClient) -> None:
    unsorted = f.cost_book(tiers=[f.tier("500", "10.00"), f.tier("100", "12.00"), f.tier(None, "8.50")])
    closed = f.cost_book(tiers=[f.tier("100", "12.00"), f.tier("500", "10.00")])

    first = await catalog.post("/v1/vendor-cost-books", unsorted)
    second = await catalog.post("/v1/vendor-cost-books", closed)

    assert first.status_code == second.status_code == 422
    assert [e["field"] for e in first.json()["errors"]] == ["tiers.1.up_to"]
    assert [e["field"] for e in second.json()["errors"]] == ["tiers.1.up_to"]
    assert (await catalog.get("/v1/vendor-cost-books")).json()["data"] == []


async def test_a_reseller_markup_above_100_percent_is_accepted_up_to_1000(catalog: CatalogClient) -> None:
    book, price = await _cost_plus_price(catalog, markup_percent="150")

    quote = await catalog.created("/v1/quotes", f.quote(f.quote_item(price["id"], 450)))

    # 450 seats at the 16.00 band, x 2.5 = 40.00 a seat.
    assert (quote["lines"][0]["unit_price"], quote["lines"][0]["list_amount"]) == ("40", "18000.00")
    assert book["markup_percent"] == "150"
    assert (await catalog.get(f"/v1/vendor-cost-books/{book['id']}")).json()["markup_percent"] == "150"
    assert "catalog.cost_book_published" in await catalog.event_types()
    for refused in ("1000.0001", "-1", "12.34567", 150):
        response = await catalog.post("/v1/vendor-cost-books", f.cost_book(markup_percent=refused))
        assert response.status_code == 422, refused
        assert [e["field"] for e in response.json()["errors"]] == ["markup_percent"]
    assert (await catalog.created("/v1/vendor-cost-books", f.cost_book(markup_percent="1000")))[
        "markup_percent"
    ] == ("1000")
