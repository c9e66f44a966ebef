"""Discounts on a line and the approval rule for them (DESIGN §7).

Several discounts add up, each computed on the UNDISCOUNTED list amount, and together never
take the line below zero: the discounts that would overshoot are capped, last ones first.
Each discount line is rounded once to the currency's minor units.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext
from enum import StrEnum

from libs.platform.errors import FieldErrors
from libs.platform.money import round_money
from libs.pricing.model import ZERO

HUNDRED = Decimal("100")
_PRECISION = 50


class DiscountKind(StrEnum):
    """A discount is a percent of the list amount or a fixed amount off."""

    PERCENT = "percent"
    AMOUNT = "amount"


@dataclass(frozen=True)
class Discount:
    """One discount; above `threshold_percent` off list (strictly) the order needs approval."""

    kind: DiscountKind
    value: Decimal
    threshold_percent: Decimal | None = None


@dataclass(frozen=True)
class DiscountLine:
    """What one discount takes off the line, rounded; `capped` when the floor of zero cut it."""

    discount: Discount
    amount: Decimal
    capped: bool


@dataclass(frozen=True)
class DiscountResult:
    """A discounted line: list amount, each discount line, their total and the net."""

    currency: str
    list_amount: Decimal
    lines: tuple[DiscountLine, ...]
    total_discount: Decimal
    net_amount: Decimal
    effective_percent_off: Decimal
    needs_approval: bool


def apply_discounts(list_amount: Decimal, discounts: Sequence[Discount], currency: str) -> DiscountResult:
    """Apply `discounts` to a line's list amount (rounded once first) without going below zero."""
    _validate(list_amount, discounts)
    with localcontext(prec=_PRECISION, rounding=ROUND_HALF_UP):
        listed = round_money(Decimal(list_amount), currency)
        remaining = listed
        lines: list[DiscountLine] = []
        for discount in discounts:
            wanted = round_money(_raw_amount(listed, discount), currency)
            taken = min(wanted, remaining)
            remaining -= taken
            lines.append(DiscountLine(discount, taken, capped=taken < wanted))
        total = listed - remaining
        return DiscountResult(
            currency=currency,
            list_amount=listed,
            lines=tuple(lines),
            total_discount=total,
            net_amount=remaining,
            effective_percent_off=effective_percent_off(listed, total),
            needs_approval=needs_approval(list_amount, discounts),
        )


def effective_percent_off(list_amount: Decimal, total_discount: Decimal) -> Decimal:
    """Percent of the list amount taken off (unrounded); 0 for a zero list amount."""
    if list_amount == 0:
        return ZERO
    with localcontext(prec=_PRECISION, rounding=ROUND_HALF_UP):
        return Decimal(total_discount) * HUNDRED / Decimal(list_amount)


def needs_approval(list_amount: Decimal, discounts: Sequence[Discount]) -> bool:
    """True when the line's percent off list is strictly above some discount's threshold.

    The percent is taken from the exact (unrounded, capped) discounts, so rounding a tiny line
    to the cent cannot push a discount that sits exactly on its threshold over it.
    """
    _validate(list_amount, discounts)
    with localcontext(prec=_PRECISION, rounding=ROUND_HALF_UP):
        listed = Decimal(list_amount)
        total = min(listed, sum((_raw_amount(listed, d) for d in discounts), ZERO))
        percent = effective_percent_off(listed, total)
        return any(d.threshold_percent is not None and percent > d.threshold_percent for d in discounts)


def _raw_amount(listed: Decimal, discount: Discount) -> Decimal:
    if discount.kind == DiscountKind.PERCENT:
        return listed * Decimal(discount.value) / HUNDRED
    return Decimal(discount.value)


def _validate(list_amount: Decimal, discounts: Sequence[Discount]) -> None:
    errors = FieldErrors()
    if not _is_number(list_amount):
        errors.add("list_amount", "must be a finite decimal number")
    elif list_amount < 0:
        errors.add("list_amount", "must not be negative")
    for index, discount in enumerate(discounts):
        path = f"discounts.{index}"
        if discount.kind not in (DiscountKind.PERCENT, DiscountKind.AMOUNT):
            errors.add(f"{path}.kind", "must be percent or amount")
        if not _is_number(discount.value):
            errors.add(f"{path}.value", "must be a finite decimal number")
        elif discount.value < 0:
            errors.add(f"{path}.value", "must not be negative")
        elif discount.kind == DiscountKind.PERCENT and discount.value > HUNDRED:
            errors.add(f"{path}.value", "a percent discount must be at most 100")
        threshold = discount.threshold_percent
        if threshold is not None:
            if not _is_number(threshold):
                errors.add(f"{path}.threshold_percent", "must be a finite decimal number")
            elif not ZERO <= threshold <= HUNDRED:
                errors.add(f"{path}.threshold_percent", "must be between 0 and 100")
    errors.raise_if_any("The discounts are invalid")


def _is_number(value: object) -> bool:
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        return False
    return not isinstance(value, Decimal) or value.is_finite()
