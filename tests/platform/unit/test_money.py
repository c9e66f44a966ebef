from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from libs.platform.errors import ValidationFailed
from libs.platform.money import (
    CURRENCY_MINOR_UNITS,
    UNIT_PRICE_PLACES,
    CurrencyMismatch,
    Money,
    UnknownCurrency,
    amount_out,
    decimal_out,
    is_known_currency,
    minor_units,
    parse_decimal,
    percent_out,
    round_money,
    round_unit_price,
    sum_money,
    unit_price_out,
)


@pytest.mark.parametrize(
    ("currency", "places"),
    [
        ("USD", 2),
        ("EUR", 2),
        ("JPY", 0),
        ("KRW", 0),
        ("ISK", 0),
        ("VND", 0),
        ("BHD", 3),
        ("KWD", 3),
        ("OMR", 3),
        ("JOD", 3),
        ("TND", 3),
        ("CLF", 4),
        ("UYW", 4),
    ],
)
def test_minor_units_follow_iso_4217(currency: str, places: int) -> None:
    assert minor_units(currency) == places
    assert is_known_currency(currency)


def test_table_holds_every_active_code() -> None:
    assert len(CURRENCY_MINOR_UNITS) >= 150
    assert all(len(code) == 3 and code.isupper() for code in CURRENCY_MINOR_UNITS)


@pytest.mark.parametrize("code", ["usd", "XXX", "HRK", "ABC", "", "US"])
def test_unknown_currency_is_a_field_error(code: str) -> None:
    assert not is_known_currency(code)
    with pytest.raises(UnknownCurrency) as caught:
        minor_units(code)
    assert isinstance(caught.value, ValidationFailed)
    assert caught.value.errors[0].field == "currency"


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        ("1234.5", "JPY", "1235"),
        ("10.005", "USD", "10.01"),
        ("1.2345", "BHD", "1.235"),
        ("-10.005", "USD", "-10.01"),
        ("-1234.5", "JPY", "-1235"),
        ("10.004", "USD", "10.00"),
        ("107.5875", "USD", "107.59"),
        ("92.5875", "USD", "92.59"),
        ("-0.004", "USD", "0.00"),
        ("12", "USD", "12.00"),
    ],
)
def test_round_money_half_up_per_currency(amount: str, currency: str, expected: str) -> None:
    result = round_money(Decimal(amount), currency)
    assert str(result) == expected


def test_round_money_handles_the_largest_amounts() -> None:
    assert round_money(Decimal("999999999999999999.995"), "USD") == Decimal("1000000000000000000.00")


def test_round_unit_price_keeps_six_places() -> None:
    assert UNIT_PRICE_PLACES == 6
    assert str(round_unit_price(Decimal("0.0123455"))) == "0.012346"
    assert str(round_unit_price(Decimal("12"))) == "12.000000"


amounts = st.decimals(min_value=Decimal("-1e15"), max_value=Decimal("1e15"), places=8, allow_nan=False)
currencies = st.sampled_from(sorted(CURRENCY_MINOR_UNITS))


@given(amounts, currencies)
def test_round_money_is_idempotent_and_within_half_a_minor_unit(amount: Decimal, currency: str) -> None:
    rounded = round_money(amount, currency)
    assert round_money(rounded, currency) == rounded
    assert -rounded.as_tuple().exponent == minor_units(currency)  # type: ignore[operator]
    half = Decimal(1).scaleb(-minor_units(currency)) / 2
    assert abs(rounded - amount) <= half


@given(amounts, st.integers(min_value=0, max_value=4), currencies)
def test_round_money_writes_the_same_digits_for_a_value_however_it_was_written(
    amount: Decimal, zeros: int, currency: str
) -> None:
    # Results are kept per value and currency: 10.5 and 10.500 (one key) must round to the same
    # digits, and to what rounding the value gives, whichever was asked first.
    sign, digits, exponent = amount.as_tuple()
    padded = Decimal((sign, digits + (0,) * zeros, exponent - zeros))  # type: ignore[operator]
    assert padded == amount
    direct = amount.quantize(Decimal(1).scaleb(-minor_units(currency)), rounding="ROUND_HALF_UP")
    expected = str(abs(direct) if direct.is_zero() else direct)  # never "-0.00"
    for value in (padded, amount, padded):
        assert str(round_money(value, currency)) == expected


@given(amounts, currencies)
def test_round_money_is_symmetric_around_zero(amount: Decimal, currency: str) -> None:
    assert round_money(-amount, currency) == -round_money(amount, currency)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("12.50", "12.50"), ("0", "0"), ("007.1", "7.1"), ("-0.00", "0.00"), ("-3.5", "-3.5")],
)
def test_parse_decimal_accepts_plain_notation(text: str, expected: str) -> None:
    assert str(parse_decimal(text, field="price", allow_negative=True)) == expected


