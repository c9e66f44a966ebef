"""Periods of prices (DESIGN §7): a cost book's period converted to a price's billing period."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from libs.contracts.vocabulary import PricingModel, TierMode, TierPeriod
from libs.platform.errors import ValidationFailed
from libs.pricing import CostBook, PriceSpec, Tier, billing_months, period_factor, rate, validate_price_spec
from tests.pricing.unit.strategies import tier_lists

BILLING = ["monthly", "quarterly", "annual"]
books = st.sampled_from(list(TierPeriod))
modes = st.sampled_from(list(TierMode))
# Costs in cents and a markup in hundredths of a percent keep cost x (1 + markup) within 6
# decimals, so no rounding hides whether the conversion is exact.
cents = st.decimals(min_value=0, max_value=1000, places=2, allow_nan=False, allow_infinity=False)
markups = st.decimals(min_value=0, max_value=300, places=2, allow_nan=False, allow_infinity=False)
seat_counts = st.integers(min_value=0, max_value=100_000).map(Decimal)


@st.composite
def cost_books(draw: st.DrawFn) -> CostBook:
    """A valid cost book with costs in cents."""
    tiers = tuple(Tier(t.up_to, draw(cents)) for t in draw(tier_lists()))
    return CostBook(tiers, draw(modes), draw(markups), draw(books))


def _spec(book: CostBook, billing_period: str | None, term_months: int | None = None) -> PriceSpec:
    return PriceSpec(
        PricingModel.COST_PLUS, "USD", cost_book=book, billing_period=billing_period, term_months=term_months
    )


def test_the_factors_of_a_monthly_book() -> None:
    assert period_factor("monthly", "monthly") == 1
    assert period_factor("monthly", "quarterly") == 3
    assert period_factor("monthly", "annual") == 12
    assert period_factor("monthly", "term", 36) == 36
    assert period_factor("quarterly", "annual") == 4
    assert period_factor("annual", "term", 36) == 3


@given(books, st.sampled_from([*BILLING, "term"]), st.integers(min_value=1, max_value=600))
def test_a_factor_is_the_billing_months_in_book_periods_or_refused(
    book: TierPeriod, billing: str, term: int
) -> None:
    months = billing_months(billing, term)
    if months % book.months:
        with pytest.raises(ValidationFailed) as refused:
            period_factor(book, billing, term)
        assert refused.value.errors[0].field == "billing_period"
        assert refused.value.errors[0].code == "period_not_convertible"
    else:
        assert period_factor(book, billing, term) * book.months == months


@given(st.sampled_from(BILLING), st.sampled_from(BILLING))
def test_factors_compose(middle: str, billing: str) -> None:
    # monthly -> quarterly -> annual is monthly -> annual, whenever each step converts.
    if billing_months(billing) % billing_months(middle) == 0:
        assert period_factor("monthly", middle) * period_factor(middle, billing) == period_factor(
            "monthly", billing
        )


def test_a_term_price_needs_its_term() -> None:
    with pytest.raises(ValidationFailed) as refused:
        period_factor("monthly", "term")
    assert refused.value.errors[0].field == "term_months"


@given(cost_books(), seat_counts)
def test_a_monthly_book_billed_annually_is_twelve_months(book: CostBook, seats: Decimal) -> None:
    monthly = replace(book, period=TierPeriod.MONTHLY)
    month = rate(_spec(monthly, "monthly"), seats)
    quarter = rate(_spec(monthly, "quarterly"), seats)
    year = rate(_spec(monthly, "annual"), seats)
    assert quarter.amount == 3 * month.amount
    assert year.amount == 12 * month.amount


@given(cost_books(), seat_counts)
def test_a_monthly_book_times_twelve_is_the_annual_book(book: CostBook, seats: Decimal) -> None:
    monthly = replace(book, period=TierPeriod.MONTHLY)
    annual = replace(
        book,
        period=TierPeriod.ANNUAL,
        tiers=tuple(Tier(t.up_to, t.unit_price * 12, t.flat_fee * 12) for t in book.tiers),
    )
    assert rate(_spec(monthly, "annual"), seats).amount == rate(_spec(annual, "annual"), seats).amount
    assert rate(_spec(monthly, "term", 36), seats).amount == rate(_spec(annual, "term", 36), seats).amount


@given(cost_books(), seat_counts)
def test_no_billing_period_keeps_the_books_period(book: CostBook, seats: Decimal) -> None:
    assert rate(_spec(book, None), seats).amount == rate(_spec(book, book.period.value), seats).amount


WFM = (
    Tier(Decimal(100), Decimal("12.00")),
    Tier(Decimal(500), Decimal("10.00")),
    Tier(None, Decimal("8.50")),
)


@pytest.mark.parametrize(
    ("mode", "billing", "term", "unit", "line"),
    [
        (TierMode.VOLUME, "annual", None, "144.000000", "36000.00"),
        (TierMode.VOLUME, "monthly", None, "12.000000", "3000.00"),
        (TierMode.VOLUME, "quarterly", None, "36.000000", "9000.00"),
        (TierMode.VOLUME, "term", 36, "432.000000", "108000.00"),
        (TierMode.GRADUATED, "annual", None, "155.520000", "38880.00"),
        (TierMode.GRADUATED, "monthly", None, "12.960000", "3240.00"),
    ],
)
def test_examples_case_1(mode: TierMode, billing: str, term: int | None, unit: str, line: str) -> None:
    # EXAMPLES case 1: 250 seats of a monthly vendor book, markup 20%.
    charge = rate(_spec(CostBook(WFM, mode, Decimal(20)), billing, term), Decimal(250))
    assert charge.effective_unit_price == Decimal(unit)
    assert charge.rounded_amount == Decimal(line)


def test_a_price_not_a_whole_number_of_book_periods_is_refused() -> None:
    quarterly = CostBook(WFM, TierMode.VOLUME, Decimal(20), TierPeriod.QUARTERLY)
    with pytest.raises(ValidationFailed) as refused:
        validate_price_spec(_spec(quarterly, "monthly"))
    assert [(e.field, e.code) for e in refused.value.errors] == [("billing_period", "period_not_convertible")]
    validate_price_spec(_spec(quarterly, "term"))  # the term's length comes with the quote
    with pytest.raises(ValidationFailed):
        rate(_spec(quarterly, "term", 16), Decimal(1))
