"""What every provisioning request and response shares: text and date limits, the output
forms of money, quantities and percents, and the base of every command.

Requests are checked for shape here (types, lengths, wire formats from `libs.contracts.types`);
business rules are checked by the domain, which reports every problem of a request in one 422.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints, WithJsonSchema
from pydantic_core import PydanticCustomError

from libs.contracts.types import (
    IsoDate,
    Quantity,
)
from libs.platform.text import MULTI_LINE, NON_BLANK_LINE, ONE_LINE

# Free text follows the one text rule (`libs.platform.text`), within the column's length:
# one line, or (notes, details, reasons) several.


Name = Annotated[str, StringConstraints(min_length=1, max_length=200), NON_BLANK_LINE]


ShortText = Annotated[str, StringConstraints(max_length=200), ONE_LINE]


LongText = Annotated[str, StringConstraints(max_length=4000), MULTI_LINE]


# The shape the domain checks (accounts.EMAIL_RE: no @ nor whitespace around one @ and a dot),
# stated in the schema with explicit characters so every regex engine reads it alike; the
# characters the one-line text rule refuses (controls, separators, bidi) are refused here too.
_EMAIL_CHAR = r"[^@\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028-\u202f\u205f\u2066-\u2069\u3000]"


Email = Annotated[
    str,
    StringConstraints(
        min_length=3, max_length=254, pattern=rf"^{_EMAIL_CHAR}+@{_EMAIL_CHAR}+\.{_EMAIL_CHAR}+$"
    ),
]


RefId = Annotated[str, StringConstraints(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_\-]+$")]


CatalogId = Annotated[str, StringConstraints(min_length=1, max_length=60, pattern=r"^[A-Za-z0-9_\-.]+$")]


UserId = Annotated[str, StringConstraints(min_length=1, max_length=120), NON_BLANK_LINE]


ProgramName = Annotated[str, StringConstraints(min_length=1, max_length=100), NON_BLANK_LINE]


# Dates bounded to what every backend stores and no contract ever needs beyond.
_FIRST_DAY = date(1900, 1, 1)


_LAST_DAY = date(2200, 12, 31)


def _storable(day: date) -> date:
    if not _FIRST_DAY <= day <= _LAST_DAY:
        raise PydanticCustomError(
            "date_range",
            "must be from {first} to {last}",
            {"first": _FIRST_DAY.isoformat(), "last": _LAST_DAY.isoformat()},
        )
    return day


# The same range as a pattern, so the OpenAPI document states it: any month-day of 1900-2200,
# and 29 February of the leap years only (2000 is one, 1900, 2100 and 2200 are not).
_MONTH_DAY = r"(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])|(0[13-9]|1[0-2])-(29|30)|(0[13578]|1[02])-31"
_LEAP_YEAR = r"(19|20|21)(0[48]|[2468][048]|[13579][26])|2000"
DAY_PATTERN = rf"^(((19[0-9]{{2}}|2[01][0-9]{{2}}|2200)-({_MONTH_DAY}))|({_LEAP_YEAR})-02-29)$"


Day = Annotated[
    IsoDate,
    AfterValidator(_storable),
    WithJsonSchema(
        {
            "type": "string",
            "format": "date",
            "pattern": DAY_PATTERN,
            "description": "From 1900-01-01 to 2200-12-31.",
        }
    ),
]


# What one order, fulfillment or change line may hold (handlers.common.MAX_LINE_QUANTITY),
# stated in the schema: up to 9 integer digits, or exactly 1000000000.
_UP_TO_LIMIT = r"[0-9]{1,9}(\.[0-9]{1,6})?|1000000000(\.0{1,6})?"
_POSITIVE_FRACTION = (
    r"0{0,5}[1-9]|0{0,4}[1-9][0-9]|0{0,3}[1-9][0-9]{2}|0{0,2}[1-9][0-9]{3}|0?[1-9][0-9]{4}|[1-9][0-9]{5}"
)
_POSITIVE_UP_TO_LIMIT = (
    rf"0{{0,9}}[1-9][0-9]{{0,8}}(\.[0-9]{{1,6}})?|1000000000(\.0{{1,6}})?|0{{1,9}}\.({_POSITIVE_FRACTION})"
)


def _line_quantity_schema(minimum: int, pattern: str, description: str) -> WithJsonSchema:
    return WithJsonSchema(
        {
            "anyOf": [
                {"type": "integer", "minimum": minimum, "maximum": 1_000_000_000},
                {"type": "string", "pattern": f"^({pattern})$"},
            ],
            "description": description,
            "examples": [25, "1.5"],
        },
        mode="validation",
    )


LineQuantity = Annotated[
    Quantity, _line_quantity_schema(0, _UP_TO_LIMIT, "From 0 to 1000000000, up to 6 decimals.")
]


PositiveLineQuantity = Annotated[
    Quantity,
    _line_quantity_schema(1, _POSITIVE_UP_TO_LIMIT, "More than 0, at most 1000000000, up to 6 decimals."),
]


class Command(BaseModel):
    """Base of every request body: unknown fields are refused so typos are not ignored."""

    model_config = ConfigDict(extra="forbid")


ZERO = Decimal(0)


def stored_at(at: datetime | None) -> datetime:
    """When a shown object was stored (the repository sets it; a shown object is always stored)."""
    assert at is not None
    return at
