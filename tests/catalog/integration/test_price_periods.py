"""Prices per period (DESIGN §7 "Periods of prices", issue 7 item 7), through the catalog API.

A cost book states the period its tiers are priced for (monthly unless it says otherwise); a
price's unit price is per its billing period, so a cost-plus price converts the book's period
to its own: a monthly book billed annually is x 12, per a 36-month term x 36.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlmodel import col, select

from libs.platform.outbox import OutboxMessage
from tests.catalog.integration import factories as f
from tests.catalog.integration.conftest import CatalogClient

# EXAMPLES case 1's vendor book, under numbers of our own: 1-100 seats 12.00, 101-500 10.00,
# 501+ 8.50 a seat a month; markup 20%.
WFM_TIERS = [f.tier("100", "12.00"), f.tier("500", "10.00"), f.tier(None, "8.50")]


async def _book(catalog: CatalogClient, **overrides: Any) -> dict[str, Any]:
    body = f.cost_book(**{"vendor_id": "ven_wfm", "markup_percent": "20", "tiers": WFM_TIERS, **overrides})
    return await catalog.created("/v1/vendor-cost-books", body)


async def _price(catalog: CatalogClient, book_id: str, billing_period: str) -> dict[str, Any]:
    product = await catalog.created("/v1/products", f.product(vendor_id="ven_wfm"))
    body = f.cost_plus_price(product["id"], book_id, billing_period=billing_period)
    return await catalog.created("/v1/prices", body)


async def _line(catalog: CatalogClient, price_id: str, seats: int, **item: Any) -> dict[str, Any]:
    quote = await catalog.created("/v1/quotes", f.quote({**f.quote_item(price_id, seats), **item}))
    return quote["lines"][0]


@pytest.mark.parametrize(
    ("billing_period", "unit_price", "list_amount"),
    [
        ("monthly", "12", "3000.00"),
        ("quarterly", "36", "9000.00"),
        ("annual", "144", "36000.00"),
    ],
)
async def test_a_cost_plus_price_quotes_its_billing_periods_amount(
    catalog: CatalogClient, billing_period: str, unit_price: str, list_amount: str
) -> None:
    book = await _book(catalog)
    assert book["tier_period"] == "monthly"  # a vendor's list is per seat per month
    price = await _price(catalog, book["id"], billing_period)

    line = await _line(catalog, price["id"], 250)

    # 250 seats: band 101-500 at 10.00 x 1.20 = 12.00 a seat a month.
    assert (line["unit_price"], line["list_amount"]) == (unit_price, list_amount)


async def test_a_graduated_book_billed_annually(catalog: CatalogClient) -> None:
    book = await _book(catalog, mode="graduated")
    price = await _price(catalog, book["id"], "annual")

    line = await _line(catalog, price["id"], 250)

    # (100 x 12.00 + 150 x 10.00) x 1.20 = 3,240.00 a month; x 12 a year.
    assert line["list_amount"] == "38880.00"


async def test_a_term_price_quotes_the_whole_term(catalog: CatalogClient) -> None:
    book = await _book(catalog)
    price = await _price(catalog, book["id"], "term")

    line = await _line(catalog, price["id"], 250, term_months=36)
    without = await catalog.post("/v1/quotes", f.quote(f.quote_item(price["id"], 250)))

    assert (line["unit_price"], line["list_amount"]) == ("432", "108000.00")
    assert without.status_code == 422, without.text
    assert [e["field"] for e in without.json()["errors"]] == ["items.0.term_months"]


async def test_books_priced_per_quarter_or_year_convert_to_whole_multiples(catalog: CatalogClient) -> None:
    quarterly = await _book(
        catalog,
        tier_period="quarterly",
        tiers=[f.tier("100", "36.00"), f.tier("500", "30.00"), f.tier(None, "25.50")],
    )
    annual = await _book(
        catalog,
        tier_period="annual",
        tiers=[f.tier("100", "144.00"), f.tier("500", "120.00"), f.tier(None, "102.00")],
    )
    assert (quarterly["tier_period"], annual["tier_period"]) == ("quarterly", "annual")
    by_quarter = await _price(catalog, quarterly["id"], "annual")
    by_year = await _price(catalog, annual["id"], "annual")
    quarter = await _price(catalog, quarterly["id"], "quarterly")

    assert (await _line(catalog, by_quarter["id"], 250))["list_amount"] == "36000.00"
    assert (await _line(catalog, by_year["id"], 250))["list_amount"] == "36000.00"
    assert (await _line(catalog, quarter["id"], 250))["list_amount"] == "9000.00"


async def test_a_period_that_is_not_a_whole_multiple_of_the_books_is_refused(catalog: CatalogClient) -> None:
    quarterly = await _book(catalog, tier_period="quarterly")
    product = await catalog.created("/v1/products", f.product(vendor_id="ven_wfm"))

    monthly = await catalog.post(
        "/v1/prices", f.cost_plus_price(product["id"], quarterly["id"], billing_period="monthly")
    )
    term = await catalog.created(
        "/v1/prices", f.cost_plus_price(product["id"], quarterly["id"], billing_period="term")
    )
    sixteen = await catalog.post("/v1/quotes", f.quote({**f.quote_item(term["id"], 10), "term_months": 16}))
    unknown = await catalog.post("/v1/vendor-cost-books", f.cost_book(tier_period="weekly"))

    assert monthly.status_code == 422, monthly.text
    assert [(e["field"], e["code"]) for e in monthly.json()["errors"]] == [
        ("billing_period", "period_not_convertible")
    ]
    assert "quarterly" in monthly.json()["errors"][0]["message"]
    assert sixteen.status_code == 422, sixteen.text
    assert [(e["field"], e["code"]) for e in sixteen.json()["errors"]] == [
        ("items.0.billing_period", "period_not_convertible")
    ]
    assert unknown.status_code == 422, unknown.text
    assert [e["field"] for e in unknown.json()["errors"]] == ["tier_period"]


async def test_the_published_cost_book_event_states_its_period(catalog: CatalogClient) -> None:
    await _book(catalog, tier_period="quarterly")

    async with catalog.runtime.db.session() as session:
        rows = await session.exec(
            select(OutboxMessage).where(col(OutboxMessage.event_type) == "catalog.cost_book_published")
        )
        payloads = [json.loads(row.body)["payload"] for row in rows.all()]

    assert [p["tier_period"] for p in payloads] == ["quarterly"]
