"""A price spec that cannot be priced is refused with every problem and its field path."""

from __future__ import annotations

from decimal import Decimal

import pytest

from libs.contracts.vocabulary import PricingModel, TierMode
from libs.platform.errors import ValidationFailed
from libs.pricing import CostBook, PriceSpec, Tier, validate_price_spec

from .factories import D, case7_graduated, case7_volume, graduated, per_unit, tiers, wfm_book


def problems(spec: PriceSpec) -> dict[str, list[str]]:
    """Field path → messages of the ValidationFailed raised for `spec`."""
    with pytest.raises(ValidationFailed) as caught:
        validate_price_spec(spec)
    found: dict[str, list[str]] = {}
    for error in caught.value.errors:
        found.setdefault(error.field, []).append(error.message)
    return found


@pytest.mark.parametrize(
    "spec",
    [
        case7_graduated(),
        case7_volume(),
        per_unit("0.000001"),
        PriceSpec(PricingModel.FLAT, "JPY", amount=D(1000)),
        PriceSpec(PricingModel.PACKAGE, "USD", unit_price=D(5), package_size=D("0.5")),
        PriceSpec(PricingModel.COST_PLUS, "USD", cost_book=wfm_book()),
        PriceSpec(PricingModel.PER_UNIT, "BHD", unit_price=D("1.5"), minimum_commitment=D("1.235")),
        per_unit("1.5000000000"),  # trailing zeros are not precision
    ],
)
def test_sound_specs_pass(spec: PriceSpec) -> None:
    validate_price_spec(spec)


def test_tiered_model_needs_tiers() -> None:
    assert "tiers" in problems(PriceSpec(PricingModel.TIERED_GRADUATED, "USD"))


def test_descending_tiers_are_refused_at_the_offending_tier() -> None:
    found = problems(graduated(("100", "1"), ("50", "1"), (None, "1")))

    assert list(found) == ["tiers.1.up_to"]


def test_duplicate_up_to_is_refused() -> None:
    assert list(problems(graduated(("100", "1"), ("100", "1"), (None, "1")))) == ["tiers.1.up_to"]


def test_open_tier_must_be_last_and_last_must_be_open() -> None:
    found = problems(graduated((None, "1"), ("100", "1")))

    assert set(found) == {"tiers.0.up_to", "tiers.1.up_to"}


def test_every_problem_is_reported_at_once() -> None:
    spec = PriceSpec(
        PricingModel.TIERED_VOLUME,
        "XYZ",
        tiers=(
            Tier(D(10), D("-1")),
            Tier(D(5), D("0.0000001"), D("-2")),
            Tier(D(20), D(1)),
        ),
        included_quantity=D(-1),
        unit_price=D(1),
    )

    found = problems(spec)

    assert set(found) == {
        "currency",
        "unit_price",
        "tiers.0.unit_price",
        "tiers.1.up_to",
        "tiers.1.unit_price",
        "tiers.1.flat_fee",
        "tiers.2.up_to",
        "included_quantity",
    }


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        (PriceSpec(PricingModel.PER_UNIT, "USD"), "unit_price"),
        (PriceSpec(PricingModel.FLAT, "USD"), "amount"),
        (PriceSpec(PricingModel.PACKAGE, "USD", unit_price=D(1)), "package_size"),
        (PriceSpec(PricingModel.COST_PLUS, "USD"), "cost_book"),
    ],
)
def test_required_fields_per_model(spec: PriceSpec, field: str) -> None:
    assert field in problems(spec)


@pytest.mark.parametrize("size", [D(0), D(-5)])
def test_package_size_must_be_positive(size: Decimal) -> None:
    spec = PriceSpec(PricingModel.PACKAGE, "USD", unit_price=D(1), package_size=size)

    assert list(problems(spec)) == ["package_size"]


def test_unit_price_beyond_six_decimals_is_refused() -> None:
    assert list(problems(per_unit("0.0000001"))) == ["unit_price"]


def test_negative_prices_and_included_quantity_are_refused() -> None:
    found = problems(per_unit("-0.01", included="-1"))

    assert set(found) == {"unit_price", "included_quantity"}


def test_float_money_is_refused() -> None:
    spec = PriceSpec(PricingModel.PER_UNIT, "USD", unit_price=0.1)  # type: ignore[arg-type]

    assert list(problems(spec)) == ["unit_price"]


def test_minimum_commitment_is_money_in_the_currency() -> None:
    found = problems(PriceSpec(PricingModel.PER_UNIT, "JPY", unit_price=D(1), minimum_commitment=D("10.5")))

    assert list(found) == ["minimum_commitment"]


def test_cost_book_problems_carry_the_cost_book_path() -> None:
    book = CostBook(tiers(("100", "12"), ("100", "10"), (None, "-1")), TierMode.VOLUME, D(-5))

    found = problems(PriceSpec(PricingModel.COST_PLUS, "USD", cost_book=book))

    assert set(found) == {
        "cost_book.tiers.1.up_to",
        "cost_book.tiers.2.unit_price",
        "cost_book.markup_percent",
    }


def test_fields_of_another_model_are_refused() -> None:
    spec = PriceSpec(PricingModel.PER_UNIT, "USD", unit_price=D(1), tiers=tiers((None, "1")))

    assert list(problems(spec)) == ["tiers"]
