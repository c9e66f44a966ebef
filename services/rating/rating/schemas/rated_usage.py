"""Views of rated usage (and of a tier breakdown, which the usage view shows too) and the close request.

Billed amounts show exactly their currency's minor units; quantities, unit prices and the
unrounded tier breakdown (DESIGN §7) their shortest exact form — all as JSON strings.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, WithJsonSchema

from libs.contracts.types import Amount, CurrencyCode, IsoDate, NonNegativeAmount, Quantity, UnitPrice
from libs.pricing import TierLine
from rating.domain.rated_usage import RatedUsage
from rating.events.rated_usage import rated_tier, usage_rated
from rating.handlers.rated_usage import CloseReport

DecimalText = Annotated[
    Decimal,
    PlainSerializer(lambda v: format(v, "f"), return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]+)?$"}),
]
"""An unrounded decimal shown for information (a tier breakdown, a cost before rounding); output only."""


class CloseRequest(BaseModel):
    """Close the periods that have ended (optionally only those ended by `as_of`)."""

    model_config = ConfigDict(extra="forbid")
    as_of: IsoDate | None = Field(
        default=None,
        description="Close only periods ended by this date (YYYY-MM-DD); each account's local today "
        "still caps it, so an open period is never closed early. Default: each account's local today.",
    )


class CloseResult(BaseModel):
    """What a close did."""

    rated: int = Field(description="Periods rated and published as usage.rated by this close.")
    unpriced: int = Field(description="Ended periods left open: their price is not known yet.")
    rated_usage_ids: list[str] = Field(description="Ids of the rated periods (at most the first 1,000).")


def close_result(report: CloseReport) -> CloseResult:
    """The view of a close report."""
    return CloseResult(
        rated=report.rated, unpriced=report.unpriced, rated_usage_ids=report.rated_usage_ids[:1000]
    )


class RatedTierPublic(BaseModel):
    """One band of the breakdown, unrounded: band_from exclusive, band_to inclusive (null = open)."""

    band_from: Quantity
    band_to: Quantity | None
    quantity: Quantity = Field(description="Units in the band (packages for a package price).")
    unit_price: UnitPrice
    flat_fee: UnitPrice
    amount: DecimalText


def tiers_public(lines: Sequence[TierLine]) -> list[RatedTierPublic]:
    """The breakdown as shown: each band as `usage.rated` carries it."""
    return [RatedTierPublic.model_validate(rated_tier(line).model_dump()) for line in lines]


class RatedUsagePublic(BaseModel):
    """A closed billing period of a subscription's meter, priced (what usage.rated carried)."""

    id: str = Field(examples=["ru_01JD0S6Y4Q7V3J6C3M9W1K2X8Z"])
    subscription_id: str
    account_id: str
    product_id: str
    meter: str
    unit_of_measure: str
    period_start: date
    period_end: date = Field(description="Exclusive.")
    quantity: Quantity
    event_count: int
    late_quantity: Quantity
    included_quantity: Quantity
    prepaid_quantity: Quantity
    billable_quantity: Quantity
    currency: CurrencyCode
    price_id: str
    price_version: int
    pricing_model: str
    tiers: list[RatedTierPublic]
    charge_amount: NonNegativeAmount
    minimum_shortfall: NonNegativeAmount
    prepaid_amount: NonNegativeAmount
    amount: Amount = Field(description="charge_amount + minimum_shortfall - prepaid_amount.")
    rated_at: datetime


def rated_usage_public(rated: RatedUsage) -> RatedUsagePublic:
    """The view of a rated period: what its `usage.rated` event carried, under its id."""
    carried = usage_rated(rated).model_dump(exclude={"rated_usage_id"})
    return RatedUsagePublic.model_validate({"id": rated.id, **carried})
