"""Entitlement decisions: may a subscription use this much of a meter now, and what would it cost.

Seed 001: "10 ringtones free, then 0.50 each" — with 10 used, the 11th costs 0.50. The cost of
`q` more units is what it adds to the open period's usage line: rate(current + q) - rate(current)
under the period's price, both by `libs.pricing.rate`, after the prepaid units still available
(they cover the units beyond the included ones first, as at the period close). Prepaid money is
a means of paying, not a lower price: it is shown beside the cost, not taken off it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from libs.pricing import PriceSpec, rate

from .rated_usage import Meter, quantity_after_prepaid
from .subscriptions import Subscription

ZERO = Decimal(0)


class Refusal:
    """Why a check is not allowed (the `reason` of the answer)."""

    SUBSCRIPTION_NOT_ACTIVE = "subscription_not_active"
    UNKNOWN_METER = "unknown_meter"
    METER_INACTIVE = "meter_inactive"


def refusal(subscription: Subscription, meter: Meter | None) -> str | None:
    """Why the subscription may not use the meter now, or None when it may."""
    if meter is None:
        return Refusal.UNKNOWN_METER
    if not meter.active:
        return Refusal.METER_INACTIVE
    if not subscription.is_usable:
        return Refusal.SUBSCRIPTION_NOT_ACTIVE
    return None


@dataclass(frozen=True)
class MarginalCost:
    """What `additional` units add to the open period's usage line, and what stays included."""

    amount: Decimal
    """Exact (unrounded) increase of the line."""
    rounded_amount: Decimal
    """Increase of the line as billed: its rounded amount after minus before."""
    included_remaining: Decimal
    """Included units left after the current quantity (before `additional`)."""


def marginal_cost(
    spec: PriceSpec, current: Decimal, additional: Decimal, prepaid_units: Decimal = ZERO
) -> MarginalCost:
    """The cost of `additional` units on top of `current`, with `prepaid_units` still to draw from."""
    before = rate(spec, quantity_after_prepaid(spec, current, prepaid_units))
    after = rate(spec, quantity_after_prepaid(spec, current + additional, prepaid_units))
    return MarginalCost(
        amount=after.amount - before.amount,
        rounded_amount=after.rounded_amount - before.rounded_amount,
        included_remaining=included_remaining(spec, current),
    )


def included_remaining(spec: PriceSpec, current: Decimal) -> Decimal:
    """Included units not used yet by `current`."""
    return max(ZERO, Decimal(spec.included_quantity) - current)
