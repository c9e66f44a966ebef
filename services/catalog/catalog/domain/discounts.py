"""Discounts and promotions: what they take off, on which products, when, and the approval threshold."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from libs.platform.errors import FieldErrors
from libs.platform.money import minor_units_problem
from libs.pricing import Discount, DiscountKind

HUNDRED = Decimal(100)


@dataclass(frozen=True)
class DiscountTerms:
    """A catalog discount; `product_ids` empty means every product; `valid_to` is exclusive."""

    id: str
    name: str
    kind: DiscountKind
    value: Decimal
    currency: str | None = None
    product_ids: tuple[str, ...] = field(default=())
    approval_threshold_percent: Decimal | None = None
    valid_from: date | None = None
    valid_to: date | None = None
    duration_cycles: int | None = None
    active: bool = True

    def applies_to(self, product_id: str) -> bool:
        """True when the discount may be used on `product_id`."""
        return not self.product_ids or product_id in self.product_ids

    def is_valid_on(self, day: date) -> bool:
        """True when `day` falls in [valid_from, valid_to) and the discount is active."""
        if not self.active:
            return False
        if self.valid_from is not None and day < self.valid_from:
            return False
        return self.valid_to is None or day < self.valid_to

    def as_pricing_discount(self) -> Discount:
        """The pricing engine's discount."""
        return Discount(self.kind, self.value, self.approval_threshold_percent)


def validate_discount(terms: DiscountTerms) -> None:
    """Refuse a discount whose value, currency or validity dates do not fit its kind."""
    errors = FieldErrors()
    if terms.kind == DiscountKind.PERCENT:
        if terms.value > HUNDRED:
            errors.add("value", "a percent discount must be at most 100")
        if terms.currency is not None:
            errors.add("currency", "a percent discount has no currency", "not_allowed")
    elif terms.currency is None:
        errors.add("currency", "an amount discount needs the currency of its amount", "required")
    elif (problem := minor_units_problem(terms.value, terms.currency)) is not None:
        errors.add("value", problem, "too_many_decimals")
    if terms.valid_from and terms.valid_to and terms.valid_to <= terms.valid_from:
        errors.add(
            "valid_to", "must be after valid_from (it is the first day the discount no longer applies)"
        )
    if terms.duration_cycles is not None and terms.duration_cycles < 1:
        errors.add("duration_cycles", "must be at least 1 (or null for no end)")
    if len(set(terms.product_ids)) != len(terms.product_ids):
        errors.add("product_ids", "lists a product more than once")
    errors.raise_if_any("The discount is invalid")
