"""The one money-field rule: an amount in a currency has at most the currency's minor units."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from libs.platform.errors import ValidationFailed
from libs.platform.money import (
    CURRENCY_MINOR_UNITS,
    decimal_places,
    minor_units_problem,
    require_minor_units,
    round_money,
)


@pytest.mark.parametrize(
    ("amount", "currency", "ok"),
    [
        ("10", "JPY", True),
        ("10.0", "JPY", True),
        ("10.5", "JPY", False),
        ("10.00", "USD", True),
        ("10.005", "USD", False),
        ("1.005", "BHD", True),
        ("1.0005", "BHD", False),
        ("1.0005", "CLF", True),
    ],
)
def test_an_amount_keeps_to_its_currencys_minor_units(amount: str, currency: str, ok: bool) -> None:
    assert (minor_units_problem(Decimal(amount), currency) is None) is ok


def test_the_refusal_names_the_field_and_the_currency() -> None:
    with pytest.raises(ValidationFailed) as caught:
        require_minor_units(Decimal("10.5"), "JPY", field="amount")
    (error,) = caught.value.errors
    assert (error.field, error.code) == ("amount", "too_many_decimals")
    assert "JPY" in error.message


def test_trailing_zeros_and_exponents_are_counted_by_value() -> None:
    assert decimal_places(Decimal("1.5000")) == 1
    assert decimal_places(Decimal("1E+3")) == 0
    assert decimal_places(Decimal("1" + "0" * 80 + ".5")) == 1


@given(
    amount=st.decimals(min_value=0, max_value=10**9, places=4, allow_nan=False),
    currency=st.sampled_from(sorted(CURRENCY_MINOR_UNITS)),
)
def test_an_accepted_amount_is_billed_as_it_is(amount: Decimal, currency: str) -> None:
    # What the rule accepts, rounding to the currency never changes: stored == billed.
    if minor_units_problem(amount, currency) is None:
        assert round_money(amount, currency) == amount
    else:
        assert round_money(amount, currency) != amount


@given(
    digits=st.integers(min_value=-(10**12), max_value=10**12),
    places=st.integers(min_value=0, max_value=8),
    zeros=st.integers(min_value=0, max_value=4),
    currency=st.sampled_from(sorted(CURRENCY_MINOR_UNITS)),
)
def test_the_answer_depends_on_the_value_whatever_was_asked_before(
    digits: int, places: int, zeros: int, currency: str
) -> None:
    # Answers are kept per value and currency: the same value written with more zeros (10.5 and
    # 10.500 are one key) must get the answer its decimals give, asked first or second.
    amount = Decimal(digits).scaleb(-places)
    padded = Decimal(digits * 10**zeros).scaleb(-(places + zeros))
    assert padded == amount
    expected = decimal_places(amount) <= CURRENCY_MINOR_UNITS[currency]
    for value in (padded, amount, padded):
        assert (minor_units_problem(value, currency) is None) is expected


def test_unknown_currencies_and_non_finite_amounts_are_still_refused() -> None:
    with pytest.raises(ValidationFailed):
        minor_units_problem(Decimal("1.00"), "XXX1")
    with pytest.raises(ValidationFailed):
        minor_units_problem(Decimal("1.00"), "XXX1")  # not remembered as fine the second time
    with pytest.raises(ValueError):
        minor_units_problem(Decimal("Infinity"), "USD")
