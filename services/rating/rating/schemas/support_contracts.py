"""Requests and views of support contracts, and the wire types support requests share with them.

Hours are quantities (an integer or a decimal string, up to 6 decimals); dates and instants are
bounded to years every backend stores and no contract needs beyond (2000-2199), stated in the
schema so a schema-valid value is never refused for its range.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Final

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

from libs.contracts.types import IntegerRange, IsoDate, Quantity
from libs.contracts.vocabulary import ContractKind, ExpiryOption
from libs.platform.money import decimal_out
from rating.domain.support_contracts import (
    MAX_PERIOD_MONTHS,
    ContractState,
    HolderType,
    SupportContract,
)

FIRST_DAY: Final = date(2000, 1, 1)
LAST_DAY: Final = date(2199, 12, 31)
MAX_HOURS: Final = Decimal(100_000)

EntityId = Annotated[
    str,
    StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$"),
    Field(examples=["sub_01JD0S6Y4Q7V3J6C3M9W1K2X8Z"]),
]
"""An id of this or another service (`sub_…`, `acct_…`, `ctpl_…`)."""


def _storable_day(day: date) -> date:
    if not FIRST_DAY <= day <= LAST_DAY:
        raise PydanticCustomError(
            "date_range", "must be from {first} to {last}", {"first": str(FIRST_DAY), "last": str(LAST_DAY)}
        )
    return day


# Any month-day of 2000-2199, and 29 February of the leap years only (2000 is one, 2100 is not).
_MONTH_DAY = r"(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])|(0[13-9]|1[0-2])-(29|30)|(0[13578]|1[02])-31"
_LEAP_YEAR = r"(20|21)(0[48]|[2468][048]|[13579][26])|2000"
DAY_PATTERN: Final = rf"^(((20|21)[0-9]{{2}}-({_MONTH_DAY}))|({_LEAP_YEAR})-02-29)$"

Day = Annotated[
    IsoDate,
    AfterValidator(_storable_day),
    WithJsonSchema(
        {
            "type": "string",
            "format": "date",
            "pattern": DAY_PATTERN,
            "description": "From 2000-01-01 to 2199-12-31.",
        }
    ),
]
"""A calendar date from 2000-01-01 to 2199-12-31."""


def _text_only(value: object) -> object:
    # A number is not an instant here (pydantic would read it as Unix seconds): the wire says string.
    if not isinstance(value, str | datetime):
        raise PydanticCustomError("datetime_type", "an instant must be a string such as 2026-06-15T09:30:00Z")
    return value


def _storable_instant(at: datetime) -> datetime:
    # Checked on the local wall time before converting: near the calendar's ends UTC could overflow.
    if not FIRST_DAY.year <= at.year <= LAST_DAY.year:
        raise PydanticCustomError("datetime_range", "must be in the years 2000 to 2199")
    return at.astimezone(UTC)


Instant = Annotated[
    AwareDatetime,
    BeforeValidator(_text_only),
    AfterValidator(_storable_instant),
    WithJsonSchema(
        {
            "type": "string",
            "format": "date-time",
            "pattern": r"^(20|21)[0-9]{2}-",
            "description": "An instant with its time zone offset, in the years 2000 to 2199.",
            "examples": ["2026-06-15T09:30:00Z"],
        }
    ),
]
"""An aware instant of the years 2000-2199, kept in UTC."""


def _positive_hours(value: Decimal) -> Decimal:
    if not 0 < value <= MAX_HOURS:
        raise PydanticCustomError(
            "hours_range", "must be more than 0 and at most {max}", {"max": str(MAX_HOURS)}
        )
    return value


# Up to 6 decimals and 18 digits before the point (leading zeros count): 1 to 99999.999999,
# exactly 100000, or a positive fraction below 1.
_FRACTION = (
    r"0{0,5}[1-9]|0{0,4}[1-9][0-9]|0{0,3}[1-9][0-9]{2}|0{0,2}[1-9][0-9]{3}|0?[1-9][0-9]{4}|[1-9][0-9]{5}"
)
HOURS_PATTERN: Final = (
    rf"^(0{{0,13}}[1-9][0-9]{{0,4}}(\.[0-9]{{1,6}})?|0{{0,12}}100000(\.0{{1,6}})?|0{{1,18}}\.({_FRACTION}))$"
)

Hours = Annotated[
    Quantity,
    AfterValidator(_positive_hours),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "integer", "minimum": 1, "maximum": 100_000},
                {"type": "string", "pattern": HOURS_PATTERN},
            ],
            "description": "Hours: more than 0, at most 100000, up to 6 decimals.",
            "examples": [40, "2.5"],
        },
        mode="validation",
    ),
]
"""A positive number of hours (an integer or a decimal string, up to 6 decimals)."""

PeriodMonths = Annotated[int, IntegerRange(1, MAX_PERIOD_MONTHS)]


class SupportContractCreate(BaseModel):
    """A support contract sold from a catalog template to a holder: a subscription (the item) or an
    account (the customer; for its child accounts' subscriptions, their org unit)."""

    model_config = ConfigDict(extra="forbid")
    template_id: EntityId = Field(description="The catalog's contract template (`ctpl_…`).")
    holder_type: HolderType = Field(
        description="subscription (the item) or account (a customer, or the org unit of its child accounts)."
    )
    holder_id: EntityId = Field(description="The subscription or account id.")
    starts_on: Day = Field(description="First day of the contract, in the holder's time zone.")
    period_months: PeriodMonths | None = Field(
        default=None, description="Overrides the template's period (subscription and time_limited only)."
    )
    hours: Hours | None = Field(
        default=None, description="Overrides the template's hours (time_limited and support_hours only)."
    )


class SupportContractPublic(BaseModel):
    """A support contract: its bounds, its hours and its state now."""

    id: str
    template_id: str
    kind: ContractKind
    holder_type: HolderType
    holder_id: str
    account_id: str = Field(description="The holder's account (the holder itself for an account).")
    request_id: str | None = Field(description="The request a per-incident contract covers.")
    product_id: str | None
    time_zone: str
    starts_on: date
    ends_on: date | None = Field(description="Exclusive end of the period; null = no period.")
    hours_granted: Quantity | None = Field(description="Null = not bounded by hours.")
    hours_used: Quantity
    hours_remaining: Quantity | None
    on_expiry: ExpiryOption
    state: ContractState
    ended_at: datetime | None = Field(
        description="When its hours ran out or its per-incident request closed."
    )
    cancelled_at: datetime | None
    created_at: datetime
    updated_at: datetime


def support_contract_public(contract: SupportContract, *, now: datetime) -> SupportContractPublic:
    """The public view of a contract, its state read at `now` in the holder's time zone."""
    return SupportContractPublic(
        id=contract.id,
        template_id=contract.template_id,
        kind=contract.kind,
        holder_type=contract.holder_type,
        holder_id=contract.holder_id,
        account_id=contract.account_id,
        request_id=contract.request_id,
        product_id=contract.product_id,
        time_zone=contract.time_zone,
        starts_on=contract.starts_on,
        ends_on=contract.ends_on,
        hours_granted=decimal_out(contract.hours_granted),
        hours_used=decimal_out(contract.hours_used),
        hours_remaining=decimal_out(contract.hours_remaining),
        on_expiry=contract.on_expiry,
        state=contract.state_at(now),
        ended_at=contract.ended_at,
        cancelled_at=contract.cancelled_at,
        created_at=contract.created_at,
        updated_at=contract.updated_at,
    )
