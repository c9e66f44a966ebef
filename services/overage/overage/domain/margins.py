"""Margin per customer and month: what we billed for resold service, what the vendor billed us.

A month holds what was billed *for* it: a customer invoice line by the start of its service
period, a vendor invoice by the start of the period it bills — so the annual invoices of one
commitment year (ours and the vendor's, both on the year's first day) meet in the same month.
An overage counts in the month it is for (its notice's period) on both sides, not in the month it
was worked or invoiced: a re-bill line (and a credit on it) counts in its notice's month
(`resale_amounts`), and a vendor overage invoice settling a case is spread over the months of the
case's charged notices within the period it bills (`spread_overage_invoice`). So a month's
re-bill meets the vendor's charge for the same month. margin = billed - vendor; margin percent =
margin / billed x 100, 2 decimals half up, none when nothing was billed. Totals are sums of the
months, per currency.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Final

from libs.platform.errors import FieldErrors
from libs.platform.money import round_money

MAX_MONTHS: Final = 120
_MONTH_RE: Final = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_HUNDRED: Final = Decimal(100)
_CENT: Final = Decimal("0.01")


@dataclass(frozen=True, order=True)
class Month:
    """A calendar month."""

    year: int
    month: int

    @classmethod
    def of(cls, day: date) -> Month:
        """The month `day` falls in."""
        return cls(day.year, day.month)

    @property
    def first_day(self) -> date:
        """Its first day."""
        return date(self.year, self.month, 1)

    def next(self) -> Month:
        """The month after."""
        return Month(self.year + (self.month == 12), self.month % 12 + 1)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


@dataclass(frozen=True)
class MonthRange:
    """The months [first, last], both included."""

    first: Month
    last: Month

    @property
    def start(self) -> date:
        """First day of the range."""
        return self.first.first_day

    @property
    def end(self) -> date:
        """The day after the range (exclusive end)."""
        return self.last.next().first_day


def month_range(first: str, last: str) -> MonthRange:
    """Parse `from` and `to` (YYYY-MM); 422 when malformed, backwards or longer than ten years."""
    errors = FieldErrors()
    months: dict[str, Month] = {}
    for name, text in (("from", first), ("to", last)):
        found = _MONTH_RE.fullmatch(text)
        if found is None or int(found.group(1)) < 1:
            errors.add(name, "a month is written YYYY-MM, e.g. 2026-03")
        else:
            months[name] = Month(int(found.group(1)), int(found.group(2)))
    errors.raise_if_any("The months are not valid")
    start, end = months["from"], months["to"]
    span = (end.year - start.year) * 12 + end.month - start.month + 1
    if span < 1:
        errors.add("to", "the last month is before the first")
    elif span > MAX_MONTHS:
        errors.add("to", f"at most {MAX_MONTHS} months at once")
    errors.raise_if_any("The months are not valid")
    return MonthRange(start, end)


@dataclass(frozen=True)
class BilledAmount:
    """An amount billed for an account in a currency on a service period starting `period_start`."""

    account_id: str
    currency: str
    period_start: date
    amount: Decimal


@dataclass(frozen=True)
class NoticeCharge:
    """What the vendor charged for one notice of a case: its period and overage x unit cost."""

    period_start: date
    vendor_charge: Decimal


def spread_overage_invoice(
    invoice: BilledAmount, period_end: date, notices: Iterable[NoticeCharge]
) -> list[BilledAmount]:
    """A vendor overage invoice for [invoice.period_start, period_end) over its notices' months.

    Each month of a charged notice in the invoice's period takes the invoice's amount in
    proportion to the vendor's charge for that month (rounded to the currency's minor units); the
    last month takes what is left, so the parts add up to the invoice to the cent. With no charged
    notice in its period the invoice stays in the month of its period start.
    """
    weights: dict[Month, Decimal] = {}
    for notice in notices:
        if invoice.period_start <= notice.period_start < period_end and notice.vendor_charge > 0:
            month = Month.of(notice.period_start)
            weights[month] = weights.get(month, Decimal(0)) + notice.vendor_charge
    if not weights:
        return [invoice]
    total = sum(weights.values(), Decimal(0))
    parts: list[BilledAmount] = []
    left = invoice.amount
    months = sorted(weights)
    for month in months[:-1]:
        share = round_money(invoice.amount * weights[month] / total, invoice.currency)
        parts.append(BilledAmount(invoice.account_id, invoice.currency, month.first_day, share))
        left -= share
    parts.append(BilledAmount(invoice.account_id, invoice.currency, months[-1].first_day, left))
    return parts


@dataclass(frozen=True)
class MarginLine:
    """One account's month (or a total) in one currency."""

    account_id: str | None
    period: str
    currency: str
    billed: Decimal
    vendor_billed: Decimal

    @property
    def margin(self) -> Decimal:
        """What we keep: billed - vendor."""
        return self.billed - self.vendor_billed

    @property
    def margin_percent(self) -> Decimal | None:
        """margin / billed in percent, 2 decimals half up; None when nothing was billed."""
        return margin_percent(self.margin, self.billed)


@dataclass(frozen=True)
class MarginReport:
    """The months of each account with activity, and one total per currency."""

    months: MonthRange
    lines: list[MarginLine]
    totals: list[MarginLine]


def margin_percent(margin: Decimal, billed: Decimal) -> Decimal | None:
    """margin / billed x 100 to 2 decimals, half up (None when billed is zero)."""
    if billed == 0:
        return None
    return (margin * _HUNDRED / billed).quantize(_CENT, rounding=ROUND_HALF_UP)


def margin_report(
    months: MonthRange, billed: Iterable[BilledAmount], vendor_billed: Iterable[BilledAmount]
) -> MarginReport:
    """Sum both sides per account, month and currency; totals per currency are sums of the lines."""
    cells: dict[tuple[str, Month, str], list[Decimal]] = {}
    for side, amounts in ((0, billed), (1, vendor_billed)):
        for item in amounts:
            month = Month.of(item.period_start)
            if not months.first <= month <= months.last:
                continue
            cell = cells.setdefault((item.account_id, month, item.currency), [Decimal(0), Decimal(0)])
            cell[side] += item.amount
    lines = [
        MarginLine(account, str(month), currency, round_money(b, currency), round_money(v, currency))
        for (account, month, currency), (b, v) in sorted(
            cells.items(), key=lambda kv: (kv[0][1], kv[0][0], kv[0][2])
        )
    ]
    totals: dict[str, list[Decimal]] = {}
    for line in lines:
        total = totals.setdefault(line.currency, [Decimal(0), Decimal(0)])
        total[0] += line.billed
        total[1] += line.vendor_billed
    return MarginReport(
        months=months,
        lines=lines,
        totals=[MarginLine(None, "total", c, b, v) for c, (b, v) in sorted(totals.items())],
    )


def monthly_series(report: MarginReport, currency: str) -> list[MarginLine]:
    """Every month of the range in `currency`, all accounts together (zero where nothing happened)."""
    by_month: dict[str, list[Decimal]] = {}
    for line in report.lines:
        if line.currency == currency:
            cell = by_month.setdefault(line.period, [Decimal(0), Decimal(0)])
            cell[0] += line.billed
            cell[1] += line.vendor_billed
    series: list[MarginLine] = []
    month = report.months.first
    while month <= report.months.last:
        b, v = by_month.get(str(month), [Decimal(0), Decimal(0)])
        series.append(MarginLine(None, str(month), currency, b, v))
        month = month.next()
    return series
