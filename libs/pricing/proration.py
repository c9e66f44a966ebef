"""Proration by days of the actual period (DESIGN §7); results are exact, rounded by the line.

The one proration rule of the engine: `prorate_amount` is the arithmetic, `prorate` applies it
to a partial billing period inside its full one (libs.platform.periods makes the periods).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Context, Decimal, localcontext

from libs.platform.errors import FieldErrors
from libs.platform.periods import BillingPeriod

_PRECISION = 50
_CONTEXT = Context(prec=_PRECISION, rounding=ROUND_HALF_UP)


def prorate_amount(amount: Decimal, used_days: int, period_days: int) -> Decimal:
    """The share of `amount` for `used_days` of a `period_days`-day period (unrounded)."""
    _check_days(used_days, period_days, "used_days")
    # The same two operations as `Decimal(amount) * used_days / period_days` in that context, on
    # one context built once (a `localcontext` per call cost more than the arithmetic).
    return _CONTEXT.divide(_CONTEXT.multiply(Decimal(amount), used_days), period_days)


def prorate(amount: Decimal, partial: BillingPeriod, full: BillingPeriod) -> Decimal:
    """The share of `amount` for the days of `partial` that fall in `full` (unrounded)."""
    overlap = partial.intersection(full)
    return prorate_amount(amount, overlap.days if overlap else 0, full.days)


def change_proration(
    old_amount: Decimal, new_amount: Decimal, remaining_days: int, period_days: int
) -> Decimal:
    """Charge (positive) or credit (negative) for a mid-period price change (unrounded)."""
    _check_days(remaining_days, period_days, "remaining_days")
    with localcontext(prec=_PRECISION, rounding=ROUND_HALF_UP):
        return (Decimal(new_amount) - Decimal(old_amount)) * remaining_days / period_days


def _check_days(days: int, period_days: int, days_field: str) -> None:
    if type(days) is int and type(period_days) is int and 0 <= days <= period_days and period_days > 0:
        return  # the usual case, without building the collector of problems (a bill run's hot path)
    errors = FieldErrors()
    period_ok = _is_int(period_days) and period_days > 0
    if not period_ok:
        errors.add("period_days", "must be a whole number of days greater than 0")
    if not _is_int(days) or days < 0:
        errors.add(days_field, "must be a whole number of days, not negative")
    elif period_ok and days > period_days:
        errors.add(days_field, f"must not exceed the period's {period_days} days")
    errors.raise_if_any("The proration is invalid")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
