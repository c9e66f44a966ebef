"""Quotes through the API: discounts and approval, JPY and BHD rounding, bundles, refusals."""

from __future__ import annotations

from typing import Any

from jsonschema_rs import Draft202012Validator

from libs.platform.settings import Role
from tests.catalog.integration import factories as f
from tests.catalog.integration.conftest import CatalogClient


async def _priced_product(
    catalog: CatalogClient, price: dict[str, Any] | None = None, **product: Any
) -> tuple[str, str]:
    product_id = (await catalog.created("/v1/products", f.product(**product)))["id"]
    body = f.per_unit_price(product_id)
    body.update(price or {})
    price_id = (await catalog.created("/v1/prices", body))["id"]
    return product_id, price_id


async def test_discounts_above_their_threshold_need_approval(catalog: CatalogClient) -> None:
    _, seats = await _priced_product(catalog)
    _, workshop = await _priced_product(catalog, {"unit_price": "400.00"}, kind="workshop")
    partner = await catalog.created("/v1/discounts", f.discount(value="10", approval_threshold_percent="15"))
    promo = await catalog.created(
        "/v1/discounts",
        f.discount(
            name="Spring promo",
            kind="amount",
            value="250.00",
            currency="USD",
            promo_code="SPRING26",
            approval_threshold_percent=None,
        ),
    )

    quote = await catalog.created(
        "/v1/quotes",
        f.quote(
            f.quote_item(seats, 20, promo["id"]), f.quote_item(workshop, 3), discount_ids=[partner["id"]]
        ),
    )

    seats_line, workshop_line = quote["lines"]
    # 20 x 150.00 = 3,000.00; 10% = 300.00 plus 250.00 off = 550.00 -> 18.3333% off, above 15%.
    assert seats_line["list_amount"] == "3000.00"
    assert [(d["name"], d["amount"]) for d in seats_line["discounts"]] == [
        ("Partner 10%", "300.00"),
        ("Spring promo", "250.00"),
    ]
    assert (seats_line["discount_amount"], seats_line["net_amount"]) == ("550.00", "2450.00")
    assert seats_line["effective_percent_off"] == "18.3333"
    assert seats_line["needs_approval"] is True
    # 3 x 400.00 = 1,200.00 less 10%: within the threshold.
    assert (workshop_line["net_amount"], workshop_line["needs_approval"]) == ("1080.00", False)
    assert (quote["subtotal"], quote["discount_total"], quote["total"]) == ("4200.00", "670.00", "3530.00")
    assert quote["needs_approval"] is True
    assert len(quote["approval_reasons"]) == 1
    assert "Partner 10%" in quote["approval_reasons"][0]

    fetched = (await catalog.get(f"/v1/quotes/{quote['id']}", role=Role.OPS)).json()
    assert fetched == quote
    assert (await catalog.event_types())[-1] == "catalog.quote_created"


async def test_a_discount_exactly_at_its_threshold_needs_no_approval(catalog: CatalogClient) -> None:
    _, price = await _priced_product(catalog)
    at_threshold = await catalog.created(
        "/v1/discounts", f.discount(value="15", approval_threshold_percent="15")
    )

    quote = await catalog.created("/v1/quotes", f.quote(f.quote_item(price, 7, at_threshold["id"])))

    assert (quote["lines"][0]["net_amount"], quote["needs_approval"]) == ("892.50", False)


async def test_jpy_quote_rounds_every_line_to_whole_yen(catalog: CatalogClient) -> None:
    _, volume = await _priced_product(
        catalog,
        {
            "currency": "JPY",
            "model": "tiered_volume",
            "unit_price": None,
            "tiers": [f.tier("1000", "12.5"), f.tier(None, "11.25")],
        },
    )
    _, per_unit = await _priced_product(catalog, {"currency": "JPY", "unit_price": "0.75"})
    seven = await catalog.created("/v1/discounts", f.discount(value="7", approval_threshold_percent=None))

    quote = await catalog.created(
        "/v1/quotes",
        f.quote(
            f.quote_item(volume, 1234),
            f.quote_item(per_unit, 1001),
            currency="JPY",
            discount_ids=[seven["id"]],
        ),
    )

    first, second = quote["lines"]
    # 1,234 x 11.25 = 13,882.5 -> 13,883; 7% = 971.81 -> 972.
    assert (first["list_amount"], first["discount_amount"], first["net_amount"]) == ("13883", "972", "12911")
    # 1,001 x 0.75 = 750.75 -> 751; 7% = 52.57 -> 53.
    assert (second["list_amount"], second["discount_amount"], second["net_amount"]) == ("751", "53", "698")
    assert (quote["subtotal"], quote["discount_total"], quote["total"]) == ("14634", "1025", "13609")


