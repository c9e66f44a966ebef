"""Usage: the raw events mediation systems and apps send, and the rated usage invoicing bills.

- `usage.recorded` travels on `usage.raw` in batch messages (`libs.contracts.batch`): each item's
  payload is one `UsageRecord`, the same record `POST /v1/usage` takes. The record's own
  `event_id` (chosen by the producer) is what rating deduplicates on, across both doors; the
  envelope's `event_id` is only the message-level id.
- `usage.rated` is published by rating on `rating.events` when a billing period of a
  subscription's meter closes: what invoicing bills, with the price version and tier breakdown
  behind it (the lineage of the invoice line).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Final, Self

from pydantic import AwareDatetime, Field, StrictBool, StrictInt, StringConstraints, model_validator

from libs.contracts.envelope import EventPayload
from libs.contracts.registry import event_type
from libs.contracts.topics import RATING_EVENTS, USAGE_RAW
from libs.contracts.types import Amount, CurrencyCode, NonNegativeAmount, Quantity, UnitPrice
from libs.contracts.vocabulary import PricingModel
from libs.platform.text import PLAIN_TEXT_PATTERN

MAX_PROPERTIES: Final = 32
EVENT_ID_PATTERN: Final = r"^[!-~]{1,128}$"
METER_CODE_PATTERN: Final = r"^[a-z0-9][a-z0-9_.-]{0,63}$"
REFERENCE_PATTERN: Final = r"^[A-Za-z0-9_-]{1,64}$"

UsageEventId = Annotated[str, StringConstraints(pattern=EVENT_ID_PATTERN)]
"""A producer-chosen id: 1-128 visible ASCII characters, unique per usage event."""

MeterCode = Annotated[str, StringConstraints(pattern=METER_CODE_PATTERN)]
"""A meter's code: lower-case letters, digits, `_`, `.` and `-`, at most 64 characters."""

Reference = Annotated[str, StringConstraints(pattern=REFERENCE_PATTERN)]
"""An id of another service (`sub_…`, `acct_…`)."""

# Property names and text values follow the one-line text rule (as a pattern: checked at C speed
# on the hot path): no control character such as NUL, which PostgreSQL cannot store. Integers
# are bounded to 64 bits, so that their text (what filters and distinct counts compare) is short.
PropertyName = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=PLAIN_TEXT_PATTERN)]
PropertyValue = (
    Annotated[str, StringConstraints(max_length=256, pattern=PLAIN_TEXT_PATTERN)]
    | Annotated[StrictInt, Field(ge=-(2**63), le=2**63 - 1)]
    | StrictBool
)


class UsageRecord(EventPayload):
    """One usage event as a producer sends it (REST batch, file line or `usage.raw` item)."""

    event_id: UsageEventId = Field(
        description="Chosen by the producer; a second event with the same id is accepted and ignored.",
        examples=["cdr-2026-07-01-000042"],
    )
    subscription_id: Reference | None = Field(
        default=None,
        description="The subscription used; or give `account_id`.",
        examples=["sub_01JD0S6Y4Q7V3J6C3M9W1K2X8Z"],
    )
    account_id: Reference | None = Field(
        default=None,
        description="The account, when the producer does not know the subscription: rating finds "
        "the account's subscription to the meter's product.",
    )
    meter: MeterCode = Field(description="Code of the meter this event counts on.", examples=["api_calls"])
    quantity: Quantity = Field(description="How much was used (>= 0, up to 6 decimals).", examples=[1, "2.5"])
    timestamp: AwareDatetime = Field(
        description="When it was used, with its time zone; it falls on the account's local date.",
        examples=["2026-07-01T09:30:00Z"],
    )
    properties: dict[PropertyName, PropertyValue] = Field(
        default_factory=dict,
        max_length=MAX_PROPERTIES,
        description="Dimensions a meter may filter on or count distinct values of (region, user, ...).",
        examples=[{"region": "eu", "user": "u-17"}],
    )

    @model_validator(mode="after")
    def _has_a_reference(self) -> Self:
        if self.subscription_id is None and self.account_id is None:
            raise ValueError("give subscription_id or account_id")
        return self


@event_type("usage.recorded", topic=USAGE_RAW, batchable=True)
class UsageRecorded(UsageRecord):
    """A usage event sent on `usage.raw` (many to a batch message)."""


class RatedTier(EventPayload):
    """One band of a rated quantity, informational and unrounded (DESIGN §7)."""

    band_from: Quantity = Field(description="Exclusive lower edge of the band.")
    band_to: Quantity | None = Field(default=None, description="Inclusive upper edge; null = open.")
    quantity: Quantity = Field(description="Units in the band (packages for a package price).")
    unit_price: UnitPrice
    flat_fee: UnitPrice = Decimal(0)
    amount: Annotated[Decimal, Field(description="Unrounded amount of the band, as a decimal string.")]


@event_type("usage.rated", topic=RATING_EVENTS, batchable=True)
class UsageRated(EventPayload):
    """A subscription's usage of one meter over one closed billing period, priced: what invoicing bills."""

    rated_usage_id: str = Field(
        description="Stable id of this rating (`ru_…`).", examples=["ru_01JD0S6Y4Q7V3J6C3M9W1K2X8Z"]
    )
    subscription_id: str
    account_id: str
    product_id: str
    meter: MeterCode
    unit_of_measure: str = Field(examples=["call"])
    period_start: date = Field(description="First day of the billing period.")
    period_end: date = Field(description="Exclusive end: the period is [period_start, period_end).")
    quantity: Quantity = Field(description="The meter's aggregated quantity over the period.")
    event_count: int = Field(ge=0, description="Usage events counted (late ones included).")
    late_quantity: Quantity = Field(
        default=Decimal(0),
        description="Part of `quantity` from events of an already-rated period, rated here and flagged late.",
    )
    included_quantity: Quantity = Field(default=Decimal(0), description="Free units of the price.")
    prepaid_quantity: Quantity = Field(
        default=Decimal(0), description="Units drawn from a prepaid units balance."
    )
    billable_quantity: Quantity = Field(description="Units charged after included and prepaid units.")
    currency: CurrencyCode
    price_id: str
    price_version: int = Field(ge=1)
    pricing_model: PricingModel
    tiers: list[RatedTier] = Field(default_factory=list, description="The tier breakdown, unrounded.")
    charge_amount: NonNegativeAmount = Field(description="The usage charge, rounded once to minor units.")
    minimum_shortfall: NonNegativeAmount = Field(
        default=Decimal(0),
        description="What lifts the charge to the price's minimum commitment (its own line).",
    )
    prepaid_amount: NonNegativeAmount = Field(
        default=Decimal(0), description="Money drawn from a prepaid money balance against the charge."
    )
    amount: Amount = Field(description="What invoicing bills: charge + shortfall - prepaid money.")
    rated_at: datetime


__all__ = [
    "MeterCode",
    "RatedTier",
    "Reference",
    "UsageEventId",
    "UsageRated",
    "UsageRecord",
    "UsageRecorded",
]
