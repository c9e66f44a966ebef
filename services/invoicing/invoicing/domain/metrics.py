"""Finance metrics per month and currency (issue 10): MRR, ARR, billings, collections, A/R, DSO.

Pure rules over what the repository sums in SQL (`invoicing.repository.metrics`):

- **MRR** at a month's end: every subscription whose version in force on that day is `active`
  (suspended, cancelled and expired ones do not count), within its term, with a recurring price;
  its price per billing period x quantity, less its discount, normalised to a month: monthly / 1,
  quarterly / 3, annual / 12, a whole-term price / the term's months. Summed exactly, rounded
  half up to the currency's minor units once per month. **ARR** = 12 x MRR.
- **Billings** of a month: totals (tax included) of invoices issued in it (invoice date), less
  credit notes dated in it, less issued invoices voided in it.
- **Collections** of a month: payments received in it (received date), less refunds and
  reversals made in it.
- **A/R** at a month's end: what issued invoices still owed then: issued - voided - credit notes
  (their part that reduced an invoice, not what became account credit) - payments applied
  (on the payment's received date; account credit on the day it was applied) + refunds and
  reversals that reopened invoices - write-offs.
- **DSO** = A/R at month end / billings of the month x days in the month, one decimal; none when
  the month billed nothing (or less than nothing).
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from libs.platform.money import minor_units

ZERO = Decimal(0)
_MONTHS_PER_PERIOD = {"monthly": 1, "quarterly": 3, "annual": 12}


class Movement(StrEnum):
    """What the repository sums per month and currency."""

    ISSUED = "issued"
    VOIDED = "voided"
    CREDITED = "credited"
    CREDITED_TO_ACCOUNT = "credited_to_account"
    PAID_IN = "paid_in"
    REFUNDED = "refunded"
    REFUNDED_FROM_CREDIT = "refunded_from_credit"
    APPLIED = "applied"
    WRITTEN_OFF = "written_off"


OPENING = ""
"""The month key of everything dated before the first month (only A/R reads it)."""


@dataclass(frozen=True, slots=True)
class RecurringPrice:
    """Active subscriptions sharing a price at a month's end: their quantity summed."""

    month: str
    currency: str
    billing_period: str
    unit_price: Decimal
    discount_percent: Decimal
    quantity: Decimal
    term_months: int = 1
    """Months of the term (only a `term` billing period reads it)."""


def term_months(start: date, end: date) -> int:
    """Whole months from `start` to the exclusive `end` (at least 1; a part month counts whole)."""
    months = (end.year - start.year) * 12 + end.month - start.month
    if end.day > start.day:
        months += 1
    return max(1, months)


def monthly_amount(price: RecurringPrice) -> Decimal:
    """What the price brings in per month, unrounded."""
    per_period = price.unit_price * price.quantity * (Decimal(100) - price.discount_percent) / Decimal(100)
    months = _MONTHS_PER_PERIOD.get(price.billing_period, price.term_months)
    return per_period / Decimal(months)


def _round(amount: Decimal, currency: str) -> Decimal:
    return amount.quantize(Decimal(1).scaleb(-minor_units(currency)), rounding=ROUND_HALF_UP)


def days_sales_outstanding(receivable: Decimal, billings: Decimal, days: int) -> Decimal | None:
    """A/R / billings x days, one decimal (none when billings are not positive)."""
    if billings <= 0:
        return None
    return (receivable / billings * days).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@dataclass
class MonthMetrics:
    """One month in one currency."""

    month: str
    currency: str
    mrr: Decimal = ZERO
    billings: Decimal = ZERO
    collections: Decimal = ZERO
    receivable: Decimal = ZERO
    dso: Decimal | None = None

    @property
    def arr(self) -> Decimal:
        return self.mrr * 12


@dataclass
class _Sums:
    by_kind: dict[Movement, Decimal] = field(default_factory=dict)

    def __getitem__(self, kind: Movement) -> Decimal:
        return self.by_kind.get(kind, ZERO)


def month_days(month: str) -> int:
    year, number = (int(part) for part in month.split("-"))
    return calendar.monthrange(year, number)[1]


def finance_metrics(
    months: Sequence[str],
    movements: Sequence[tuple[str, str, Movement, Decimal]],
    prices: Sequence[RecurringPrice],
) -> dict[str, list[MonthMetrics]]:
    """Per currency (sorted), one row per month; `movements` as
    (currency, month or OPENING, kind, amount) sums (a kind may come more than once)."""
    currencies = sorted({row[0] for row in movements} | {price.currency for price in prices})
    mrr: dict[tuple[str, str], Decimal] = {}
    for price in prices:
        key = (price.currency, price.month)
        mrr[key] = mrr.get(key, ZERO) + monthly_amount(price)
    out: dict[str, list[MonthMetrics]] = {}
    for currency in currencies:
        sums: dict[str, _Sums] = {}
        for code, month, kind, amount in movements:
            if code == currency:
                kinds = sums.setdefault(month, _Sums()).by_kind
                kinds[kind] = kinds.get(kind, ZERO) + amount
        receivable = _receivable_change(sums.get(OPENING, _Sums()))
        rows = []
        for month in months:
            found = sums.get(month, _Sums())
            receivable += _receivable_change(found)
            billings = found[Movement.ISSUED] - found[Movement.CREDITED] - found[Movement.VOIDED]
            rows.append(
                MonthMetrics(
                    month=month,
                    currency=currency,
                    mrr=_round(mrr.get((currency, month), ZERO), currency),
                    billings=billings,
                    collections=found[Movement.PAID_IN] - found[Movement.REFUNDED],
                    receivable=receivable,
                    dso=days_sales_outstanding(receivable, billings, month_days(month)),
                )
            )
        out[currency] = rows
    return out


def _receivable_change(found: _Sums) -> Decimal:
    return (
        found[Movement.ISSUED]
        - found[Movement.VOIDED]
        - (found[Movement.CREDITED] - found[Movement.CREDITED_TO_ACCOUNT])
        - found[Movement.APPLIED]
        + (found[Movement.REFUNDED] - found[Movement.REFUNDED_FROM_CREDIT])
        - found[Movement.WRITTEN_OFF]
    )
