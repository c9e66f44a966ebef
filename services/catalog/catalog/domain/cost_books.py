"""Vendor cost books: tiers of vendor cost by quantity band, and our markup on top."""

from __future__ import annotations

from decimal import Decimal

from libs.platform.errors import FieldErrors, ValidationFailed
from libs.pricing import CostBook, Tier, TierMode, validate_cost_book


def cost_book(tiers: tuple[Tier, ...], mode: TierMode, markup_percent: Decimal) -> CostBook:
    """The pricing engine's cost book, validated; field paths name the request's fields."""
    book = CostBook(tiers=tiers, mode=mode, markup_percent=markup_percent)
    try:
        validate_cost_book(book)
    except ValidationFailed as exc:
        errors = FieldErrors()
        for problem in exc.errors:
            errors.add(problem.field.removeprefix("cost_book."), problem.message, problem.code)
        errors.raise_if_any(exc.detail)
    return book
