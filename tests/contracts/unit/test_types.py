import json
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

import jsonschema_rs
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import assume, given
from hypothesis import strategies as st
from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from libs.contracts.types import (
    Amount,
    CurrencyCode,
    IsoDate,
    NonNegativeAmount,
    Percent,
    Quantity,
    StrictBool,
    StrictInt,
    UnitPrice,
)


class PriceChange(BaseModel):
    amount: Amount
    balance: NonNegativeAmount
    unit_price: UnitPrice
    quantity: Quantity
    discount: Percent
    currency: CurrencyCode
    credit: Amount | None = None


VALID = {
    "amount": "-12.50",
    "balance": "300.00",
    "unit_price": "0.0075",
    "quantity": 12345,
    "discount": "12.5",
    "currency": "USD",
}


def errors_for(body: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(ValidationError) as caught:
        PriceChange.model_validate_json(json.dumps(body))
    return {".".join(map(str, e["loc"])): e["msg"] for e in caught.value.errors()}


def test_wire_values_parse_to_decimals_and_serialize_as_strings() -> None:
    change = PriceChange.model_validate_json(json.dumps(VALID))
    assert change.amount == Decimal("-12.50")
    assert change.quantity == Decimal(12345)
    assert change.currency == "USD"
    assert json.loads(change.model_dump_json()) == {**VALID, "quantity": "12345", "credit": None}
    assert change.model_dump()["unit_price"] == Decimal("0.0075")


def test_serialization_never_uses_exponent_notation() -> None:
    change = PriceChange.model_validate({**VALID, "unit_price": Decimal("0.000001")})
    assert json.loads(change.model_dump_json())["unit_price"] == "0.000001"
    change = PriceChange.model_validate({**VALID, "amount": Decimal("1E+3")})
    assert json.loads(change.model_dump_json())["amount"] == "1000"


@pytest.mark.parametrize("number", [12.5, 12, 0, True])
def test_money_as_a_json_number_is_refused(number: object) -> None:
    errors = errors_for({**VALID, "amount": number, "unit_price": number})
    assert errors["amount"] == 'money must be a JSON string such as "12.50"'
    assert errors["unit_price"] == 'money must be a JSON string such as "12.50"'


@pytest.mark.parametrize(
    "text", ["1e-9", "NaN", "Infinity", "+1", " 1", "1.", "", "12.34567", "1" * 19, "{x}"]
)
def test_amount_refuses_anything_but_plain_decimals(text: str) -> None:
    assert "amount" in errors_for({**VALID, "amount": text})


def test_non_negative_amount_and_unit_price_refuse_negatives() -> None:
    errors = errors_for({**VALID, "balance": "-1.00", "unit_price": "-0.01"})
    assert errors == {"balance": "must not be negative", "unit_price": "must not be negative"}


def test_unit_price_keeps_six_decimals() -> None:
    change = PriceChange.model_validate_json(json.dumps({**VALID, "unit_price": "10.123456"}))
    assert change.unit_price == Decimal("10.123456")
    assert "unit_price" in errors_for({**VALID, "unit_price": "10.1234567"})


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0, "0"), (7, "7"), ("1.5", "1.5"), ("2.000001", "2.000001"), (3.0, "3")],
)
def test_quantity_accepts_integers_and_decimal_strings(value: object, expected: str) -> None:
    change = PriceChange.model_validate_json(json.dumps({**VALID, "quantity": value}))
    assert change.quantity == Decimal(expected)


@pytest.mark.parametrize("value", [1.5, 0.1, -1.0, 1e300, -1, "-1", "1e3", "1.0000001", 10**18, True, None])
def test_quantity_refuses_floats_negatives_and_huge_numbers(value: object) -> None:
    assert "quantity" in errors_for({**VALID, "quantity": value})


def test_quantity_refuses_an_integer_with_thousands_of_digits() -> None:
    # FastAPI hands pydantic what json.loads made of the body: here a 5001-digit int.
    with pytest.raises(ValidationError) as caught:
        PriceChange.model_validate({**VALID, "quantity": 10**5000})
    assert [e["loc"] for e in caught.value.errors()] == [("quantity",)]


