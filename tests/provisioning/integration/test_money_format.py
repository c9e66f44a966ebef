"""One wire format for money (issue 7 item 8): an order priced by the real catalog, in USD, JPY, BHD.

Billed amounts (a line's list, discount and net amounts, the discounts, the order's totals) have
exactly the currency's minor units; a unit price and a quantity are in their shortest exact
form ("12.5", not "12.500000"), as the catalog shows them.
"""

from __future__ import annotations

import httpx
import pytest

from libs.platform.settings import Role
from tests.catalog.integration.test_money_format import assert_amounts, assert_shortest
from tests.provisioning.integration.factories import CRM, customer_with_account, line, ok
from tests.provisioning.integration.test_real_catalog import Stack, stack  # noqa: F401  (fixture)
from tests.support.services import auth

# (unit price, seats, list amount, 10 % off, net) per currency: each rounds differently.
CASES = {
    "USD": ("0.000108", 12345, "1.33", "0.13", "1.20"),
    "JPY": ("12.5", 99, "1238", "124", "1114"),
    "BHD": ("1.2345", 1, "1.235", "0.124", "1.111"),
}


async def _created(catalog: httpx.AsyncClient, path: str, body: dict[str, object]) -> str:
    response = await catalog.post(path, json=body, headers=auth(Role.ADMIN))
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


@pytest.mark.parametrize("currency", ["USD", "JPY", "BHD"])
async def test_an_order_shows_amounts_in_minor_units_and_unit_prices_in_shortest_form(
    stack: Stack,  # noqa: F811
    currency: str,
) -> None:
    unit, seats, list_amount, discount, net = CASES[currency]
    product = await _created(
        stack.catalog,
        "/v1/products",
        {
            "sku": f"SEAT-{currency}",
            "name": "Platform seat",
            "kind": "license",
            "unit_of_measure": "seat",
            "license_type": "subscription",
            "revenue_rule": "ratable",
            "tax_code": "SW050000",
        },
    )
    price = await _created(
        stack.catalog,
        "/v1/prices",
        {
            "product_id": product,
            "currency": currency,
            "charge_type": "recurring",
            "billing_period": "monthly",
            "timing": "in_advance",
            "model": "per_unit",
            "unit_price": unit,
            "effective_from": "2026-01-01",
        },
    )
    ten_off = await _created(
        stack.catalog, "/v1/discounts", {"name": "Partner 10%", "kind": "percent", "value": "10.00"}
    )
    _, account_id = await customer_with_account(stack.provisioning, currency=currency)

    order = await ok(
        await stack.provisioning.post(
            "/v1/orders",
            json={
                "account_id": account_id,
                "lines": [line(price, seats, effective_date="2026-03-01", discount_ids=[ten_off])],
            },
            headers=CRM,
        ),
        201,
    )

    (order_line,) = order["lines"]
    assert (order_line["unit_price"], order_line["quantity"]) == (unit, str(seats))
    assert (order_line["list_amount"], order_line["discount_amount"], order_line["net_amount"]) == (
        list_amount,
        discount,
        net,
    )
    assert (order["list_total"], order["discount_total"], order["net_total"]) == (list_amount, discount, net)
    assert_amounts(
        currency,
        order_line["list_amount"],
        order_line["discount_amount"],
        order_line["net_amount"],
        *(d["amount"] for d in order_line["discounts"]),
        order["list_total"],
        order["discount_total"],
        order["net_total"],
    )
    assert_shortest(order_line["unit_price"], order_line["quantity"], order_line["effective_percent_off"])
    shown = await ok(await stack.provisioning.get(f"/v1/orders/{order['id']}", headers=CRM))
    assert (shown["lines"][0]["unit_price"], shown["net_total"]) == (unit, net)
