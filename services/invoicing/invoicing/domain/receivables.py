"""Accounts receivable: what an account owes on its issued invoices, and how late — aging.

An invoice is due on its due date (invoice date + payment terms, DESIGN §7); at a date `as_of`
it is `(as_of - due date)` days past due and falls in one bucket: current (not yet past due),
1-30, 31-60, 61-90 or 90+ days. What it owed at `as_of` is its total less what was paid, credited
and written off by then, as far as the data tells (`ReceivableFacts`): an invoice issued after
`as_of`, or voided on or before it, owed nothing then. Amounts keep the currency's minor units;
currencies are never added together.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum

from libs.platform.money import minor_units


class AgingBucket(StrEnum):
    """How late an amount is, in days past its due date."""

    CURRENT = "current"
    DAYS_1_30 = "days_1_30"
    DAYS_31_60 = "days_31_60"
    DAYS_61_90 = "days_61_90"
    OVER_90 = "days_over_90"


AGING_BUCKETS: tuple[AgingBucket, ...] = tuple(AgingBucket)
"""The buckets in their order, from current to 90+ days."""


def days_past_due(due_date: date, as_of: date) -> int:
    """Days past the due date at `as_of` (0 or negative: not past due yet)."""
    return (as_of - due_date).days


def bucket_of(days: int) -> AgingBucket:
    """The aging bucket of an amount `days` past due: current up to 0, then 1-30, 31-60, 61-90, 90+."""
    if days <= 0:
        return AgingBucket.CURRENT
    if days <= 30:
        return AgingBucket.DAYS_1_30
    if days <= 60:
        return AgingBucket.DAYS_31_60
    if days <= 90:
        return AgingBucket.DAYS_61_90
    return AgingBucket.OVER_90


def zero(currency: str) -> Decimal:
    """Zero with the currency's minor units (0.00 USD, 0 JPY, 0.000 BHD)."""
    return Decimal(0).scaleb(-minor_units(currency))


@dataclass(frozen=True, slots=True)
class ReceivableFacts:
    """What an issued invoice billed and what took from it, with the dates that tell when."""

    invoice_id: str
    invoice_number: str | None
    account_id: str
    currency: str
    invoice_date: date
    due_date: date
    total: Decimal
    paid: Decimal
    """Payments applied to it (as the invoice holds them today)."""
    credited: Decimal
    """Credit notes issued against it on or before the date asked about."""
    written_off: Decimal = Decimal(0)
    written_off_on: date | None = None
    voided_on: date | None = None


def amount_due_at(facts: ReceivableFacts, as_of: date) -> Decimal:
    """What the invoice owed at the end of `as_of` (never below zero)."""
    nothing = zero(facts.currency)
    if facts.invoice_date > as_of or (facts.voided_on is not None and facts.voided_on <= as_of):
        return nothing
    written_off = (
        facts.written_off
        if facts.written_off_on is not None and facts.written_off_on <= as_of
        else Decimal(0)
    )
    return max(nothing, nothing + facts.total - facts.paid - facts.credited - written_off)


@dataclass
class AgingRow:
    """One account's receivables in one currency, per bucket, and their total."""

    account_id: str
    currency: str
    account_name: str | None = None
    buckets: dict[AgingBucket, Decimal] = field(default_factory=dict)
    invoices: int = 0

    @property
    def total(self) -> Decimal:
        """The sum of the buckets."""
        return sum(self.buckets.values(), zero(self.currency))

    def add(self, bucket: AgingBucket, amount: Decimal) -> None:
        """Add an amount to a bucket."""
        self.buckets[bucket] = self.buckets.get(bucket, zero(self.currency)) + amount

    def amount(self, bucket: AgingBucket) -> Decimal:
        """The bucket's amount (zero when nothing is in it)."""
        return self.buckets.get(bucket, zero(self.currency))


def aging_rows(facts: Iterable[ReceivableFacts], as_of: date) -> list[AgingRow]:
    """Per account and currency, what was owed at `as_of` in each bucket (accounts owing nothing left out)."""
    rows: dict[tuple[str, str], AgingRow] = {}
    for item in facts:
        owed = amount_due_at(item, as_of)
        if owed <= 0:
            continue
        row = rows.setdefault((item.account_id, item.currency), AgingRow(item.account_id, item.currency))
        row.add(bucket_of(days_past_due(item.due_date, as_of)), owed)
        row.invoices += 1
    return [rows[key] for key in sorted(rows)]


@dataclass
class AgingTotals:
    """The whole book's aging: one row per currency, summed as accounts are added."""

    per_currency: dict[str, AgingRow] = field(default_factory=dict)
    accounts: int = 0

    def add(self, row: AgingRow) -> None:
        """Add an account's row to its currency's total."""
        total = self.per_currency.setdefault(row.currency, AgingRow("", row.currency))
        for bucket, amount in row.buckets.items():
            total.add(bucket, amount)
        total.invoices += row.invoices
        self.accounts += 1

    def rows(self) -> list[AgingRow]:
        """The totals, by currency."""
        return [self.per_currency[c] for c in sorted(self.per_currency)]