def test_quantity_beyond_javascript_integers_travels_as_a_string() -> None:
    assert "quantity" in errors_for({**VALID, "quantity": 2**53})
    change = PriceChange.model_validate_json(json.dumps({**VALID, "quantity": str(2**56)}))
    assert change.quantity == Decimal(2**56)


@pytest.mark.parametrize("value", ["0", "100", "100.0000", "12.3456", "99.9999", "0.5"])
def test_percent_from_0_to_100(value: str) -> None:
    change = PriceChange.model_validate_json(json.dumps({**VALID, "discount": value}))
    assert change.discount == Decimal(value)


@pytest.mark.parametrize("value", ["100.0001", "101", "-1", "12.34567", "007", 12.5, 50])
def test_percent_refuses_out_of_range(value: object) -> None:
    assert "discount" in errors_for({**VALID, "discount": value})


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("usd", 'a currency must be a 3-letter upper-case ISO 4217 code such as "USD"'),
        ("US", 'a currency must be a 3-letter upper-case ISO 4217 code such as "USD"'),
        (840, 'a currency must be a 3-letter upper-case ISO 4217 code such as "USD"'),
        ("ZZZ", "ZZZ is not an active ISO 4217 currency code"),
        ("XXX", "XXX is not an active ISO 4217 currency code"),
    ],
)
def test_currency_code_must_be_a_known_iso_code(code: object, message: str) -> None:
    assert errors_for({**VALID, "currency": code})["currency"] == message


def test_optional_amount_accepts_null() -> None:
    change = PriceChange.model_validate_json(json.dumps({**VALID, "credit": None}))
    assert change.credit is None


def test_errors_are_ordinary_pydantic_errors() -> None:
    with pytest.raises(ValidationError):
        TypeAdapter(Amount).validate_python(object())
    with pytest.raises(ValidationError):
        TypeAdapter(Quantity).validate_python(Decimal("NaN"))


# The schema must describe exactly what is accepted: schema fuzzers rely on it.
ADAPTERS: dict[str, TypeAdapter[Any]] = {
    "amount": TypeAdapter(Amount),
    "non_negative": TypeAdapter(NonNegativeAmount),
    "unit_price": TypeAdapter(UnitPrice),
    "quantity": TypeAdapter(Quantity),
    "percent": TypeAdapter(Percent),
    "currency": TypeAdapter(CurrencyCode),
    "date": TypeAdapter(IsoDate),
    "bool": TypeAdapter(StrictBool),
    "int": TypeAdapter(StrictInt),
    "bounded_int": TypeAdapter(Annotated[StrictInt, Field(ge=1, le=31)]),
}
# Formats asserted, as schema fuzzers do when they generate a "format": "date".
SCHEMA_VALIDATORS = {
    name: jsonschema_rs.validator_for(adapter.json_schema(), validate_formats=True)
    for name, adapter in ADAPTERS.items()
}
wire_values = st.one_of(
    st.from_regex(r"-?[0-9]{1,20}(\.[0-9]{1,8})?", fullmatch=True),
    st.text(alphabet="0123456789.-+eE ABCDUSJPY\n", max_size=12),
    st.integers(min_value=-(10**19), max_value=10**19),
    st.floats(allow_nan=False),
    st.sampled_from(["USD", "JPY", "XXX", "usd", "100", "100.00001", "0100"]),
    st.booleans(),
    st.none(),
    st.dates().map(date.isoformat),
    st.from_regex(r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,3}(T00:00:00Z)?", fullmatch=True),
    st.sampled_from(["true", "1", " 1", "0001", "2026-02-29", "2024-02-29", "2026-01-01\n"]),
)


def _accepted(adapter: TypeAdapter[Any], validate: str, value: object) -> bool:
    try:
        if validate == "json":
            adapter.validate_json(json.dumps(value))
        else:  # what FastAPI does with a request body
            adapter.validate_python(json.loads(json.dumps(value)))
    except ValidationError:
        return False
    return True


