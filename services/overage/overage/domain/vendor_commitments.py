"""Vendor commitments: what we committed to buy from a vendor for a customer's resold term, and
the annual vendor invoices that commitment makes us expect.

The vendor bills a commitment annually in advance (seed 000): one invoice on the term's start and
one on each anniversary, each for a year of the committed seats at the cost book's price for that
many seats (`libs.pricing.vendor_period_cost`: a monthly book's unit cost x 12 x seats). A term
that is not a whole number of years ends on a shorter last year, billed for its days. One
commitment per subscription: a second request for the same subscription is answered with the
first. A raise of the subscription's seats reprices the years not begun nor invoiced yet
(`VendorCommitment.raise_seats`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Final

from libs.contracts.vocabulary import BillingFrequency
from libs.platform.errors import FieldErrors
from libs.platform.money import round_money, round_unit_price
from libs.platform.periods import BillingPeriod, add_months
from libs.pricing import prorate, vendor_cost, vendor_period_cost
from overage.domain.resold_subscriptions import CostBookVersion

MAX_TERM_MONTHS: Final = 120
"""Longest commitment taken (ten years): more is a typo, and each year is an expected invoice."""
MAX_SEATS: Final = Decimal(10_000_000)


class CommitmentSource(StrEnum):
    """Where a commitment came from."""

    SUBSCRIPTION = "subscription"
    """A resold subscription's `subscription.activated`."""
    FINANCE = "finance"
    """Entered by finance (`POST /v1/vendor-commitments`)."""


@dataclass(frozen=True)
class ExpectedVendorInvoice:
    """One annual vendor invoice a commitment makes us expect, for [period_start, period_end)."""

    id: str
    commitment_id: str
    sequence: int
    vendor_id: str
    account_id: str
    subscription_id: str
    currency: str
    period_start: date
    period_end: date
    amount: Decimal

    @property
    def invoice_date(self) -> date:
        """In advance: the vendor bills each year on its first day."""
        return self.period_start


@dataclass(frozen=True)
class CommitmentRequest:
    """What a commitment is made of (from a resold subscription, or entered by finance)."""

    vendor_id: str
    account_id: str
    subscription_id: str
    product_id: str | None
    seats: Decimal
    term_start: date
    term_end: date
    source: CommitmentSource


@dataclass(frozen=True)
class ManualCommitment:
    """What finance enters for a commitment."""

    vendor_id: str
    account_id: str
    subscription_id: str
    cost_book_id: str
    seats: Decimal
    term_start: date
    term_end: date
    product_id: str | None = None