@pytest.mark.parametrize(
    "text",
    [
        "1e-9",
        "1E5",
        "NaN",
        "nan",
        "Infinity",
        "-Infinity",
        "+1",
        " 1",
        "1 ",
        "1.",
        ".5",
        "",
        "-",
        "1,000",
        "1_000",
        "١٢",
        "0x10",
        "1234567890123456789",
        "0000000000000000000",
        "-0",
    ],
)
def test_parse_decimal_refuses_anything_else(text: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_decimal(text, field="price")
    assert caught.value.errors[0].field == "price"


def test_parse_decimal_refuses_non_strings() -> None:
    with pytest.raises(ValidationFailed):
        parse_decimal(12.5, field="price")  # type: ignore[arg-type]


def test_parse_decimal_limits() -> None:
    assert parse_decimal("123456789012345678.5", field="x") == Decimal("123456789012345678.5")
    assert parse_decimal("0.123456", field="x", max_places=6) == Decimal("0.123456")
    with pytest.raises(ValidationFailed, match="at most 2 decimal places"):
        parse_decimal("1.234", field="x", max_places=2)
    with pytest.raises(ValidationFailed, match="negative"):
        parse_decimal("-1", field="x")
    assert parse_decimal("-1.5", field="x", allow_negative=True) == Decimal("-1.5")


@given(st.decimals(min_value=-(10**17), max_value=10**17, places=6, allow_nan=False))
def test_parse_decimal_round_trips_plain_notation(value: Decimal) -> None:
    text = format(value, "f")
    assert parse_decimal(text, field="x", max_places=6, allow_negative=True) == value


def test_money_arithmetic_and_format() -> None:
    total = Money(Decimal("10.10"), "USD") + Money(Decimal("2.4"), "USD")
    assert total == Money(Decimal("12.50"), "USD")
    assert total.format() == "12.50"
    assert (total - Money(Decimal("0.5"), "USD")).format() == "12.00"
    assert Money(Decimal("1234.5"), "JPY").format() == "1235"
    assert Money(Decimal("1.2345"), "BHD").rounded() == Money(Decimal("1.235"), "BHD")
    assert Money.zero("EUR").format() == "0.00"
    assert Money(Decimal("-0.001"), "USD").format() == "0.00"


def test_money_refuses_mixing_currencies() -> None:
    with pytest.raises(CurrencyMismatch) as caught:
        Money(Decimal(1), "USD") + Money(Decimal(1), "EUR")
    assert isinstance(caught.value, ValidationFailed)
    with pytest.raises(CurrencyMismatch):
        Money(Decimal(1), "USD") - Money(Decimal(1), "EUR")


def test_money_refuses_floats_and_unknown_currencies() -> None:
    with pytest.raises(TypeError):
        Money(1.5, "USD")  # type: ignore[arg-type]
    with pytest.raises(UnknownCurrency):
        Money(Decimal(1), "ZZZ")


def test_sum_money() -> None:
    lines = [Money(Decimal("2250.00"), "USD"), Money(Decimal("4800.00"), "USD")]
    assert sum_money([*lines, Decimal("5000.00")], "USD").format() == "12050.00"
    assert sum_money([], "JPY") == Money.zero("JPY")
    with pytest.raises(CurrencyMismatch):
        sum_money([Money(Decimal(1), "EUR")], "USD")


@pytest.mark.parametrize(
    ("value", "currency", "shown"),
    [("3000", "USD", "3000.00"), ("1234.5", "JPY", "1235"), ("1.2345", "BHD", "1.235"), ("0", "USD", "0.00")],
)
def test_amount_out_has_exactly_the_currencys_minor_units(value: str, currency: str, shown: str) -> None:
    assert format(amount_out(Decimal(value), currency), "f") == shown


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("150.000000", "150"),
        ("0.000108000", "0.000108"),
        ("0.000", "0"),
        ("-0.00", "0"),
        ("37500", "37500"),
        ("1E+3", "1000"),
        ("12.50", "12.5"),
    ],
)
def test_unit_price_out_is_the_shortest_exact_form(value: str, shown: str) -> None:
    assert format(unit_price_out(Decimal(value)), "f") == shown
    assert format(decimal_out(Decimal(value)), "f") == shown


def test_percent_out_rounds_to_four_places_in_shortest_form() -> None:
    assert format(percent_out(Decimal("12.50000")), "f") == "12.5"
    assert format(percent_out(Decimal("33.333333")), "f") == "33.3333"
    assert percent_out(None) is None and amount_out(None, "USD") is None and unit_price_out(None) is None