async def test_bhd_quote_rounds_every_line_to_three_decimals(catalog: CatalogClient) -> None:
    _, per_unit = await _priced_product(catalog, {"currency": "BHD", "unit_price": "1.2345"})
    _, graduated = await _priced_product(
        catalog,
        {
            "currency": "BHD",
            "model": "tiered_graduated",
            "unit_price": None,
            "tiers": [f.tier("10", "2.125"), f.tier(None, "1.9375")],
        },
    )
    half_dinar = await catalog.created(
        "/v1/discounts", f.discount(name="Half dinar off", kind="amount", value="0.500", currency="BHD")
    )

    quote = await catalog.created(
        "/v1/quotes",
        f.quote(
            f.quote_item(per_unit, 3),
            f.quote_item(graduated, 13),
            currency="BHD",
            discount_ids=[half_dinar["id"]],
        ),
    )

    # 3 x 1.2345 = 3.7035 -> 3.704; 10 x 2.125 + 3 x 1.9375 = 27.0625 -> 27.063.
    assert [line["list_amount"] for line in quote["lines"]] == ["3.704", "27.063"]
    assert [line["net_amount"] for line in quote["lines"]] == ["3.204", "26.563"]
    assert (quote["subtotal"], quote["discount_total"], quote["total"]) == ("30.767", "1.000", "29.767")


async def test_bundle_expands_into_its_components_prices(catalog: CatalogClient) -> None:
    platform, _ = await _priced_product(catalog, {"unit_price": "150.00"}, kind="platform")
    workshop, _ = await _priced_product(
        catalog, {"unit_price": "400.00", "charge_type": "one_time", "billing_period": None}, kind="workshop"
    )
    assessment, _ = await _priced_product(catalog, {"unit_price": "35.50"})
    bundle = await catalog.created(
        "/v1/bundles", f.bundle((platform, "1"), (workshop, "1"), (assessment, "2"))
    )

    quote = await catalog.created("/v1/quotes", f.quote({"bundle_id": bundle["id"], "quantity": 12}))

    assert [(line["quantity"], line["list_amount"]) for line in quote["lines"]] == [
        ("12", "1800.00"),
        ("12", "4800.00"),
        ("24", "852.00"),
    ]
    assert {line["bundle_id"] for line in quote["lines"]} == {bundle["id"]}
    assert quote["total"] == "7452.00"


async def test_bundle_without_a_price_in_the_quote_currency_is_refused(catalog: CatalogClient) -> None:
    platform, _ = await _priced_product(catalog)
    bundle = await catalog.created("/v1/bundles", f.bundle((platform, "1")))

    response = await catalog.post(
        "/v1/quotes", f.quote({"bundle_id": bundle["id"], "quantity": 1}, currency="EUR")
    )

    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["items.0.bundle_id"]


async def test_quote_refuses_other_currencies_and_foreign_discounts(catalog: CatalogClient) -> None:
    _, usd_price = await _priced_product(catalog)
    other_product, _ = await _priced_product(catalog)
    only_other = await catalog.created("/v1/discounts", f.discount(product_ids=[other_product]))
    expired = await catalog.created(
        "/v1/discounts", f.discount(name="Winter", valid_from="2025-12-01", valid_to="2026-03-01")
    )

    in_eur = await catalog.post("/v1/quotes", f.quote(f.quote_item(usd_price, 1), currency="EUR"))
    foreign = await catalog.post("/v1/quotes", f.quote(f.quote_item(usd_price, 1, only_other["id"])))
    too_late = await catalog.post(
        "/v1/quotes", f.quote(f.quote_item(usd_price, 1), discount_ids=[expired["id"]])
    )

    assert in_eur.status_code == foreign.status_code == too_late.status_code == 422
    assert [e["field"] for e in in_eur.json()["errors"]] == ["items.0.price_id"]
    assert [e["field"] for e in foreign.json()["errors"]] == ["items.0.discount_ids.0"]
    assert [e["field"] for e in too_late.json()["errors"]] == ["discount_ids.0"]
    assert (await catalog.get("/v1/quotes")).json()["data"] == []


async def test_quote_unknown_ids_are_404_and_crm_may_quote(catalog: CatalogClient) -> None:
    _, price = await _priced_product(catalog)

    assert (await catalog.post("/v1/quotes", f.quote(f.quote_item("price_missing", 1)))).status_code == 404
    missing_discount = await catalog.post("/v1/quotes", f.quote(f.quote_item(price, 1, "disc_missing")))
    assert missing_discount.status_code == 404
    assert (await catalog.get("/v1/quotes/quo_missing")).status_code == 404
    assert (
        await catalog.post("/v1/quotes", f.quote(f.quote_item(price, 1)), role=Role.CRM)
    ).status_code == 201
    assert (
        await catalog.post("/v1/quotes", f.quote(f.quote_item(price, 1)), role=Role.OPS)
    ).status_code == 403


