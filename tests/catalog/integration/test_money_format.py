"""One wire format for money (issue 7 item 8), checked through the REST API in USD, JPY and BHD.

A billed amount (list, discount, net, totals, a flat price's amount, a minimum commitment, a
minimum shortfall, an amount off) has exactly the currency's minor units; a unit price, a
tier's price or flat fee and the informational tier breakdown are in their shortest exact form
("12", "0.000108"), never padded ("150.000000", a flat fee of "0.000").
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.catalog.integration import factories as f
from tests.catalog.integration.conftest import CatalogClient

SHORTEST = re.compile(r"^(0|[1-9][0-9]*)(\.[0-9]*[1-9])?$")
PLACES = {"USD": 2, "JPY": 0, "BHD": 3}


def amount_pattern(currency: str) -> re.Pattern[str]:
    """Exactly the currency's minor units: USD "3000.00", JPY "1235", BHD "1.235"."""
    places = PLACES[currency]
    return re.compile(r"^(0|[1-9][0-9]*)" + (rf"\.[0-9]{{{places}}}$" if places else "$"))


def assert_amounts(currency: str, *values: Any) -> None:
    """Every value is a billed amount with exactly the currency's minor units."""
    for value in values:
        assert isinstance(value, str) and amount_pattern(currency).fullmatch(value), (currency, value)


def assert_shortest(*values: Any) -> None:
    """Every value is a decimal in its shortest exact form (no trailing zeros, no exponent)."""
    for value in values:
        assert isinstance(value, str) and SHORTEST.fullmatch(value), value


def assert_quote_in_wire_format(quote: dict[str, Any]) -> None:
    """The quote's amounts in minor units; its unit prices and breakdown in shortest form."""
    currency = quote["currency"]
    assert_amounts(currency, quote["subtotal"], quote["discount_total"], quote["total"])
    for line in quote["lines"]:
        assert_amounts(
            currency,
            line["list_amount"],
            line["discount_amount"],
            line["net_amount"],
            line["minimum_shortfall"],
            *(d["amount"] for d in line["discounts"]),
        )
        assert_shortest(line["unit_price"], line["quantity"], line["effective_percent_off"])
        for band in line["tier_breakdown"]:
            assert_shortest(band["unit_price"], band["flat_fee"], band["amount"], band["quantity"])


# (unit price, quantity) of a per-unit line, its list amount, a flat amount as sent and shown,
# a minimum commitment as sent and shown, an amount off as sent and shown.
CASES = {
    "USD": ("0.000108", 12345, "1.33", "10", "10.00", "500", "500.00", "5", "5.00"),
    "JPY": ("12.5", 99, "1238", "1000", "1000", "50000", "50000", "500", "500"),
    "BHD": ("1.2345", 1, "1.235", "10", "10.000", "500.5", "500.500", "1.5", "1.500"),
}


@pytest.mark.parametrize("currency", ["USD", "JPY", "BHD"])
async def test_a_quote_and_its_prices_follow_the_wire_format_of_money(
    catalog: CatalogClient, currency: str
) -> None:
    unit, quantity, list_amount, flat_in, flat_out, minimum_in, minimum_out, off_in, off_out = CASES[currency]
    product = await catalog.created("/v1/products", f.product())
    per_unit = await catalog.created("/v1/prices", f.per_unit_price(product["id"], unit, currency=currency))
    flat_body = f.per_unit_price(product["id"], currency=currency)
    flat_body.pop("unit_price")
    flat = await catalog.created("/v1/prices", {**flat_body, "model": "flat", "amount": flat_in})
    tiers = [f.tier("100", "1.500000", flat_fee="0"), f.tier(None, "1.25", flat_fee="5.000")]
    graduated = await catalog.created(
        "/v1/prices",
        f.tiered_price(
            product["id"], "tiered_graduated", tiers, currency=currency, minimum_commitment=minimum_in
        ),
    )
    book = await catalog.created(
        "/v1/vendor-cost-books",
        f.cost_book(currency=currency, tiers=[f.tier("200", "20.00"), f.tier(None, "16.000000")]),
    )
    cost_plus = await catalog.created(
        "/v1/prices", f.cost_plus_price(product["id"], book["id"], currency=currency)
    )
    amount_off = await catalog.created(
        "/v1/discounts", f.discount(kind="amount", value=off_in, currency=currency)
    )

    # The prices as shown: a flat amount and a minimum commitment in minor units, unit prices
    # and tiers in their shortest form (a flat fee of "0", not "0.000").
    assert per_unit["unit_price"] == unit
    assert flat["amount"] == flat_out
    assert graduated["minimum_commitment"] == minimum_out
    assert [(t["unit_price"], t["flat_fee"]) for t in graduated["tiers"]] == [("1.5", "0"), ("1.25", "5")]
    assert [t["unit_price"] for t in book["tiers"]] == ["20", "16"]
    assert amount_off["value"] == off_out
    assert (await catalog.get(f"/v1/prices/{flat['id']}")).json()["amount"] == flat_out

    quote = await catalog.created(
        "/v1/quotes",
        f.quote(
            f.quote_item(per_unit["id"], quantity),
            f.quote_item(flat["id"], 1),
            f.quote_item(graduated["id"], 150),
            f.quote_item(cost_plus["id"], 250, amount_off["id"]),
            currency=currency,
        ),
    )

    assert_quote_in_wire_format(quote)
    per_unit_line, flat_line, graduated_line, cost_plus_line = quote["lines"]
    assert (per_unit_line["unit_price"], per_unit_line["list_amount"]) == (unit, list_amount)
    assert flat_line["list_amount"] == flat_out
    # 100 x 1.5 + 50 x 1.25 + 5 = 217.5, unrounded in the breakdown; below the minimum commitment.
    assert [(b["flat_fee"], b["amount"]) for b in graduated_line["tier_breakdown"]] == [
        ("0", "150"),
        ("5", "67.5"),
    ]
    assert graduated_line["minimum_shortfall"] != "0"
    # 250 seats at 16 x 1.25 = 20 a seat, shown as "20", not "20.000000".
    assert cost_plus_line["unit_price"] == "20"
    assert cost_plus_line["discounts"][0]["amount"] == off_out
    assert_quote_in_wire_format((await catalog.get(f"/v1/quotes/{quote['id']}")).json())
