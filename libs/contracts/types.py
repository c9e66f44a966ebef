"""Wire types shared by every API and message: money, unit prices, quantities, currencies, dates,
booleans and integers.

Money and prices travel as JSON strings ("12.50"), never numbers (DESIGN §7); quantities may
also be JSON numbers whose exact value is an integer (3, and 3.0 as JSON Schema counts it;
never 0.99999999999999999, which a float would read as 1: request bodies read a number no float
holds exactly as NaN, which no field takes — `libs.platform.json_body`). Dates are "YYYY-MM-DD"
strings; booleans are JSON true/false and integers are integers as JSON Schema counts them
(`IntegerRange`: 3 and 3.0, never true, "3" or 3.5), with none of pydantic's lax coercions
(FastAPI validates bodies in python mode, where a plain `date` field reads 0 as 1970-01-01 and a
plain `int` field reads true or "0001" as 1). Each type's JSON schema is exactly what its
validator accepts, so that OpenAPI clients and schema fuzzers see the truth. Validators raise
only pydantic errors (`PydanticCustomError` is a `ValueError`), so bad input is always an
ordinary 422.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Final

from pydantic import GetCoreSchemaHandler, PlainSerializer, PlainValidator, Strict, WithJsonSchema
from pydantic_core import CoreSchema, PydanticCustomError, core_schema

from libs.platform.errors import ValidationFailed
from libs.platform.money import (
    CURRENCY_MINOR_UNITS,
    MAX_INTEGER_DIGITS,
    UNIT_PRICE_PLACES,
    is_known_currency,
    parse_decimal,
)

# The most minor-unit places of any ISO 4217 currency (CLF, UYW); whether an amount suits its
# own currency is checked where the currency is known.
AMOUNT_PLACES: Final = 4
QUANTITY_PLACES: Final = 6
PERCENT_PLACES: Final = 4

_INT = f"[0-9]{{1,{MAX_INTEGER_DIGITS}}}"
AMOUNT_PATTERN: Final = rf"^-?{_INT}(\.[0-9]{{1,{AMOUNT_PLACES}}})?$"
NON_NEGATIVE_AMOUNT_PATTERN: Final = rf"^{_INT}(\.[0-9]{{1,{AMOUNT_PLACES}}})?$"
UNIT_PRICE_PATTERN: Final = rf"^{_INT}(\.[0-9]{{1,{UNIT_PRICE_PLACES}}})?$"
QUANTITY_PATTERN: Final = rf"^{_INT}(\.[0-9]{{1,{QUANTITY_PLACES}}})?$"
PERCENT_PATTERN: Final = rf"^(100(\.0{{1,{PERCENT_PLACES}}})?|[0-9]{{1,2}}(\.[0-9]{{1,{PERCENT_PLACES}}})?)$"
CURRENCY_PATTERN: Final = r"^[A-Z]{3}$"
# Larger JSON integers do not survive JavaScript clients nor float-based schema tools (which
# would read a bound of 10**18 - 1 as 1e18); larger quantities travel as decimal strings.
MAX_INTEGER_QUANTITY: Final = 2**53 - 1

_MONEY_STRING = 'money must be a JSON string such as "12.50"'
_QUANTITY_KIND = 'a quantity must be an integer or a decimal string such as "1.5"'
_PERCENT_STRING = 'a percent must be a JSON string such as "12.5"'
_PERCENT_RE: Final = re.compile(PERCENT_PATTERN[1:-1])
_CURRENCY_RE: Final = re.compile(CURRENCY_PATTERN[1:-1])
_DATE_STRING = 'a date must be a string such as "2026-03-01"'
# ASCII digits only: \d would also match other scripts' digits, which RFC 3339 does not allow.
_DATE_RE: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# Responses may carry any plain decimal (an unrounded tier breakdown, say): describe them
# loosely in the serialization schema so that valid responses never break it.
_DECIMAL_OUT: Final = {"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]+)?$"}


def _refuse(message: str) -> PydanticCustomError:
    return PydanticCustomError("decimal_format", message)


def _as_text(value: object, *, wrong_type: str, allow_int: bool) -> str:
    """The decimal text of a wire value; Decimal objects are accepted from Python code."""
    if isinstance(value, str):
        return value
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise _refuse("must be a finite number")
        return format(value.copy_abs() if value.is_zero() else value, "f")
    if allow_int and isinstance(value, float) and value.is_integer():
        # JSON Schema counts 2.0 as the integer 2. Request bodies hold a float only where it is
        # the number exactly as written (`libs.platform.json_body`: any other is NaN, refused
        # here); pydantic's own JSON parsing (messages) cannot tell, and our producers write
        # quantities as strings. Any other float is refused below.
        value = int(value)
    if allow_int and isinstance(value, int) and not isinstance(value, bool):
        # Checked before str(): a huge integer would otherwise hit Python's digit limit.
        if not 0 <= value <= MAX_INTEGER_QUANTITY:
            raise _refuse(
                f"must be from 0 to {MAX_INTEGER_QUANTITY} as a JSON integer; "
                'send larger quantities as a decimal string such as "1.5"'
            )
        return str(value)
    raise PydanticCustomError("decimal_type", wrong_type)


def _parse(text: str, *, max_places: int, allow_negative: bool) -> Decimal:
    try:
        return parse_decimal(text, field="value", max_places=max_places, allow_negative=allow_negative)
    except ValidationFailed as exc:
        raise _refuse(exc.errors[0].message if exc.errors else exc.detail) from None


def _decimal_validator(*, max_places: int, allow_negative: bool) -> Any:
    def validate(value: object) -> Decimal:
        text = _as_text(value, wrong_type=_MONEY_STRING, allow_int=False)
        return _parse(text, max_places=max_places, allow_negative=allow_negative)

    return PlainValidator(validate)


def _validate_quantity(value: object) -> Decimal:
    if type(value) is int and 0 <= value <= MAX_INTEGER_QUANTITY:
        # The common case of high-volume usage events, without the text round trip; the same
        # Decimal as the text path gives (at most 16 digits, never negative zero).
        return Decimal(value)
    text = _as_text(value, wrong_type=_QUANTITY_KIND, allow_int=True)
    return _parse(text, max_places=QUANTITY_PLACES, allow_negative=False)


def _validate_percent(value: object) -> Decimal:
    text = _as_text(value, wrong_type=_PERCENT_STRING, allow_int=False)
    result = _parse(text, max_places=PERCENT_PLACES, allow_negative=False)
    if result > 100:
        raise _refuse("must be at most 100")
    if not _PERCENT_RE.fullmatch(text):
        raise _refuse('must be written like "12.5": 0 to 100 with up to 4 decimals')
    return result


def _validate_currency(value: object) -> str:
    if not isinstance(value, str) or not _CURRENCY_RE.fullmatch(value):
        raise PydanticCustomError(
            "currency_format",
            'a currency must be a 3-letter upper-case ISO 4217 code such as "USD"',
        )
    if not is_known_currency(value):
        raise PydanticCustomError(
            "unknown_currency",
            "{code} is not an active ISO 4217 currency code",
            {"code": value},
        )
    return value


def _validate_date(value: object) -> date:
    # A datetime is a date subclass: refused, as a date-time string is, not silently truncated.
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _DATE_RE.fullmatch(value):
        raise PydanticCustomError("date_format", _DATE_STRING)
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise PydanticCustomError("date_value", "{date} is not a calendar date", {"date": value}) from None


def _decimal_text(value: Decimal) -> str:
    # format(..., "f"), not str(): str(Decimal("0.0000001")) is "1E-7".
    return format(value, "f")


_AS_STRING: Final = PlainSerializer(_decimal_text, return_type=str, when_used="json")


def _string_schema(pattern: str, description: str, example: str) -> WithJsonSchema:
    return WithJsonSchema(
        {"type": "string", "pattern": pattern, "description": description, "examples": [example]},
        mode="validation",
    )


_OUT_SCHEMA: Final = WithJsonSchema(_DECIMAL_OUT, mode="serialization")

Amount = Annotated[
    Decimal,
    _decimal_validator(max_places=AMOUNT_PLACES, allow_negative=True),
    _AS_STRING,
    _string_schema(AMOUNT_PATTERN, "Money as a decimal string; may be negative.", "12.50"),
    _OUT_SCHEMA,
]
"""Money as a JSON string ("12.50", "-5.00"); a JSON number is refused."""

NonNegativeAmount = Annotated[
    Decimal,
    _decimal_validator(max_places=AMOUNT_PLACES, allow_negative=False),
    _AS_STRING,
    _string_schema(NON_NEGATIVE_AMOUNT_PATTERN, "Money as a decimal string, not negative.", "12.50"),
    _OUT_SCHEMA,
]
"""Money that cannot be negative, as a JSON string."""

UnitPrice = Annotated[
    Decimal,
    _decimal_validator(max_places=UNIT_PRICE_PLACES, allow_negative=False),
    _AS_STRING,
    _string_schema(UNIT_PRICE_PATTERN, "Unit price as a decimal string, up to 6 decimals.", "0.0075"),
    _OUT_SCHEMA,
]
"""A price per unit, up to six decimals, as a JSON string."""

Quantity = Annotated[
    Decimal,
    PlainValidator(_validate_quantity),
    _AS_STRING,
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "integer", "minimum": 0, "maximum": MAX_INTEGER_QUANTITY},
                {"type": "string", "pattern": QUANTITY_PATTERN},
            ],
            "description": "A non-negative quantity: an integer or a decimal string with up to 6 decimals.",
            "examples": [12345, "1.5"],
        },
        mode="validation",
    ),
    WithJsonSchema({"type": "string", "pattern": r"^[0-9]+(\.[0-9]+)?$"}, mode="serialization"),
]
"""A non-negative quantity: a JSON integer or a decimal string, up to six decimals."""

Percent = Annotated[
    Decimal,
    PlainValidator(_validate_percent),
    _AS_STRING,
    _string_schema(PERCENT_PATTERN, "A percentage from 0 to 100, up to 4 decimals.", "12.5"),
    _OUT_SCHEMA,
]
"""A percentage from 0 to 100 with up to four decimals, as a JSON string."""

CurrencyCode = Annotated[
    str,
    PlainValidator(_validate_currency),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": CURRENCY_PATTERN,
            "enum": sorted(CURRENCY_MINOR_UNITS),
            "description": "An active ISO 4217 currency code.",
            "examples": ["USD"],
        }
    ),
]
"""An active ISO 4217 currency code such as "USD"."""

IsoDate = Annotated[
    date,
    PlainValidator(_validate_date),
    PlainSerializer(date.isoformat, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date"}),
]
"""A calendar date as a JSON string "YYYY-MM-DD"; a number or a date-time is refused.