@pytest.mark.parametrize("name", sorted(ADAPTERS))
@pytest.mark.parametrize("validate", ["json", "python"])
@given(value=wire_values)
def test_schema_describes_exactly_what_is_accepted(name: str, validate: str, value: object) -> None:
    # Known narrowings, tested on their own below: JSON Schema counts 1.0 as the integer 1, and
    # RFC 3339 allows year 0000, which no Python date holds.
    assume(not (name.endswith("int") and isinstance(value, float) and value.is_integer()))
    assume(not (name == "date" and isinstance(value, str) and value.startswith("0000-")))
    assert _accepted(ADAPTERS[name], validate, value) == SCHEMA_VALIDATORS[name].is_valid(value)


@pytest.mark.parametrize("name", ["amount", "non_negative", "unit_price", "quantity", "percent"])
@given(value=st.decimals(min_value=0, max_value=100, places=4, allow_nan=False))
def test_serialized_values_match_the_output_schema(name: str, value: Decimal) -> None:
    adapter = ADAPTERS[name]
    out = jsonschema_rs.validator_for(adapter.json_schema(mode="serialization"))
    assert out.is_valid(json.loads(adapter.dump_json(adapter.validate_python(value))))


# --- dates, booleans, integers ------------------------------------------------------------


class Schedule(BaseModel):
    starts: IsoDate
    ends: IsoDate | None = None
    active: StrictBool = True
    cycles: StrictInt | None = Field(default=None, ge=1, le=1200)
    bill_cycle_day: Annotated[StrictInt, Field(ge=1, le=31)] = 1


def schedule_errors(body: dict[str, Any]) -> dict[str, str]:
    """Errors as FastAPI meets them: pydantic in python mode on what json.loads made of the body."""
    with pytest.raises(ValidationError) as caught:
        Schedule.model_validate(json.loads(json.dumps(body)))
    return {".".join(map(str, e["loc"])): e["msg"] for e in caught.value.errors()}


def test_dates_booleans_and_integers_parse_and_serialize() -> None:
    body = {"starts": "2026-03-01", "ends": "2024-02-29", "active": False, "cycles": 12, "bill_cycle_day": 31}
    schedule = Schedule.model_validate(json.loads(json.dumps(body)))
    assert schedule.starts == date(2026, 3, 1)
    assert schedule.ends == date(2024, 2, 29)
    assert (schedule.active, schedule.cycles, schedule.bill_cycle_day) == (False, 12, 31)
    assert json.loads(schedule.model_dump_json()) == body
    assert schedule.model_dump()["starts"] == date(2026, 3, 1)
    assert Schedule.model_validate_json(json.dumps(body)) == schedule


def test_python_callers_may_pass_a_date_but_not_a_datetime() -> None:
    assert Schedule(starts=date(2026, 3, 1)).starts == date(2026, 3, 1)
    with pytest.raises(ValidationError) as caught:
        Schedule.model_validate({"starts": datetime(2026, 3, 1, 12, 0)})
    assert caught.value.errors()[0]["msg"] == 'a date must be a string such as "2026-03-01"'


@pytest.mark.parametrize(
    "value",
    [
        *[0, -0.0, 1772323200, 1.5, "-0", "0", "0.0000001", "1772323200", True, None, [], {}],
        *["2026-01-01T00:00:00Z", "2026-01-01T00:00:00", "2026-01-01 ", " 2026-01-01", "2026-01-01\n"],
        *["20260101", "2026-1-01", "2026-W01-1", "+2026-01-01", "\u0662\u0660\u0662\u0666-01-01"],
    ],
)
def test_a_date_is_only_a_yyyy_mm_dd_string(value: object) -> None:
    assert schedule_errors({"starts": value}) == {"starts": 'a date must be a string such as "2026-03-01"'}


@pytest.mark.parametrize("value", ["2026-02-30", "2026-13-01", "2026-00-10", "2025-02-29", "0000-01-01"])
def test_an_impossible_date_is_refused(value: str) -> None:
    assert schedule_errors({"starts": value}) == {"starts": f"{value} is not a calendar date"}