async def test_a_quote_reads_the_catalog_in_a_fixed_number_of_statements(catalog: CatalogClient) -> None:
    _, per_unit = await _priced_product(catalog)
    book = await catalog.created("/v1/vendor-cost-books", f.cost_book())
    resold = (await catalog.created("/v1/products", f.product(vendor_id="ven_rostering")))["id"]
    cost_plus = (await catalog.created("/v1/prices", f.cost_plus_price(resold, book["id"])))["id"]
    platform, _ = await _priced_product(catalog, kind="platform")
    bundle = await catalog.created("/v1/bundles", f.bundle((platform, "1"), (resold, "2")))
    partner = await catalog.created("/v1/discounts", f.discount())

    def items(count: int) -> list[dict[str, Any]]:
        lines = [f.quote_item(per_unit if i % 2 else cost_plus, i + 1, partner["id"]) for i in range(count)]
        return [*lines, {"bundle_id": bundle["id"], "quantity": 2}]

    async def statements(count: int) -> int:
        with catalog.count_statements() as seen:
            response = await catalog.post("/v1/quotes", f.quote(*items(count)))
        assert response.status_code == 201, response.text
        return len(seen)

    # Price versions, products, cost books and discounts are read in sets, not per line.
    assert await statements(2) == await statements(40)


async def test_promo_codes_apply_to_the_lines_of_their_products(catalog: CatalogClient) -> None:
    seats_product, seats = await _priced_product(catalog)
    _, workshop = await _priced_product(catalog, {"unit_price": "400.00"}, kind="workshop")
    await catalog.created(
        "/v1/discounts",
        f.discount(name="Spring seats", value="20", product_ids=[seats_product], promo_code="SPRING26"),
    )

    quote = await catalog.created(
        "/v1/quotes", f.quote(f.quote_item(seats, 10), f.quote_item(workshop, 1), promo_codes=["SPRING26"])
    )

    seats_line, workshop_line = quote["lines"]
    # 10 x 150.00 = 1,500.00 less 20% = 1,200.00, above the 15% threshold; the workshop is not covered.
    assert [(d["name"], d["amount"]) for d in seats_line["discounts"]] == [("Spring seats", "300.00")]
    assert (seats_line["net_amount"], workshop_line["discounts"]) == ("1200.00", [])
    assert (quote["total"], quote["needs_approval"]) == ("1600.00", True)


async def test_unknown_expired_or_useless_promo_codes_are_422_on_their_field(catalog: CatalogClient) -> None:
    _, price = await _priced_product(catalog)
    other_product, _ = await _priced_product(catalog)
    await catalog.created(
        "/v1/discounts", f.discount(name="Winter", promo_code="WINTER25", valid_to="2026-03-01")
    )
    await catalog.created(
        "/v1/discounts", f.discount(name="Other", promo_code="OTHER", product_ids=[other_product])
    )

    unknown_and_expired = await catalog.post(
        "/v1/quotes", f.quote(f.quote_item(price, 1), promo_codes=["NOPE26", "WINTER25"])
    )
    useless = await catalog.post("/v1/quotes", f.quote(f.quote_item(price, 1), promo_codes=["OTHER"]))
    malformed = await catalog.post("/v1/quotes", f.quote(f.quote_item(price, 1), promo_codes=["spring 26"]))

    assert unknown_and_expired.status_code == useless.status_code == malformed.status_code == 422
    assert [(e["field"], e["code"]) for e in unknown_and_expired.json()["errors"]] == [
        ("promo_codes.0", "unknown_promo_code"),
        ("promo_codes.1", "promo_code_not_valid"),
    ]
    assert [e["field"] for e in useless.json()["errors"]] == ["promo_codes.0"]
    assert [e["field"] for e in malformed.json()["errors"]] == ["promo_codes.0"]
    assert (await catalog.get("/v1/quotes")).json()["data"] == []


async def test_the_document_and_the_server_agree_an_item_has_a_price_or_a_bundle(
    catalog: CatalogClient,
) -> None:
    product_id, price_id = await _priced_product(catalog)
    bundle_id = (await catalog.created("/v1/bundles", f.bundle((product_id, "2"))))["id"]
    document = (await catalog.get("/openapi.json")).json()
    item_schema = Draft202012Validator(
        {"$ref": "#/components/schemas/QuoteItemIn", "components": document["components"]}
    )
    items = {
        "price": ({"price_id": price_id, "quantity": 3}, True),
        "bundle": ({"bundle_id": bundle_id, "quantity": 3}, True),
        "price, bundle null": ({"price_id": price_id, "bundle_id": None, "quantity": 3}, True),
        "both": ({"price_id": price_id, "bundle_id": bundle_id, "quantity": 3}, False),
        "neither": ({"quantity": 3}, False),
        "both null": ({"price_id": None, "bundle_id": None, "quantity": 3}, False),
    }
    for case, (item, valid) in items.items():
        assert item_schema.is_valid(item) is valid, case
        response = await catalog.post("/v1/quotes", f.quote(item))
        assert response.status_code == (201 if valid else 422), (case, response.text)
