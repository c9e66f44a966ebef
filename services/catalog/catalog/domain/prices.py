"""Price terms: how a published price maps onto the pricing engine, and what makes it valid.

The math is in `libs.pricing`; this module only turns catalog data into a `PriceSpec` and
adds the catalog's own rules (charge type vs billing period, cost book currency).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from libs.contracts.vocabulary import BillingFrequency, BillingTiming, ChargeType, PricingModel
from libs.platform.errors import FieldErrors, ValidationFailed
from libs.pricing import CostBook, PriceSpec, PriceTerms, validate_price_spec

from .versions import supersede

ZERO = Decimal(0)


def check_charge_schedule(
    charge_type: ChargeType, billing_period: BillingFrequency | None, timing: BillingTiming
) -> None:
    """Recurring and usage prices need a billing period; one-time prices have none; usage is in arrears."""
    errors = FieldErrors()
    if charge_type == ChargeType.ONE_TIME and billing_period is not None:
        errors.add("billing_period", "a one_time price has no billing period", "not_allowed")
    if charge_type != ChargeType.ONE_TIME and billing_period is None:
        errors.add("billing_period", f"is required for a {charge_type.value} price", "required")
    if charge_type == ChargeType.USAGE and timing != BillingTiming.IN_ARREARS:
        # Usage is only known once the period is over.
        errors.add("timing", "a usage price is billed in_arrears")
    errors.raise_if_any("The price's charge schedule is invalid")


def price_spec(
    terms: PriceTerms,
    currency: str,
    cost_book: CostBook | None,
    billing_period: BillingFrequency | None = None,
    term_months: int | None = None,
) -> PriceSpec:
    """The pricing engine's view of `terms` (with the cost book version in force for cost-plus).

    The price's amounts are per its billing period (a term price's per `term_months`): a
    cost-plus price converts its book's period to it in the engine (DESIGN §7).
    """
    return terms.spec(
        currency, cost_book, None if billing_period is None else billing_period.value, term_months
    )


def validate_price_terms(
    terms: PriceTerms,
    currency: str,
    cost_book: CostBook | None,
    cost_book_currency: str | None,
    billing_period: BillingFrequency | None = None,
) -> None:
    """Refuse terms the engine cannot price, a cost book id off cost_plus, a foreign-currency book,
    or a book whose period does not convert to the price's billing period."""
    errors = FieldErrors()
    if terms.model == PricingModel.COST_PLUS:
        if terms.cost_book_id is None:
            errors.add("cost_book_id", "is required for the cost_plus model", "required")
        elif cost_book_currency is not None and cost_book_currency != currency:
            errors.add(
                "cost_book_id",
                f"the cost book is in {cost_book_currency}, the price in {currency}",
                "currency_mismatch",
            )
    elif terms.cost_book_id is not None:
        errors.add("cost_book_id", f"is not used by the {terms.model.value} model", "not_allowed")
    errors.raise_if_any("The price is invalid")
    try:
        validate_price_spec(price_spec(terms, currency, cost_book, billing_period))
    except ValidationFailed as exc:
        # The engine names the book `cost_book`; a catalog client refers to it by id.
        for problem in exc.errors:
            name = problem.field
            if name == "cost_book" or name.startswith("cost_book."):
                name = "cost_book_id"
            elif name == "term_months":  # only a quote knows the term
                continue
            errors.add(name, problem.message, problem.code)
        errors.raise_if_any(exc.detail)


@dataclass
class PriceVersion:
    """One published version of a price, in force on [effective_from, effective_to)."""

    id: str
    price_id: str
    version: int
    product_id: str
    currency: str
    charge_type: ChargeType
    billing_period: BillingFrequency | None
    timing: BillingTiming
    terms: PriceTerms
    effective_from: date
    effective_to: date | None
    published_at: datetime
    published_by: str


@dataclass
class Price:
    """A price of a product in a currency; its terms live in versions. Records `PricePublished`."""

    id: str
    product_id: str
    currency: str
    latest_version: int
    created_at: datetime
    events: list[Any] = field(default_factory=list, repr=False, compare=False)

    def publish(self, version: PriceVersion, latest: PriceVersion | None = None) -> None:
        """Make `version` the latest; the version it succeeds (if any) ends where it starts."""
        previous_end = supersede(latest, version)
        self.latest_version = version.version
        self.events.append(PricePublished(version, previous_end))


@dataclass(frozen=True)
class PricePublished:
    """A price version was published; `previous_version_effective_to` is the end it gave its predecessor."""

    version: PriceVersion
    previous_version_effective_to: date | None = None
