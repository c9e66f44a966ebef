"""Revenue recognition: a schedule per invoice line, by its product's revenue rule.

- **ratable**: the line's amount is deferred when the invoice is issued and recognised over its
  service period `[period_start, period_end)` by days: each calendar month gets the line's amount
  x its days / the period's days, rounded half up to minor units, the last month taking the
  remainder so the months add up to the line exactly (an annual line billed in advance is
  recognised month by month).
- **on_fulfillment** and **on_invoice**: recognised at once, on the invoice date (a fulfillment
  is invoiced on the day it completes).

A credit note (or a void, a credit of everything left) takes back its share of a schedule: the
share of months already recognised on the note's date (or posted by a recognition run) is
reversed on that date, the rest is removed from the months still to come.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from libs.contracts.vocabulary import RevenueRule
from libs.platform.errors import ValidationFailed
from libs.platform.money import minor_units

ZERO = Decimal(0)


def month_key(day: date) -> str:
    """The calendar month of a day, `YYYY-MM` (how schedules and the waterfall group by month)."""
    return f"{day.year:04d}-{day.month:02d}"


def month_start(key: str) -> date:
    """The first day of a `YYYY-MM` month (422 for anything else)."""
    try:
        year, month = key.split("-")
        if len(year) != 4 or len(month) != 2:
            raise ValueError(key)
        return date(int(year), int(month), 1)
    except ValueError:
        raise ValidationFailed.single("month", f"{key!r} is not a month (YYYY-MM)") from None


def next_month(first: date) -> date:
    """The first day of the month after the month starting `first`."""
    return date(first.year + first.month // 12, first.month % 12 + 1, 1)


def month_end(first: date) -> date:
    """The last day of the month starting `first`."""
    return first.replace(day=calendar.monthrange(first.year, first.month)[1])


def months_between(first: str, last: str) -> list[str]:
    """Every month from `first` to `last`, both included (422 when `first` is after `last`)."""
    start, end = month_start(first), month_start(last)
    if start > end:
        raise ValidationFailed.single("from", f"from {first} is after to {last}")
    count = (end.year - start.year) * 12 + end.month - start.month + 1
    index = start.year * 12 + start.month - 1
    return [f"{(index + n) // 12:04d}-{(index + n) % 12 + 1:02d}" for n in range(count)]


def _quantum(currency: str) -> Decimal:
    return Decimal(1).scaleb(-minor_units(currency))


def _round(amount: Decimal, currency: str) -> Decimal:
    return amount.quantize(_quantum(currency), rounding=ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class ScheduleMonth:
    """What a schedule recognises in one month, on `recognize_on` (the month's last day of service)."""

    month: str
    recognize_on: date
    amount: Decimal
    posted: bool = False
    """Recognised in the ledger already (by a recognition run, or on the invoice for at-once rules)."""


@dataclass(frozen=True, slots=True)
class RevenueSchedule:
    """The recognition of one invoice line: its amount, rule and months."""

    id: str
    invoice_id: str
    invoice_number: str
    account_id: str
    currency: str
    charge_key: str
    description: str
    product_id: str | None
    rule: RevenueRule
    invoice_date: date
    period_start: date
    period_end: date
    amount: Decimal
    tax_amount: Decimal
    months: tuple[ScheduleMonth, ...]
    credited: Decimal = ZERO
    tax_credited: Decimal = ZERO

    @property
    def deferred_at_billing(self) -> bool:
        """True when the line is deferred on the invoice and recognised by month."""
        return self.rule is RevenueRule.RATABLE

    @property
    def remaining(self) -> Decimal:
        """The line's amount not credited yet."""
        return self.amount - self.credited


def allocate(
    total: Decimal, weights: Sequence[Decimal], currency: str, *, caps: Sequence[Decimal] = ()
) -> list[Decimal]:
    """Split `total` by `weights`: each part rounded half up, the last taking the remainder, so the
    parts sum to `total` exactly. When that last part would leave the sign of `total` (or pass its
    cap) — a few minor units spread over many parts — the parts are rounded cumulatively instead,
    which keeps every part between zero and its share."""
    weight_total = sum(weights, ZERO)
    if not weights or not weight_total:
        return [ZERO] * (len(weights) - 1) + [total] if weights else []
    parts = [_round(total * w / weight_total, currency) for w in weights[:-1]]
    parts.append(total - sum(parts, ZERO))
    if _within(total, parts, caps):
        return parts
    parts, before, running = [], ZERO, ZERO
    for weight in weights:
        running += weight
        reached = _round(total * running / weight_total, currency)
        parts.append(reached - before)
        before = reached
    return parts


def _within(total: Decimal, parts: Sequence[Decimal], caps: Sequence[Decimal]) -> bool:
    if any(part * total < 0 for part in parts):
        return False
    return all(abs(part) <= abs(cap) for part, cap in zip(parts, caps, strict=False))


def ratable_months(amount: Decimal, currency: str, start: date, end: date) -> tuple[ScheduleMonth, ...]:
    """Spread `amount` over `[start, end)` by days per calendar month; the months sum to `amount`."""
    if end <= start:
        return (ScheduleMonth(month_key(start), start, amount),)
    spans: list[tuple[date, date]] = []
    cursor = start
    while cursor < end:
        boundary = min(next_month(cursor.replace(day=1)), end)
        spans.append((cursor, boundary))
        cursor = boundary
    shares = allocate(amount, [Decimal((b - a).days) for a, b in spans], currency)
    return tuple(
        ScheduleMonth(month_key(a), b - timedelta(days=1), share)
        for (a, b), share in zip(spans, shares, strict=True)
    )


def rule_for_line(kind: str, product_rule: RevenueRule | None) -> RevenueRule:
    """The revenue rule of an invoice line: its product's; for a line of no known product, recurring
    charges are ratable over their period and everything else is recognised on the invoice."""
    if product_rule is not None:
        return product_rule
    return RevenueRule.RATABLE if kind == "recurring" else RevenueRule.ON_INVOICE


def schedule_months(
    *,
    rule: RevenueRule,
    amount: Decimal,
    currency: str,
    invoice_date: date,
    period_start: date,
    period_end: date,
) -> tuple[ScheduleMonth, ...]:
    """The months of a line's schedule: by day over its period (ratable), or all on the invoice date
    (posted with the invoice: it is never deferred)."""
    if rule is RevenueRule.RATABLE:
        return ratable_months(amount, currency, period_start, period_end)
    return (ScheduleMonth(month_key(invoice_date), invoice_date, amount, posted=True),)


@dataclass(frozen=True, slots=True)
class ScheduleCredit:
    """A credit's share of one schedule: what was recognised (reversed from revenue on the note's
    date) and what was still deferred (removed from the months to come)."""

    schedule_id: str
    credit_id: str
    credit_date: date
    currency: str
    recognized_share: Decimal
    deferred_share: Decimal
    tax_share: Decimal

    @property
    def amount(self) -> Decimal:
        """The net amount credited on the schedule."""
        return self.recognized_share + self.deferred_share


def _is_recognized(month: ScheduleMonth, on: date) -> bool:
    return month.posted or month.recognize_on <= on


def credit_schedule(
    schedule: RevenueSchedule, *, credit_id: str, amount: Decimal, tax: Decimal, on: date
) -> tuple[RevenueSchedule, ScheduleCredit]:
    """Take `amount` (net) and `tax` off a schedule on `on`: the recognised share in proportion to
    what is recognised of what remains, the rest off the months to come, in proportion to them
    (the last month to come takes the remainder). Never more than remains (422)."""
    currency = schedule.currency
    if abs(amount) > abs(schedule.remaining) or (amount and amount * schedule.remaining < 0):
        raise ValidationFailed.single(
            "amount", f"{amount} is more than the {schedule.remaining} that remains on {schedule.charge_key}"
        )
    # What remains is what is recognised (less what earlier credits reversed from revenue) plus
    # what is still deferred (the months to come); the credit is split between them in proportion.
    in_months = sum((m.amount for m in schedule.months), ZERO)
    reversed_before = schedule.credited - (schedule.amount - in_months)
    recognized = sum((m.amount for m in schedule.months if _is_recognized(m, on)), ZERO) - reversed_before
    deferred = in_months - reversed_before - recognized
    recognized_share, deferred_share = allocate(
        amount, [recognized, deferred], currency, caps=[recognized, deferred]
    )
    months = list(schedule.months)
    future = [i for i, m in enumerate(months) if not _is_recognized(m, on)]
    future_amounts = [months[i].amount for i in future]
    cuts = allocate(deferred_share, future_amounts, currency, caps=future_amounts)
    for index, cut in zip(future, cuts, strict=True):
        months[index] = replace(months[index], amount=months[index].amount - cut)
    credited = replace(
        schedule,
        months=tuple(months),
        credited=schedule.credited + amount,
        tax_credited=schedule.tax_credited + tax,
    )
    share = ScheduleCredit(
        schedule_id=schedule.id,
        credit_id=credit_id,
        credit_date=on,
        currency=currency,
        recognized_share=recognized_share,
        deferred_share=deferred_share,
        tax_share=tax,
    )
    return credited, share


def spread_credit(
    schedules: Sequence[RevenueSchedule], amount: Decimal, tax: Decimal, currency: str
) -> list[tuple[RevenueSchedule, Decimal, Decimal]]:
    """A credit against a whole invoice (no line named) spread over its schedules in proportion to
    what remains on each; the last takes the remainder of the amount and of the tax."""
    live = [s for s in schedules if s.remaining]
    total = sum((s.remaining for s in live), ZERO)
    tax_total = sum((s.tax_amount - s.tax_credited for s in live), ZERO)
    parts: list[tuple[RevenueSchedule, Decimal, Decimal]] = []
    given, tax_given = ZERO, ZERO
    for index, schedule in enumerate(live):
        if index == len(live) - 1:
            part, tax_part = amount - given, tax - tax_given
        else:
            part = _round(amount * schedule.remaining / total, currency)
            tax_left = schedule.tax_amount - schedule.tax_credited
            tax_part = _round(tax * tax_left / tax_total, currency) if tax_total else ZERO
        given += part
        tax_given += tax_part
        parts.append((schedule, part, tax_part))
    return parts


@dataclass(frozen=True, slots=True)
class WaterfallMonth:
    """One month of the deferred revenue waterfall: opening + billed - recognized = closing."""

    month: str
    deferred_opening: Decimal
    billed: Decimal
    recognized: Decimal
    deferred_closing: Decimal


@dataclass(slots=True)
class WaterfallMovements:
    """Billed and recognised amounts per month of one currency (the waterfall's input)."""

    billed: dict[str, Decimal] = field(default_factory=dict)
    recognized: dict[str, Decimal] = field(default_factory=dict)

    def add(
        self, *, billed: Iterable[tuple[str, Decimal]] = (), recognized: Iterable[tuple[str, Decimal]] = ()
    ) -> None:
        """Add billed and recognised amounts by month."""
        for month, amount in billed:
            self.billed[month] = self.billed.get(month, ZERO) + amount
        for month, amount in recognized:
            self.recognized[month] = self.recognized.get(month, ZERO) + amount


def waterfall(movements: WaterfallMovements, months: Sequence[str]) -> list[WaterfallMonth]:
    """The waterfall over `months` (consecutive, ascending): the opening of the first is everything
    billed minus everything recognised before it; each closing opens the next month."""
    first = months[0]
    opening = sum((a for m, a in movements.billed.items() if m < first), ZERO) - sum(
        (a for m, a in movements.recognized.items() if m < first), ZERO
    )
    rows: list[WaterfallMonth] = []
    for month in months:
        billed = movements.billed.get(month, ZERO)
        recognized = movements.recognized.get(month, ZERO)
        closing = opening + billed - recognized
        rows.append(WaterfallMonth(month, opening, billed, recognized, closing))
        opening = closing
    return rows
