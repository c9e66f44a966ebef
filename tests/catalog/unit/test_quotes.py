"""Quote assembly: lines rounded once, totals as sums of rounded lines, approval and refusals."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from catalog.domain.bundles import BundleComponent
from catalog.domain.prices import PriceTerms
from catalog.domain.quotes import (
    PriceInForce,
    QuoteCatalog,
    QuotedBundle,
    QuotedProduct,
    RequestedItem,
    price_quote,
    quote_items,
)
from libs.contracts.vocabulary import PricingModel
from libs.platform.errors import NotFound, ValidationFailed
from libs.platform.money import minor_units, round_money
from libs.pricing import DiscountKind
from tests.catalog.unit.factories import AS_OF, D, discount, item, per_unit, volume


def test_line_and_totals_with_two_discounts_over_the_threshold() -> None:
    amount_off = discount("40.00", DiscountKind.AMOUNT, currency="USD", approval_threshold_percent=None)
    quote = price_quote("USD", AS_OF, [item(per_unit("19.99"), "12", discount("10"), amount_off)])

    line = quote.lines[0]
    # 12 x 19.99 = 239.88; 10% = 23.988 -> 23.99; + 40.00 = 63.99 -> 26.6758% off, above 15%.
    assert (line.list_amount, line.discount_amount, line.net_amount) == (D("239.88"), D("63.99"), D("175.89"))
    assert line.effective_percent_off == D("26.6758")
    assert line.needs_approval
    assert len(line.approval_reasons) == 1
    assert (quote.subtotal, quote.discount_total, quote.total) == (D("239.88"), D("63.99"), D("175.89"))


def test_volume_line_breakdown_stays_unrounded() -> None:
    quote = price_quote("USD", AS_OF, [item(volume(("10000", "0.0100"), (None, "0.0075")), "12345")])

    line = quote.lines[0]
    assert line.list_amount == D("92.59")
    assert [t.amount for t in line.tier_breakdown] == [D("92.5875")]


def test_refusals_name_every_offending_field() -> None:
    eur = item(per_unit("1.00", currency="EUR"), "1", discount(product_ids=("prod_other",)))
    late = item(per_unit("1.00"), "1", discount(valid_to=date(2026, 3, 1)))
    late = late.__class__(**{**late.__dict__, "field": "items.1"})

    with pytest.raises(ValidationFailed) as refused:
        price_quote("USD", AS_OF, [eur, late])

    assert [e.field for e in refused.value.errors] == ["items.0.price_id", "discount_ids.0", "discount_ids.0"]
    assert [e.code for e in refused.value.errors][1:] == ["discount_not_applicable", "discount_not_valid"]


def test_amount_discount_in_another_currency_is_refused() -> None:
    yen_off = discount("500", DiscountKind.AMOUNT, currency="JPY")
    with pytest.raises(ValidationFailed) as refused:
        price_quote("USD", AS_OF, [item(per_unit("1.00"), "1", yen_off)])
    assert [e.code for e in refused.value.errors] == ["currency_mismatch"]


def test_a_line_too_large_to_store_is_refused() -> None:
    with pytest.raises(ValidationFailed) as refused:
        price_quote("USD", AS_OF, [item(per_unit("999999.999999"), "999999999999999")])
    assert [e.field for e in refused.value.errors] == ["items.0.quantity"]


CURRENCIES = st.sampled_from(["USD", "JPY", "BHD", "EUR"])
PRICES = st.decimals(min_value=0, max_value=100_000, places=6, allow_nan=False, allow_infinity=False)
QUANTITIES = st.decimals(min_value=0, max_value=100_000, places=3, allow_nan=False, allow_infinity=False)
PERCENTS = st.decimals(min_value=0, max_value=100, places=2, allow_nan=False, allow_infinity=False)


@given(
    currency=CURRENCIES,
    lines=st.lists(st.tuples(PRICES, QUANTITIES, st.lists(PERCENTS, max_size=3)), min_size=1, max_size=6),
)
def test_totals_are_sums_of_lines_rounded_once(
    currency: str, lines: list[tuple[Decimal, Decimal, list[Decimal]]]
) -> None:
    items = [
        item(
            per_unit(str(price), currency=currency),
            str(qty),
            *(discount(str(p), id=f"d{i}{j}") for j, p in enumerate(ps)),
        )
        for i, (price, qty, ps) in enumerate(lines)
    ]

    quote = price_quote(currency, AS_OF, items)

    places = Decimal(1).scaleb(-minor_units(currency))
    for line, (price, qty, _) in zip(quote.lines, lines, strict=True):
        assert line.list_amount == round_money(price * qty, currency)
        assert line.net_amount == line.list_amount - line.discount_amount
        assert Decimal(0) <= line.net_amount <= line.list_amount
        assert line.discount_amount == sum((d.amount for d in line.discounts), Decimal(0))
        for amount in (line.list_amount, line.discount_amount, line.net_amount):
            assert amount == amount.quantize(places)
    assert quote.subtotal == sum((line.list_amount for line in quote.lines), Decimal(0))
    assert quote.discount_total == sum((line.discount_amount for line in quote.lines), Decimal(0))
    assert quote.total == quote.subtotal - quote.discount_total
    assert quote.needs_approval == any(line.needs_approval for line in quote.lines)


def _catalog(**overrides: Any) -> QuoteCatalog:
    values: dict[str, Any] = {
        "currency": "USD",
        "as_of": AS_OF,
        "prices": {
            "price_a": PriceInForce("price_a", 2, "prod_a", "USD", PriceTerms(PricingModel.PER_UNIT, D("5")))
        },
        "bundles": {},
        "component_prices": {},
        "products": {"prod_a": QuotedProduct("prod_a", "SEAT", "Seat", True)},
        "cost_books": {},
    }
    values.update(overrides)
    return QuoteCatalog(**values)


def test_items_resolve_prices_and_expand_bundles_from_the_loaded_catalog() -> None:
    bundle = QuotedBundle("bnd_a", "Starter", True, (BundleComponent("prod_a", D("1.5")),))
    catalog = _catalog(bundles={"bnd_a": bundle}, component_prices={"prod_a": _catalog().prices["price_a"]})

    items = quote_items(
        [
            RequestedItem("items.0", "price_a", None, D("3")),
            RequestedItem("items.1", None, "bnd_a", D("4")),
        ],
        catalog,
    )

    assert [(i.price_id, i.price_version, i.quantity, i.bundle_id) for i in items] == [
        ("price_a", 2, D("3"), None),
        ("price_a", 2, D("6"), "bnd_a"),
    ]


def test_items_without_a_version_or_cost_book_in_force_are_refused_on_their_field() -> None:
    cost_plus = PriceInForce(
        "price_c", 1, "prod_a", "USD", PriceTerms(PricingModel.COST_PLUS, cost_book_id="cb_a")
    )

    with pytest.raises(ValidationFailed) as no_version:
        quote_items([RequestedItem("items.0", "price_a", None, D("1"))], _catalog(prices={"price_a": None}))
    with pytest.raises(ValidationFailed) as no_book:
        quote_items(
            [RequestedItem("items.3", "price_c", None, D("1"))], _catalog(prices={"price_c": cost_plus})
        )
    with pytest.raises(NotFound):
        quote_items([RequestedItem("items.0", "price_x", None, D("1"))], _catalog())

    assert [(e.field, e.code) for e in no_version.value.errors] == [
        ("items.0.price_id", "no_version_in_force")
    ]
    assert [(e.field, e.code) for e in no_book.value.errors] == [("items.3.price_id", "no_version_in_force")]