Python callers may pass a `date` (not a `datetime`). The one date RFC 3339 allows that is
refused is year 0000, which no `date` can hold. Bound it with an `AfterValidator`: a
`Field(ge=...)` bound is enforced too, but its message shows `datetime.date(1900, 1, 1)`.
"""

StrictBool = Annotated[bool, Strict()]
"""JSON true or false only: never 0/1 nor "true"."""

StrictInt = Annotated[int, Strict()]
"""A JSON integer only: never a bool, a string ("1", "0001") nor a float — stricter than JSON
Schema (which counts 1.0 as 1); request fields use `IntegerRange`, which follows JSON Schema.
"""


def _whole_number(value: object) -> object:
    # JSON Schema counts 3.0 as the integer 3 (so does every schema fuzzer); request bodies
    # hold a float only when it is the number as written. Any other number stays as it is and
    # the strict integer schema refuses it.
    if isinstance(value, float) and value.is_integer() and abs(value) <= MAX_INTEGER_QUANTITY:
        return int(value)
    return value


@dataclass(frozen=True)
class IntegerRange:
    """`Annotated[int, IntegerRange(1, 31)]`: a JSON integer in bounds, as JSON Schema counts them.

    3.0 is the integer 3 (as in JSON Schema and every schema fuzzer); never a bool nor a string
    ("1", "0001"). The bounds are part of the integer's own schema, so the JSON schema says
    "minimum"/"maximum" even for an optional field (a `Field(ge=...)` on a before-validated
    type is written as "ge").
    """

    minimum: int
    maximum: int

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        """Whole floats become ints, then a strict bounded integer."""
        bounded = core_schema.int_schema(strict=True, ge=self.minimum, le=self.maximum)
        return core_schema.no_info_before_validator_function(_whole_number, bounded)


__all__ = [
    "AMOUNT_PLACES",
    "Amount",
    "CurrencyCode",
    "IntegerRange",
    "IsoDate",
    "NonNegativeAmount",
    "Percent",
    "Quantity",
    "StrictBool",
    "StrictInt",
    "UnitPrice",
]
