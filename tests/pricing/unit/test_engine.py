"""The pricing engine against the worked cases (EXAMPLES 1, 7, 8) and its edge cases."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from libs.contracts.vocabulary import PricingModel, TierMode
from libs.platform.errors import ValidationFailed
from libs.platform.money import minor_units
from libs.pricing import CostBook, PriceSpec, Tier, apply_minimum, cost_plus_unit_price, rate, vendor_cost

from .factories import (
    D,
    case7_graduated,
    case7_volume,
    per_unit,
    tiers,
    volume,
    wfm_book,
)
from .strategies import currencies, prices, quantities, tier_lists

# --- EXAMPLES case 7: tiered usage -------------------------------------------------------


def test_case7_graduated_with_included_units() -> None:
    charge = rate(case7_graduated(), D("12345"))

    assert charge.amount == D("107.5875")
    assert charge.rounded_amount == D("107.59")
    priced = [line for line in charge.breakdown if line.unit_price > 0]
    assert [(line.band_from, line.band_to, line.quantity) for line in priced] == [
        (D("1000"), D("10000"), D("9000")),
        (D("10000"), None, D("2345")),
    ]
    assert [line.amount for line in priced] == [D("90.00"), D("17.5875")]


def test_case7_included_units_show_as_a_free_first_band() -> None:
    included = rate(case7_graduated(), D("12345")).breakdown[0]

    assert (included.band_from, included.band_to, included.quantity) == (D(0), D(1000), D(1000))
    assert included.amount == 0


def test_case7_volume_prices_every_unit_at_the_totals_band() -> None:
    charge = rate(case7_volume(), D("12345"))

    assert charge.amount == D("92.5875")
    assert charge.rounded_amount == D("92.59")


def test_volume_band_chosen_by_total_and_applied_to_usage_minus_included() -> None:
    spec = volume(("10000", "0.0100"), (None, "0.0075"), included="1000")

    # 12,345 total picks the 0.0075 band; 11,345 billable units pay it.
    assert rate(spec, D("12345")).amount == D("85.0875")
    # 10,000 total stays in the first band: 9,000 billable at 0.0100.
    assert rate(spec, D("10000")).amount == D("90.00")


def test_usage_within_included_units_is_free() -> None:
    assert rate(case7_graduated(), D("1000")).amount == 0
    assert rate(per_unit("2.00", included="10"), D("9.5")).amount == 0


# --- tier boundaries ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("quantity", "expected"),
    [
        ("10000", "90.00"),  # exactly at the inclusive up_to: all in the first band
        ("10001", "90.0075"),  # one above: one unit in the second band
        ("10000.5", "90.00375"),  # fractional just above
        ("1000.25", "0.0025"),  # a fraction above the included units
    ],
)
def test_graduated_boundaries(quantity: str, expected: str) -> None:
    assert rate(case7_graduated(), D(quantity)).amount == D(expected)


@pytest.mark.parametrize(
    ("quantity", "expected"),
    [
        ("10000", "100.00"),  # exactly at up_to: still the first band
        ("10001", "75.0075"),  # one above: every unit at the second band
        ("10000.000001", "75.0000000075"),  # fractional just above
    ],
)
def test_volume_boundaries(quantity: str, expected: str) -> None:
    assert rate(case7_volume(), D(quantity)).amount == D(expected)


def test_graduated_tier_flat_fee_is_charged_once_units_fall_in_its_band() -> None:
    spec = PriceSpec(
        PricingModel.TIERED_GRADUATED,
        "USD",
        tiers=(Tier(D(10), D("1.00"), D("5.00")), Tier(None, D("0.50"), D("3.00"))),
    )

    assert rate(spec, D(10)).amount == D("15.00")
    assert rate(spec, D(11)).amount == D("18.50")
    assert rate(spec, D(0)).amount == 0


def test_band_covered_by_included_units_charges_no_flat_fee() -> None:
    spec = PriceSpec(
        PricingModel.TIERED_GRADUATED,
        "USD",
        tiers=(Tier(D(10), D("1.00"), D("5.00")), Tier(None, D("0.50"), D("3.00"))),
        included_quantity=D(10),
    )

    assert rate(spec, D(11)).amount == D("3.50")


# --- zero, huge and sub-cent quantities -------------------------------------------------------


@pytest.mark.parametrize(
    "spec",
    [
        case7_graduated(),
        case7_volume(),
        per_unit("1.00"),
        PriceSpec(PricingModel.FLAT, "USD", amount=D("300.00")),
        PriceSpec(PricingModel.PACKAGE, "USD", unit_price=D("5.00"), package_size=D(100)),
        PriceSpec(PricingModel.COST_PLUS, "USD", cost_book=wfm_book()),
        PriceSpec(PricingModel.COST_PLUS, "USD", cost_book=wfm_book(TierMode.GRADUATED)),
    ],
    ids=lambda spec: spec.model.value,
)
def test_zero_quantity_costs_nothing(spec: PriceSpec) -> None:
    charge = rate(spec, D(0))

    assert charge.amount == 0
    assert charge.rounded_amount == 0
    assert charge.effective_unit_price == 0


def test_huge_quantity_keeps_every_cent() -> None:
    quantity = D(10) ** 15

    assert rate(case7_graduated(), quantity).rounded_amount == D("7500000000015.00")
    assert rate(case7_volume(), quantity).rounded_amount == D("7500000000000.00")
    assert rate(per_unit("0.000001"), quantity).rounded_amount == D("1000000000.00")
    assert rate(per_unit("999999.999999"), quantity).rounded_amount == D("999999999999000000000.00")


def test_huge_quantity_with_fraction_is_exact() -> None:
    quantity = D(10) ** 15 + D("0.5")

    assert rate(per_unit("0.01"), quantity).amount == D("10000000000000.005")
    assert rate(per_unit("0.01"), quantity).rounded_amount == D("10000000000000.01")


def test_sub_cent_unit_prices() -> None:
    spec = per_unit("0.000001")

    assert rate(spec, D(1234)).amount == D("0.001234")
    assert rate(spec, D(1234)).rounded_amount == D("0.00")
    assert rate(spec, D(5000)).rounded_amount == D("0.01")  # 0.005 rounds half up
    assert rate(spec, D(1)).effective_unit_price == D("0.000001")


# --- currencies (EXAMPLES case 8) ---------------------------------------------------------


def test_jpy_rounds_to_whole_yen_half_up() -> None:
    assert rate(per_unit("0.5", currency="JPY"), D(2469)).rounded_amount == D("1235")


def test_bhd_rounds_to_three_decimals_half_up() -> None:
    assert rate(per_unit("0.2469", currency="BHD"), D(5)).rounded_amount == D("1.235")


def test_usd_rounds_half_up() -> None:
    assert rate(per_unit("1.0005"), D(10)).rounded_amount == D("10.01")


# --- per-unit, flat, package ----------------------------------------------------------------


def test_per_unit_bills_quantity_minus_included() -> None:
    assert rate(per_unit("150.00", included="5"), D(15)).amount == D("1500.00")


def test_flat_is_a_fixed_amount_whatever_the_quantity() -> None:
    spec = PriceSpec(PricingModel.FLAT, "USD", amount=D("300.00"))

    assert rate(spec, D(1)).amount == D("300.00")
    assert rate(spec, D(7)).amount == D("300.00")


@pytest.mark.parametrize(
    ("quantity", "packages"),
    [("1", 1), ("100", 1), ("101", 2), ("250.5", 3), ("0.001", 1)],
)
def test_package_bills_whole_packages(quantity: str, packages: int) -> None:
    spec = PriceSpec(PricingModel.PACKAGE, "USD", unit_price=D("5.00"), package_size=D(100))

    charge = rate(spec, D(quantity))

    assert charge.amount == packages * D("5.00")
    assert charge.breakdown[-1].quantity == packages


def test_package_counts_billable_units_after_included() -> None:
    spec = PriceSpec(
        PricingModel.PACKAGE,
        "USD",
        unit_price=D("5.00"),
        package_size=D(100),
        included_quantity=D(100),
    )

    assert rate(spec, D(150)).amount == D("5.00")
    assert rate(spec, D(201)).amount == D("10.00")


# --- cost-plus (EXAMPLES case 1) -----------------------------------------------------------


def test_case1_volume_book_unit_price_and_annual_amounts() -> None:
    book = wfm_book()
    spec = PriceSpec(PricingModel.COST_PLUS, "USD", cost_book=book)

    charge = rate(spec, D(250))

    assert cost_plus_unit_price(book, D(250)) == D("12.00")
    assert charge.effective_unit_price == D("12.00")
    assert charge.rounded_amount * 12 == D("36000.00")
    assert vendor_cost(book, D(250)) * 12 == D("30000.00")


def test_case1_overage_priced_at_the_band_of_the_actual_count() -> None:
    book = wfm_book()
    over = D(262) - D(250)

    assert cost_plus_unit_price(book, D(262)) * over == D("144.00")


def test_case1_graduated_book() -> None:
    book = wfm_book(TierMode.GRADUATED)

    assert vendor_cost(book, D(250)) == D("2700.00")
    charge = rate(PriceSpec(PricingModel.COST_PLUS, "USD", cost_book=book), D(250))
    assert charge.amount == D("3240.00")
    assert charge.rounded_amount == D("3240.00")
    assert sum(line.amount for line in charge.breakdown) == charge.amount
    assert cost_plus_unit_price(book, D(250)) == D("12.96")


def test_cost_plus_unit_price_kept_to_six_decimals() -> None:
    book = CostBook(tiers((None, "0.000001")), TierMode.VOLUME, D("20"))

    assert cost_plus_unit_price(book, D(10)) == D("0.000001")  # 0.0000012 → 0.000001
    book = CostBook(tiers((None, "0.000005")), TierMode.VOLUME, D("10"))
    assert cost_plus_unit_price(book, D(10)) == D("0.000006")  # 0.0000055 → half up


def test_cost_plus_volume_book_at_band_edges() -> None:
    book = wfm_book()

    assert cost_plus_unit_price(book, D(100)) == D("14.40")
    assert cost_plus_unit_price(book, D(101)) == D("12.00")
    assert cost_plus_unit_price(book, D(501)) == D("10.20")


# --- minimum commitment --------------------------------------------------------------------


def test_apply_minimum_returns_the_shortfall() -> None:
    assert apply_minimum(D("80.00"), D("100.00")) == D("20.00")
    assert apply_minimum(D("120.00"), D("100.00")) == 0
    assert apply_minimum(D("100.00"), D("100.00")) == 0
    assert apply_minimum(D("80.00"), None) == 0


def test_charge_carries_the_shortfall_against_the_rounded_line() -> None:
    spec = PriceSpec(PricingModel.PER_UNIT, "USD", unit_price=D("0.9999"), minimum_commitment=D("100.00"))

    charge = rate(spec, D(100))  # 99.99 exact → 99.99 rounded

    assert charge.minimum_shortfall == D("0.01")
    assert charge.rounded_amount + charge.minimum_shortfall == D("100.00")


# --- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize("quantity", [D(-1), D("NaN"), D("Infinity"), 1.5, "3"])
def test_bad_quantity_is_refused(quantity: object) -> None:
    with pytest.raises(ValidationFailed) as caught:
        rate(per_unit("1.00"), quantity)  # type: ignore[arg-type]

    assert [error.field for error in caught.value.errors] == ["quantity"]


def test_invalid_spec_is_refused_by_rate() -> None:
    with pytest.raises(ValidationFailed):
        rate(PriceSpec(PricingModel.PER_UNIT, "USD"), D(1))


# --- properties --------------------------------------------------------------------------------


@given(tier_lists(with_fees=True), quantities, quantities, quantities)
def test_graduated_total_is_monotone(
    bands: tuple[Tier, ...], included: Decimal, q1: Decimal, q2: Decimal
) -> None:
    spec = PriceSpec(PricingModel.TIERED_GRADUATED, "USD", tiers=bands, included_quantity=included)
    low, high = sorted((q1, q2))

    assert rate(spec, low).amount <= rate(spec, high).amount


@given(tier_lists(with_fees=True), quantities, quantities)
def test_graduated_amount_is_the_sum_of_its_breakdown(
    bands: tuple[Tier, ...], included: Decimal, quantity: Decimal
) -> None:
    spec = PriceSpec(PricingModel.TIERED_GRADUATED, "USD", tiers=bands, included_quantity=included)

    charge = rate(spec, quantity)

    assert sum((line.amount for line in charge.breakdown), D(0)) == charge.amount


@given(tier_lists(), quantities, quantities)
def test_volume_amount_is_billable_times_the_totals_band_price(
    bands: tuple[Tier, ...], included: Decimal, quantity: Decimal
) -> None:
    spec = PriceSpec(PricingModel.TIERED_VOLUME, "USD", tiers=bands, included_quantity=included)
    band = next(t for t in bands if t.up_to is None or quantity <= t.up_to)

    charge = rate(spec, quantity)

    assert charge.amount == max(D(0), quantity - included) * band.unit_price


@given(currencies, prices, quantities)
def test_rounded_amount_is_within_half_a_minor_unit(currency: str, price: Decimal, quantity: Decimal) -> None:
    charge = rate(per_unit(str(price), currency=currency), quantity)
    half_unit = D(1).scaleb(-minor_units(currency)) / 2

    assert abs(charge.rounded_amount - charge.amount) <= half_unit


@given(st.sampled_from([TierMode.VOLUME, TierMode.GRADUATED]), quantities)
def test_cost_plus_amount_is_vendor_cost_with_markup(mode: TierMode, quantity: Decimal) -> None:
    book = wfm_book(mode)
    charge = rate(PriceSpec(PricingModel.COST_PLUS, "USD", cost_book=book), quantity)

    assert charge.amount == vendor_cost(book, quantity) * D("1.2")


def test_a_float_price_is_refused_even_after_an_equal_decimal_price_was_rated() -> None:
    from libs.platform.errors import ValidationFailed

    valid = PriceSpec(model=PricingModel.PER_UNIT, currency="USD", unit_price=Decimal("2"))
    assert rate(valid, Decimal("3")).rounded_amount == Decimal("6.00")
    same_value_as_float = PriceSpec(model=PricingModel.PER_UNIT, currency="USD", unit_price=2.0)  # type: ignore[arg-type]
    with pytest.raises(ValidationFailed):
        rate(same_value_as_float, Decimal("3"))
