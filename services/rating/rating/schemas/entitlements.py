"""The entitlement check: request and answer."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from libs.contracts.types import Amount, CurrencyCode, NonNegativeAmount, Quantity
from libs.contracts.usage import MeterCode
from libs.platform.money import amount_out, decimal_out
from rating.handlers.entitlements import EntitlementCheck
from rating.schemas.rated_usage import DecimalText

SubscriptionRef = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$"),
    Field(examples=["sub_01JD0S6Y4Q7V3J6C3M9W1K2X8Z"]),
]


class EntitlementCheckRequest(BaseModel):
    """May this subscription use `quantity` of `meter` now?"""

    model_config = ConfigDict(extra="forbid")
    subscription_id: SubscriptionRef
    meter: MeterCode = Field(examples=["ringtones"])
    quantity: Quantity = Field(examples=[1, "2.5"], description="The quantity about to be used (>= 0).")


class EntitlementCheckPublic(BaseModel):
    """The answer: allowed or why not, what remains included or prepaid, and what it would cost."""

    subscription_id: str
    meter: str
    quantity: Quantity
    allowed: bool
    reason: str | None = Field(
        description="Why not: subscription_not_active, unknown_meter, meter_inactive or no_price_in_force."
    )
    as_of: date = Field(description="The account-local date of the answer.")
    period_start: date | None
    period_end: date | None = Field(description="Exclusive.")
    current_quantity: Quantity = Field(description="Already used in the open period.")
    included_quantity: Quantity
    included_remaining: Quantity
    prepaid_units_remaining: Quantity
    prepaid_amount_remaining: NonNegativeAmount
    currency: CurrencyCode
    price_id: str | None
    price_version: int | None
    pricing_model: str | None
    cost: DecimalText | None = Field(description="What `quantity` adds to the usage line, unrounded.")
    cost_rounded: Amount | None = Field(
        description="What `quantity` adds to the usage line as billed (rounded line after minus before); "
        "negative when a volume band makes the whole line cheaper."
    )


def entitlement_public(check: EntitlementCheck) -> EntitlementCheckPublic:
    """The view of an answer."""
    return EntitlementCheckPublic(
        subscription_id=check.subscription_id,
        meter=check.meter,
        quantity=decimal_out(check.quantity),
        allowed=check.allowed,
        reason=check.reason,
        as_of=check.on,
        period_start=check.period_start,
        period_end=check.period_end,
        current_quantity=decimal_out(check.current_quantity),
        included_quantity=decimal_out(check.included_quantity),
        included_remaining=decimal_out(check.included_remaining),
        prepaid_units_remaining=decimal_out(check.prepaid_units_remaining),
        prepaid_amount_remaining=amount_out(check.prepaid_amount_remaining, check.currency),
        currency=check.currency,
        price_id=check.price_id,
        price_version=check.price_version,
        pricing_model=check.pricing_model,
        cost=None if check.cost is None else decimal_out(check.cost),
        cost_rounded=amount_out(check.cost_rounded, check.currency),
    )


def _text(value: Decimal | None) -> str | None:
    # As `libs.contracts.types` shows a decimal: format(..., "f"), never an exponent.
    return None if value is None else format(value, "f")


def entitlement_json(check: EntitlementCheck) -> bytes:
    """The view of an answer as JSON bytes: exactly what `entitlement_public(check)` dumps, built
    without validating the model again (the hot path of the checks; a unit test holds the two equal)."""
    view: dict[str, Any] = {
        "subscription_id": check.subscription_id,
        "meter": check.meter,
        "quantity": _text(decimal_out(check.quantity)),
        "allowed": check.allowed,
        "reason": check.reason,
        "as_of": check.on.isoformat(),
        "period_start": None if check.period_start is None else check.period_start.isoformat(),
        "period_end": None if check.period_end is None else check.period_end.isoformat(),
        "current_quantity": _text(decimal_out(check.current_quantity)),
        "included_quantity": _text(decimal_out(check.included_quantity)),
        "included_remaining": _text(decimal_out(check.included_remaining)),
        "prepaid_units_remaining": _text(decimal_out(check.prepaid_units_remaining)),
        "prepaid_amount_remaining": _text(amount_out(check.prepaid_amount_remaining, check.currency)),
        "currency": check.currency,
        "price_id": check.price_id,
        "price_version": check.price_version,
        "pricing_model": check.pricing_model,
        "cost": _text(None if check.cost is None else decimal_out(check.cost)),
        "cost_rounded": _text(amount_out(check.cost_rounded, check.currency)),
    }
    return json.dumps(view, ensure_ascii=False, separators=(",", ":")).encode()
