"""Views of rated usage and running charges, and the close request.

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
from libs.platform.money import amount_out, decimal_out, unit_price_out
from libs.pricing import TierLine
from rating.domain.rated_usage import RatedUsage
from rating.handlers.rated_usage import CloseReport, RunningCharge, RunningCharges

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
    """The breakdown as shown."""
    return [
        RatedTierPublic(
            band_from=decimal_out(line.band_from),
            band_to=decimal_out(line.band_to),
            quantity=decimal_out(line.quantity),
            unit_price=unit_price_out(line.unit_price),
            flat_fee=unit_price_out(line.flat_fee),
            amount=decimal_out(line.amount),
        )
        for line in lines
    ]


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
    """The view of a rated period."""
    currency = rated.currency
    return RatedUsagePublic(
        id=rated.id,
        subscription_id=rated.subscription_id,
        account_id=rated.account_id,
        product_id=rated.product_id,
        meter=rated.meter,
        unit_of_measure=rated.unit_of_measure,
        period_start=rated.period_start,
        period_end=rated.period_end,
        quantity=decimal_out(rated.quantity),
        event_count=rated.event_count,
        late_quantity=decimal_out(rated.late_quantity),
        included_quantity=decimal_out(rated.included_quantity),
        prepaid_quantity=decimal_out(rated.prepaid_quantity),
        billable_quantity=decimal_out(rated.billable_quantity),
        currency=currency,
        price_id=rated.price_id,
        price_version=rated.price_version,
        pricing_model=rated.pricing_model.value,
        tiers=tiers_public(rated.tiers),
        charge_amount=amount_out(rated.charge_amount, currency),
        minimum_shortfall=amount_out(rated.minimum_shortfall, currency),
        prepaid_amount=amount_out(rated.prepaid_amount, currency),
        amount=amount_out(rated.amount, currency),
        rated_at=rated.rated_at,
    )


class RunningChargePublic(BaseModel):
    """A meter's open period priced as if it closed now."""

    meter: str
    unit_of_measure: str | None
    period_start: date
    period_end: date = Field(description="Exclusive.")
    quantity: Quantity
    event_count: int
    currency: CurrencyCode
    price_id: str | None = Field(description="Null while the price is not known to rating yet.")
    price_version: int | None
    pricing_model: str | None
    included_quantity: Quantity
    included_remaining: Quantity
    prepaid_quantity: Quantity = Field(description="Units prepaid units would cover so far.")
    billable_quantity: Quantity
    tiers: list[RatedTierPublic]
    charge_amount: NonNegativeAmount | None = Field(description="The usage line so far, rounded.")
    minimum_shortfall: NonNegativeAmount | None
    unpriced_reason: str | None = None


class RunningChargesPublic(BaseModel):
    """The running charges of a subscription's periods not rated yet."""

    subscription_id: str
    as_of: date | None = Field(
        description="The account-local date the periods contain; null: every open one."
    )
    currency: CurrencyCode
    charges: list[RunningChargePublic]


def _charge_public(charge: RunningCharge) -> RunningChargePublic:
    currency = charge.currency
    return RunningChargePublic(
        meter=charge.meter,
        unit_of_measure=charge.unit_of_measure,
        period_start=charge.period_start,
        period_end=charge.period_end,
        quantity=decimal_out(charge.quantity),
        event_count=charge.event_count,
        currency=currency,
        price_id=charge.price_id,
        price_version=charge.price_version,
        pricing_model=charge.pricing_model,
        included_quantity=decimal_out(charge.included_quantity),
        included_remaining=decimal_out(charge.included_remaining),
        prepaid_quantity=decimal_out(charge.prepaid_quantity),
        billable_quantity=decimal_out(charge.billable_quantity),
        tiers=tiers_public(charge.tiers),
        charge_amount=amount_out(charge.charge_amount, currency),
        minimum_shortfall=amount_out(charge.minimum_shortfall, currency),
        unpriced_reason=charge.unpriced_reason,
    )


def running_charges_public(charges: RunningCharges) -> RunningChargesPublic:
    """The view of a subscription's running charges."""
    return RunningChargesPublic(
        subscription_id=charges.subscription_id,
        as_of=charges.as_of,
        currency=charges.currency,
        charges=[_charge_public(c) for c in charges.charges],
    )