@pytest.mark.parametrize("value", [0, 1, "true", "false", "", None, 0.0])
def test_a_boolean_is_only_true_or_false(value: object) -> None:
    assert schedule_errors({"starts": "2026-03-01", "active": value}) == {
        "active": "Input should be a valid boolean"
    }


@pytest.mark.parametrize("value", [True, False, "1", "0001", " 1", "1 ", 1.0, 12.0, 1.5, "1e1"])
def test_an_integer_is_only_a_json_integer(value: object) -> None:
    errors = schedule_errors({"starts": "2026-03-01", "cycles": value, "bill_cycle_day": value})
    assert errors == {
        "cycles": "Input should be a valid integer",
        "bill_cycle_day": "Input should be a valid integer",
    }


@pytest.mark.parametrize(
    ("value", "bound"), [(0, "greater than or equal to 1"), (32, "less than or equal to 31")]
)
def test_integer_bounds_still_apply(value: int, bound: str) -> None:
    errors = schedule_errors({"starts": "2026-03-01", "bill_cycle_day": value})
    assert errors == {"bill_cycle_day": f"Input should be {bound}"}


def test_the_schemas_of_dates_booleans_and_integers() -> None:
    props = Schedule.model_json_schema()["properties"]
    assert props["starts"] == {"type": "string", "format": "date", "title": "Starts"}
    assert props["ends"]["anyOf"] == [{"type": "string", "format": "date"}, {"type": "null"}]
    assert props["active"] == {"type": "boolean", "default": True, "title": "Active"}
    assert props["cycles"]["anyOf"][0] == {"type": "integer", "minimum": 1, "maximum": 1200}
    assert props["bill_cycle_day"] == {
        "type": "integer",
        "minimum": 1,
        "maximum": 31,
        "default": 1,
        "title": "Bill Cycle Day",
    }
    assert Schedule.model_json_schema(mode="serialization")["properties"]["starts"]["format"] == "date"


app = FastAPI()


@app.post("/v1/price-changes")
def create_price_change(change: PriceChange) -> PriceChange:
    return change


@app.post("/v1/schedules")
def create_schedule(schedule: Schedule) -> Schedule:
    return schedule


client = TestClient(app)


def test_fastapi_request_bodies_use_the_wire_types() -> None:
    created = client.post("/v1/price-changes", json=VALID)
    assert created.status_code == 200
    assert created.json()["amount"] == "-12.50"
    assert created.json()["quantity"] == "12345"

    refused = client.post("/v1/price-changes", json={**VALID, "amount": 12.5})
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["msg"] == 'money must be a JSON string such as "12.50"'


def test_openapi_describes_money_as_patterned_strings() -> None:
    schema = client.get("/openapi.json").json()
    components = schema["components"]["schemas"]
    request = components.get("PriceChange-Input", components.get("PriceChange"))
    props = request["properties"]
    for name in ("amount", "balance", "unit_price", "discount", "currency"):
        assert props[name]["type"] == "string"
        assert props[name]["pattern"].startswith("^")
    assert {s["type"] for s in props["quantity"]["anyOf"]} == {"integer", "string"}
    assert "USD" in props["currency"]["enum"]


def test_fastapi_request_bodies_refuse_lax_dates_booleans_and_integers() -> None:
    created = client.post("/v1/schedules", json={"starts": "2026-03-01", "active": True, "cycles": 3})
    assert created.status_code == 200
    assert created.json()["starts"] == "2026-03-01"

    refused = client.post("/v1/schedules", json={"starts": 0, "active": 0, "cycles": True})
    assert refused.status_code == 422
    assert {e["loc"][-1] for e in refused.json()["detail"]} == {"starts", "active", "cycles"}

    props = client.get("/openapi.json").json()["components"]["schemas"]["Schedule"]["properties"]
    assert props["starts"]["format"] == "date"
    assert props["bill_cycle_day"]["maximum"] == 31