@dataclass(eq=False)
class VendorCommitment:
    """A resold term bought from a vendor, with its expected annual vendor invoices."""

    id: str
    vendor_id: str
    account_id: str
    subscription_id: str
    product_id: str | None
    cost_book_id: str
    cost_book_version: int
    currency: str
    seats: Decimal
    term_start: date
    term_end: date
    unit_cost: Decimal
    """The vendor's cost per seat per book period for this many seats (informational, 6 dp)."""
    book_period: str
    annual_amount: Decimal
    """What one full year costs, rounded to minor units."""
    source: CommitmentSource
    created_at: datetime
    expected_invoices: list[ExpectedVendorInvoice] = field(default_factory=list)

    @classmethod
    def commit(
        cls,
        *,
        id: str,
        request: CommitmentRequest,
        cost_book: CostBookVersion,
        at: datetime,
        expected_ids: list[str] | None = None,
    ) -> VendorCommitment:
        """Make a commitment and its expected invoices (422 for seats or a term that cannot be)."""
        check_request(request)
        book = cost_book.book()
        currency = cost_book.currency
        years = annual_periods(request.term_start, request.term_end)
        annual = vendor_period_cost(book, request.seats, BillingFrequency.ANNUAL)
        period_cost = vendor_cost(book, request.seats)
        commitment = cls(
            id=id,
            vendor_id=request.vendor_id,
            account_id=request.account_id,
            subscription_id=request.subscription_id,
            product_id=request.product_id,
            cost_book_id=cost_book.cost_book_id,
            cost_book_version=cost_book.version,
            currency=currency,
            seats=request.seats,
            term_start=request.term_start,
            term_end=request.term_end,
            unit_cost=round_unit_price(period_cost / request.seats),
            book_period=cost_book.tier_period.value,
            annual_amount=round_money(annual, currency),
            source=request.source,
            created_at=at,
        )
        ids = expected_ids or [f"{id}_{n}" for n in range(1, len(years) + 1)]
        for sequence, (period, full) in enumerate(years, start=1):
            amount = annual if period == full else prorate(annual, period, full)
            commitment.expected_invoices.append(
                ExpectedVendorInvoice(
                    id=ids[sequence - 1],
                    commitment_id=id,
                    sequence=sequence,
                    vendor_id=request.vendor_id,
                    account_id=request.account_id,
                    subscription_id=request.subscription_id,
                    currency=currency,
                    period_start=period.start,
                    period_end=period.end,
                    amount=round_money(amount, currency),
                )
            )
        return commitment

    def raise_seats(
        self, *, seats: Decimal, effective: date, cost_book: CostBookVersion, received_ids: set[str]
    ) -> list[ExpectedVendorInvoice]:
        """Follow a raise of the subscription's seats from `effective`; the expected invoices changed.

        The vendor's band is set by the tenant's total seats (DESIGN §7 "Resold seats"), so each
        year that begins on or after `effective` and has no received invoice yet is expected at
        the book's price for the new seat count (a short last year for its days, as at commit). A
        year already begun was billed in advance for the seats then; the seed has the vendor
        charge the extra users of that year by its monthly overage invoices until the paperwork is
        signed and says nothing of a prorated invoice for them, so none is expected. A seat count
        not above the commitment's changes nothing (a committed term is never reduced).
        """
        if seats <= self.seats:
            return []
        check_request(
            CommitmentRequest(
                self.vendor_id,
                self.account_id,
                self.subscription_id,
                self.product_id,
                seats,
                self.term_start,
                self.term_end,
                self.source,
            )
        )
        book = cost_book.book()
        annual = vendor_period_cost(book, seats, BillingFrequency.ANNUAL)
        self.seats = seats
        self.cost_book_version = cost_book.version
        self.unit_cost = round_unit_price(vendor_cost(book, seats) / seats)
        self.annual_amount = round_money(annual, self.currency)
        full_years = {period.start: full for period, full in annual_periods(self.term_start, self.term_end)}
        changed: list[ExpectedVendorInvoice] = []
        for n, expected in enumerate(self.expected_invoices):
            if expected.period_start < effective or expected.id in received_ids:
                continue
            period = BillingPeriod(expected.period_start, expected.period_end)
            full = full_years.get(expected.period_start, period)
            amount = round_money(annual if period == full else prorate(annual, period, full), self.currency)
            if amount != expected.amount:
                self.expected_invoices[n] = replace(expected, amount=amount)
                changed.append(self.expected_invoices[n])
        return changed

    @property
    def total_amount(self) -> Decimal:
        """What the whole commitment costs: the sum of its rounded expected invoices."""
        return sum((e.amount for e in self.expected_invoices), Decimal(0))


def check_request(request: CommitmentRequest) -> None:
    """Refuse (422) seats that are not positive and terms that end before they start or run long."""
    errors = FieldErrors()
    if not request.seats > 0:
        errors.add("seats", "a commitment is for at least one seat")
    elif request.seats > MAX_SEATS:
        errors.add("seats", f"at most {MAX_SEATS} seats")
    if request.term_end <= request.term_start:
        errors.add("term_end", "the term must end after it starts")
    elif request.term_end > add_months(request.term_start, MAX_TERM_MONTHS):
        errors.add("term_end", f"a commitment runs at most {MAX_TERM_MONTHS} months")
    errors.raise_if_any("The commitment is not valid")


def annual_periods(term_start: date, term_end: date) -> list[tuple[BillingPeriod, BillingPeriod]]:
    """Each commitment year of [term_start, term_end) with the full year it is part of.

    Years start on the term's start and its anniversaries (a 29 February start falls on 28
    February); the last is cut at the term's end.
    """
    years: list[tuple[BillingPeriod, BillingPeriod]] = []
    n = 0
    start = term_start
    while start < term_end:
        full = BillingPeriod(start, add_months(term_start, 12 * (n + 1), term_start.day))
        years.append((BillingPeriod(start, min(full.end, term_end)), full))
        n += 1
        start = full.end
    return years
