"""JSON numbers in request bodies are read exactly (issue 6, defect 8): a quantity takes one only
when its value is an integer; money and percents never take one."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, TypeAdapter, ValidationError

from libs.contracts.types import Amount, Percent, Quantity, StrictInt, UnitPrice
from libs.platform.json_body import loads_exact

QUANTITY = TypeAdapter(Quantity)


def _quantity(text: str) -> Decimal:
    return QUANTITY.validate_python(loads_exact(text))


def test_a_number_no_float_holds_exactly_is_never_read_as_a_nearby_value() -> None:
    value = loads_exact('{"q": 0.99999999999999999, "r": 2.5, "s": 1e3, "t": 1e999, "n": 3}')
    assert math.isnan(value["q"]) and math.isnan(value["t"])
    assert (value["r"], value["s"]) == (2.5, 1000.0)
    assert type(value["n"]) is int
    assert type(value["n"]) is int


@pytest.mark.parametrize("text", ["0.99999999999999999", "1.00000000000000001", "0.5", "1e-7", "-0.5"])
def test_a_quantity_refuses_a_json_number_that_is_not_an_integer(text: str) -> None:
    with pytest.raises(ValidationError, match="integer or a decimal string"):
        _quantity(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("3", 3), ("3.0", 3), ("3e0", 3), ("2E+1", 20), ("-0.0", 0), ("9007199254740991.0", 2**53 - 1)],
)
def test_a_quantity_takes_a_json_number_whose_value_is_an_integer(text: str, expected: int) -> None:
    assert _quantity(text) == expected


@pytest.mark.parametrize("text", ["9007199254740992.0", "1e999999999", "-1.0", "-1e3"])
def test_a_quantity_refuses_an_integral_json_number_out_of_range(text: str) -> None:
    with pytest.raises(ValidationError):
        _quantity(text)


@pytest.mark.parametrize("wire_type", [Amount, UnitPrice, Percent, StrictInt])
@pytest.mark.parametrize("text", ["12.5", "12.0", "1e2"])
def test_money_percents_and_integers_never_take_a_json_number_with_a_fraction(
    wire_type: Any, text: str
) -> None:
    with pytest.raises(ValidationError):
        TypeAdapter(wire_type).validate_python(loads_exact(text))


def test_a_decimal_from_python_code_is_still_money() -> None:
    assert TypeAdapter(Amount).validate_python(Decimal("12.50")) == Decimal("12.50")


@given(st.decimals(min_value=0, max_value=10**12, places=8, allow_nan=False))
def test_a_written_number_is_a_quantity_exactly_when_it_is_an_integer(value: Decimal) -> None:
    text = format(value, "f")
    integral = value == value.to_integral_value()
    try:
        accepted = _quantity(text) == value
    except ValidationError:
        accepted = False
    assert accepted == integral


class _Change(BaseModel):
    name: str | None = None


class _Changes(BaseModel):
    changes: list[_Change] = []


@pytest.mark.parametrize("text", ["4.5", '{"changes": [4.5]}', '{"changes": [1e3]}'])
def test_a_json_number_is_never_an_object_whose_fields_all_default(text: str) -> None:
    # FastAPI validates bodies with from_attributes: any object is read field by field.
    adapter = TypeAdapter(_Changes if text.startswith("{") else _Change)
    with pytest.raises(ValidationError):
        adapter.validate_python(loads_exact(text), from_attributes=True)
