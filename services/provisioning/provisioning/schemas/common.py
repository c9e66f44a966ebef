"""What every provisioning request and response shares: text and date limits, the output
forms of money, quantities and percents, and the base of every command.

Requests are checked for shape here (types, lengths, wire formats from `libs.contracts.types`);
business rules are checked by the domain, which reports every problem of a request in one 422.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints
from pydantic_core import PydanticCustomError

from libs.contracts.types import (
    IsoDate,
)
from libs.platform.money import round_money
from libs.platform.text import MULTI_LINE, ONE_LINE

# Free text follows the one text rule (`libs.platform.text`), within the column's length:
# one line, or (notes, details, reasons) several.


Name = Annotated[str, StringConstraints(min_length=1, max_length=200), ONE_LINE]


ShortText = Annotated[str, StringConstraints(max_length=200), ONE_LINE]


LongText = Annotated[str, StringConstraints(max_length=4000), MULTI_LINE]


Email = Annotated[str, StringConstraints(min_length=3, max_length=254), ONE_LINE]


RefId = Annotated[str, StringConstraints(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_\-]+$")]


CatalogId = Annotated[str, StringConstraints(min_length=1, max_length=60, pattern=r"^[A-Za-z0-9_\-.]+$")]


UserId = Annotated[str, StringConstraints(min_length=1, max_length=120), ONE_LINE]


ProgramName = Annotated[str, StringConstraints(min_length=1, max_length=100), ONE_LINE]


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


Day = Annotated[IsoDate, AfterValidator(_storable)]


_PERCENT_STEP = Decimal("0.0001")


def money_out(value: Decimal, currency: str) -> Decimal:
    """An amount as shown: rounded to the currency's minor units."""
    return round_money(value, currency)


def decimal_out(value: Decimal) -> Decimal:
    """The shortest exact form of a quantity or price (no exponent, no trailing zeros)."""
    if value == value.to_integral_value():
        return value.quantize(Decimal(1))
    return Decimal(format(value.normalize(), "f"))


def percent_out(value: Decimal) -> Decimal:
    """A percent as shown: four decimals at most."""
    return decimal_out(value.quantize(_PERCENT_STEP, rounding=ROUND_HALF_UP))


class Command(BaseModel):
    """Base of every request body: unknown fields are refused so typos are not ignored."""

    model_config = ConfigDict(extra="forbid")


ZERO = Decimal(0)


def stored_at(at: datetime | None) -> datetime:
    """When a shown object was stored (the repository sets it; a shown object is always stored)."""
    assert at is not None
    return at
