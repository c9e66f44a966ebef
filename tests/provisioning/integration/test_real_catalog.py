"""Orders priced by the REAL catalog app, reached over HTTP (in-process) through the bootstrap seam."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from catalog.app import create_app as create_catalog_app
from catalog.config import CatalogSettings
from libs.platform.settings import Role
from provisioning.app import create_app
from provisioning.catalog_client import CatalogUnavailable, HttpCatalogClient
from tests.provisioning.integration.conftest import provisioning_settings
from tests.provisioning.integration.factories import CRM, FINANCE, OPS, customer_with_account, line, ok
from tests.support.services import API_KEYS, auth, running_app, service_settings


@dataclass
class Stack:
    """Provisioning, and the catalog it prices with."""

    provisioning: httpx.AsyncClient
    catalog: httpx.AsyncClient


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    catalog_app = create_catalog_app(
        service_settings(
            CatalogSettings, database_url=f"sqlite+aiosqlite:///{tmp_path}/catalog.db", bootstrap=None
        )
    )
    async with running_app(catalog_app) as catalog_http:
        client = HttpCatalogClient(
            "http://catalog", API_KEYS[Role.CRM], transport=httpx.ASGITransport(app=catalog_app)
        )
        app = create_app(
            provisioning_settings(f"sqlite+aiosqlite:///{tmp_path}/provisioning.db"), catalog=client
        )
        async with running_app(app) as provisioning_http:
            yield Stack(provisioning_http, catalog_http)


async def _created(catalog: httpx.AsyncClient, path: str, body: dict[str, Any]) -> str:
    response = await catalog.post(path, json=body, headers=auth(Role.ADMIN))
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def _wfm_seats(catalog: httpx.AsyncClient, billing_period: str = "monthly") -> str:
    """Seed 000: volume cost book 1-100 12.00, 101-500 10.00, 501+ 8.50 a seat a month, markup 20 %."""
    book = await _created(
        catalog,
        "/v1/vendor-cost-books",
        {
            "vendor_id": "ven_wfm",
            "name": "WFM seats",
            "currency": "USD",
            "mode": "volume",
            "markup_percent": "20",
            "tiers": [
                {"up_to": "100", "unit_price": "12.00"},
                {"up_to": "500", "unit_price": "10.00"},
                {"up_to": None, "unit_price": "8.50"},
            ],
            "effective_from": "2026-01-01",
        },
    )
    product = await _created(
        catalog,
        "/v1/products",
        {
            "sku": "WFM-SEAT",
            "name": "WFM seat",
            "kind": "license",
            "unit_of_measure": "seat",
            "license_type": "subscription",
            "revenue_rule": "ratable",
            "tax_code": "SW050000",
            "vendor_id": "ven_wfm",
        },
    )
    return await _created(
        catalog,
        "/v1/prices",
        {
            "product_id": product,
            "currency": "USD",
            "charge_type": "recurring",
            "billing_period": billing_period,
            "timing": "in_advance",
            "model": "cost_plus",
            "cost_book_id": book,
            "effective_from": "2026-01-01",
        },
    )


async def test_wfm_order_priced_by_the_catalog_starts_the_vendor_workflow(stack: Stack) -> None:
    price_id = await _wfm_seats(stack.catalog)
    _, account_id = await customer_with_account(stack.provisioning)
    order = await ok(
        await stack.provisioning.post(
            "/v1/orders",
            json={"account_id": account_id, "lines": [line(price_id, 250, term_months=36)]},
            headers=CRM,
        ),
        201,
    )
    seats = order["lines"][0]
    # 250 seats fall in the 101-500 band: 10.00 x 1.20 = 12.00 a seat, 3,000.00 a month.
    assert (seats["unit_price"], seats["list_amount"], seats["price_version"]) == ("12", "3000.00", 1)
    assert (seats["product_sku"], seats["charge_type"], seats["billing_period"]) == (
        "WFM-SEAT",
        "recurring",
        "monthly",
    )
    submitted = await ok(await stack.provisioning.post(f"/v1/orders/{order['id']}/submit", headers=CRM))
    assert submitted["status"] == "approved"
    workflow = (await ok(await stack.provisioning.get(f"/v1/workflows?order_id={order['id']}", headers=OPS)))[
        "data"
    ][0]
    assert workflow["template_name"] == "resold_wfm_seats"


async def test_an_annual_wfm_order_bills_a_year_for_the_templates_36_month_term(stack: Stack) -> None:
    # EXAMPLES case 1: 250 seats billed annually in advance for 3 years.
    price_id = await _wfm_seats(stack.catalog, "annual")
    _, account_id = await customer_with_account(stack.provisioning)
    order = await ok(
        await stack.provisioning.post(
            "/v1/orders",
            json={"account_id": account_id, "lines": [line(price_id, 250, effective_date="2026-03-01")]},
            headers=CRM,
        ),
        201,
    )
    seats = order["lines"][0]
    # 10.00 a seat a month x 12 x 1.20 = 144.00 a seat a year; 250 seats 36,000.00 a year.
    assert (seats["list_amount"], seats["net_amount"], seats["billing_period"]) == (
        "36000.00",
        "36000.00",
        "annual",
    )
    assert seats["unit_price"] == "144"  # shortest exact form, as the catalog quotes it
    assert order["net_total"] == "36000.00"
    await ok(await stack.provisioning.post(f"/v1/orders/{order['id']}/submit", headers=CRM))
    subscription = (
        await ok(await stack.provisioning.get(f"/v1/subscriptions?order_id={order['id']}", headers=OPS))
    )["data"][0]
    # No term on the line: the resold-seats workflow template's 36 months.
    assert (subscription["term_start"], subscription["term_end"]) == ("2026-03-01", "2029-03-01")
    assert subscription["billing_period"] == "annual"
    assert Decimal(subscription["unit_price"]) == Decimal("144")


async def test_an_explicit_term_on_the_line_wins_over_the_templates(stack: Stack) -> None:
    price_id = await _wfm_seats(stack.catalog, "annual")
    _, account_id = await customer_with_account(stack.provisioning)
    body = {
        "account_id": account_id,
        "lines": [line(price_id, 250, term_months=24, effective_date="2026-03-01")],
    }
    order = await ok(await stack.provisioning.post("/v1/orders", json=body, headers=CRM), 201)
    await ok(await stack.provisioning.post(f"/v1/orders/{order['id']}/submit", headers=CRM))
    subscription = (
        await ok(await stack.provisioning.get(f"/v1/subscriptions?order_id={order['id']}", headers=OPS))
    )["data"][0]
    assert (subscription["term_start"], subscription["term_end"]) == ("2026-03-01", "2028-03-01")


async def test_a_term_price_is_priced_for_the_lines_term(stack: Stack) -> None:
    price_id = await _wfm_seats(stack.catalog, "term")
    _, account_id = await customer_with_account(stack.provisioning)
    by_template = await ok(
        await stack.provisioning.post(
            "/v1/orders", json={"account_id": account_id, "lines": [line(price_id, 250)]}, headers=CRM
        ),
        201,
    )
    by_line = await ok(
        await stack.provisioning.post(
            "/v1/orders",
            json={"account_id": account_id, "lines": [line(price_id, 250, term_months=12)]},
            headers=CRM,
        ),
        201,
    )
    # 12.00 a seat a month: x 36 for the template's term, x 12 for the line's own.
    assert by_template["lines"][0]["list_amount"] == "108000.00"
    assert by_line["lines"][0]["list_amount"] == "36000.00"


async def test_catalog_discount_thresholds_and_unknown_prices(stack: Stack) -> None:
    price_id = await _wfm_seats(stack.catalog)
    discount = await _created(
        stack.catalog,
        "/v1/discounts",
        {"name": "Strategic 20%", "kind": "percent", "value": "20", "approval_threshold_percent": "15"},
    )
    _, account_id = await customer_with_account(stack.provisioning)
    order = await ok(
        await stack.provisioning.post(
            "/v1/orders",
            json={"account_id": account_id, "lines": [line(price_id, 250, discount_ids=[discount])]},
            headers=CRM,
        ),
        201,
    )
    assert (order["lines"][0]["net_amount"], order["lines"][0]["needs_approval"]) == ("2400.00", True)
    assert order["lines"][0]["discounts"][0]["name"] == "Strategic 20%"
    submitted = await ok(await stack.provisioning.post(f"/v1/orders/{order['id']}/submit", headers=CRM))
    assert submitted["status"] == "submitted"
    approved = await ok(await stack.provisioning.post(f"/v1/orders/{order['id']}/approve", headers=FINANCE))
    assert approved["status"] == "approved"

    unknown = await stack.provisioning.post(
        "/v1/orders",
        json={"account_id": account_id, "lines": [line("price_01JD0S6Y4Q7V3J6C3M9W1K2X8Z", 1)]},
        headers=CRM,
    )
    assert unknown.status_code == 422
    assert [e["field"] for e in unknown.json()["errors"]] == ["lines.0.price_id"]


@pytest.mark.parametrize(
    ("threshold", "approval"),
    [(None, False), ("30", False), ("15", True)],
    ids=["no-threshold", "within-threshold", "above-threshold"],
)
async def test_a_quote_and_an_order_with_the_same_discount_agree(
    stack: Stack, threshold: str | None, approval: bool
) -> None:
    # One pricing engine (issue 7): the order takes the catalog's amounts and approval rule.
    price_id = await _wfm_seats(stack.catalog)
    discount = await _created(
        stack.catalog,
        "/v1/discounts",
        {"name": "Launch 20%", "kind": "percent", "value": "20", "approval_threshold_percent": threshold},
    )
    quote = await ok(
        await stack.catalog.post(
            "/v1/quotes",
            json={
                "currency": "USD",
                "as_of": "2026-03-01",
                "items": [{"price_id": price_id, "quantity": 250, "discount_ids": [discount]}],
            },
            headers=CRM,
        ),
        201,
    )
    _, account_id = await customer_with_account(stack.provisioning)
    order = await ok(
        await stack.provisioning.post(
            "/v1/orders",
            json={"account_id": account_id, "lines": [line(price_id, 250, discount_ids=[discount])]},
            headers=CRM,
        ),
        201,
    )
    quoted, ordered = quote["lines"][0], order["lines"][0]
    fields = ("list_amount", "discount_amount", "net_amount", "needs_approval")
    assert {f: ordered[f] for f in fields} == {f: quoted[f] for f in fields}
    assert (ordered["net_amount"], ordered["needs_approval"]) == ("2400.00", approval)
    assert quote["needs_approval"] is approval
    submitted = await ok(await stack.provisioning.post(f"/v1/orders/{order['id']}/submit", headers=CRM))
    assert submitted["status"] == ("submitted" if approval else "approved")


async def test_unreachable_catalog_is_a_503_not_a_500(sqlite_url: str) -> None:
    nowhere = HttpCatalogClient("http://127.0.0.1:1", API_KEYS[Role.CRM], timeout_s=1)
    async with running_app(create_app(provisioning_settings(sqlite_url), catalog=nowhere)) as client:
        _, account_id = await customer_with_account(client)
        response = await client.post(
            "/v1/orders", json={"account_id": account_id, "lines": [line("price_x", 1)]}, headers=CRM
        )
    assert response.status_code == 503
    assert response.json()["detail"] == "catalog unavailable"


async def test_catalog_failing_with_5xx_is_a_503() -> None:
    failing = HttpCatalogClient(
        "http://catalog", "key", transport=httpx.MockTransport(lambda request: httpx.Response(502))
    )
    with pytest.raises(CatalogUnavailable):
        await failing.get_price("price_x", as_of=date(2026, 3, 1))
    await failing.aclose()
