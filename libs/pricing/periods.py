"""Periods of prices (DESIGN §7 "Periods of prices"): converting a price from one period to another.

A vendor cost book's tiers are priced per unit per `TierPeriod` (the vendor's list is per seat
per month); a price's unit price is per its billing period. A cost-plus price therefore bills
the book's unit cost x `period_factor(book period, billing period)` x (1 + markup): a monthly
book billed annually is x 12, billed per a 36-month term x 36. Only whole multiples convert:
a quarterly book cannot say what one month costs, so billing it monthly is refused.
"""

from __future__ import annotations

from libs.contracts.vocabulary import BillingFrequency, TierPeriod
from libs.platform.errors import ValidationFailed


def billing_months(billing_period: str, term_months: int | None = None) -> int:
    """Months in one billing period: monthly 1, quarterly 3, annual 12, term its `term_months`."""
    if billing_period == BillingFrequency.TERM:
        if term_months is None:
            raise ValidationFailed.single(
                "term_months",
                "a price billed per term needs the term's length in months to be priced",
                "term_required",
            )
        if isinstance(term_months, bool) or not isinstance(term_months, int) or term_months <= 0:
            raise ValidationFailed.single("term_months", "must be a positive whole number of months")
        return term_months
    try:
        return BillingFrequency(billing_period).months
    except ValueError:
        raise ValidationFailed.single(
            "billing_period", f"unknown billing period {billing_period!r}"
        ) from None


def period_factor(book_period: str, billing_period: str, term_months: int | None = None) -> int:
    """How many of the book's periods one billing period holds (monthly book, annual price: 12).

    Raises ValidationFailed (a 422) when the billing period is not a whole multiple of the
    book's period, e.g. a quarterly book billed monthly or an annual book over an 18-month term.
    """
    try:
        book = TierPeriod(book_period)
    except ValueError:
        raise ValidationFailed.single("tier_period", f"unknown tier period {book_period!r}") from None
    months = billing_months(billing_period, term_months)
    factor, rest = divmod(months, book.months)
    if rest or factor == 0:
        length = (
            f"a {months}-month term"
            if billing_period == BillingFrequency.TERM
            else f"{billing_period} billing"
        )
        raise ValidationFailed.single(
            "billing_period",
            f"the cost book's tiers are priced {book.value}; {length} is not a whole number of "
            f"{book.value} periods, so the price cannot be converted to it",
            "period_not_convertible",
        )
    return factor
