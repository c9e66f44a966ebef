"""Billing periods: half-open date ranges, bill-cycle days and anchors.

Rules (DESIGN §6, §7): a period is `[start, end)`; a bill-cycle day of 29-31 falls back to
the month's last day and is recomputed from the original day every month (31 → Feb 28 →
Mar 31); quarterly and annual periods anchor on the subscription's start date. Proration by
days is pricing math: `libs.pricing.proration.prorate` takes these periods.
"""

from __future__ import annotations

import calendar
import functools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import MAXYEAR, MINYEAR, date, datetime
from importlib import resources
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from libs.contracts.vocabulary import BillingFrequency
from libs.platform.errors import ValidationFailed


@dataclass(frozen=True)
class BillingPeriod:
    """A half-open date range `[start, end)`; `end` is the first day after the period."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if not self.start < self.end:
            raise ValidationFailed.single(
                "end", f"a period must end after it starts ({self.start} → {self.end})"
            )

    @property
    def days(self) -> int:
        """Number of days in the period."""
        return (self.end - self.start).days

    def contains(self, d: date) -> bool:
        """Tell whether the day `d` falls in the period."""
        return self.start <= d < self.end

    def intersection(self, other: BillingPeriod) -> BillingPeriod | None:
        """The days both periods share, or None when they do not overlap."""
        start, end = max(self.start, other.start), min(self.end, other.end)
        return BillingPeriod(start, end) if start < end else None

    def __str__(self) -> str:
        return f"[{self.start.isoformat()}, {self.end.isoformat()})"


def _check_cycle_day(bill_cycle_day: int) -> None:
    if isinstance(bill_cycle_day, bool) or not isinstance(bill_cycle_day, int):
        raise ValidationFailed.single("bill_cycle_day", "must be a whole number from 1 to 31")
    if not 1 <= bill_cycle_day <= 31:
        raise ValidationFailed.single("bill_cycle_day", f"must be from 1 to 31, not {bill_cycle_day}")


def cycle_date(year: int, month: int, bill_cycle_day: int) -> date:
    """The bill-cycle day in the given month, clamped to its last day (31 → 2027-02-28)."""
    _check_cycle_day(bill_cycle_day)
    if not MINYEAR <= year <= MAXYEAR:
        # Only reachable from dates at the very end of the calendar; refuse them as input.
        raise ValidationFailed.single("date", f"billing periods end before the year {MAXYEAR}")
    return date(year, month, min(bill_cycle_day, calendar.monthrange(year, month)[1]))


def add_months(d: date, n: int, day: int | None = None) -> date:
    """The date `n` months after `d` on `day` (default `d.day`), clamped to the month's end."""
    index = d.year * 12 + (d.month - 1) + n
    return cycle_date(index // 12, index % 12 + 1, d.day if day is None else day)


@functools.lru_cache(maxsize=4096)
def _period_around(d: date, anchor: date, day: int, months: int) -> BillingPeriod:
    # Periods are anchor + k * months, each recomputed from the original day so that a short
    # month never shifts the ones after it. Memoized (bounded): a bill run asks the same few
    # periods for every account, and a BillingPeriod is immutable; the callers have checked
    # the arguments, and a refused date raises each time (exceptions are not cached).
    elapsed = (d.year - anchor.year) * 12 + (d.month - anchor.month)
    k = elapsed // months
    start = add_months(anchor, k * months, day)
    if start > d:
        k -= 1
        start = add_months(anchor, k * months, day)
    return BillingPeriod(start, add_months(anchor, (k + 1) * months, day))


@functools.lru_cache(maxsize=1024)
def monthly_period_containing(d: date, bill_cycle_day: int) -> BillingPeriod:
    """The monthly period that contains `d`, starting on the (clamped) bill-cycle day.

    Memoized (bounded; a refused day raises and is not kept): a bill run asks it of every account
    for one bill date and a few cycle days, and the period is immutable."""
    _check_cycle_day(bill_cycle_day)
    return _period_around(d, date(d.year, d.month, 1), bill_cycle_day, 1)


def period_containing(d: date, frequency: BillingFrequency, anchor: date | int) -> BillingPeriod:
    """The period containing `d`: monthly on a bill-cycle day, else anchored on a start date.

    For monthly billing `anchor` is the bill-cycle day (or a date, whose day is used); for
    quarterly and annual billing it must be the subscription's start date. `term` billing
    has no period of fixed length and is refused (a ValidationFailed).
    """
    frequency = BillingFrequency(frequency)
    if not frequency.is_fixed:
        # A term has no length of its own; its one period is the subscription's term.
        raise ValidationFailed.single(
            "frequency",
            f"{frequency.value} billing has no fixed period length: use the subscription's term",
            "term_has_no_cycle",
        )
    if frequency is BillingFrequency.MONTHLY:
        day = anchor.day if isinstance(anchor, date) else anchor
        return monthly_period_containing(d, day)
    if not isinstance(anchor, date):
        raise ValidationFailed.single(
            "anchor", f"{frequency.value} periods anchor on the subscription's start date"
        )
    return _period_around(d, anchor, anchor.day, frequency.months)


def periods_between(
    start: date, end: date, frequency: BillingFrequency, anchor: date | int
) -> Iterator[BillingPeriod]:
    """Consecutive periods covering `[start, end)` exactly; the first and last may be partial.

    Prorate a partial one against `period_containing(p.start, frequency, anchor)`.
    """
    if end < start:
        raise ValidationFailed.single("end", f"must not be before start ({start} → {end})")
    current = start
    while current < end:
        full = period_containing(current, frequency, anchor)
        upper = min(full.end, end)
        yield BillingPeriod(current, upper)
        current = upper


# The zones of the IANA database as the bundled `tzdata` package lists them, the same on every
# host; the system's own entries (`localtime`, `posixrules`, `posix/...`, `right/...`) depend on
# the host and `Factory` is a placeholder with no offset of its own.
IANA_TIME_ZONES: Final = frozenset(resources.files("tzdata").joinpath("zones").read_text().split()) - {
    "Factory"
}


def time_zone(tz_name: str) -> ZoneInfo:
    """The IANA time zone of that name, or ValidationFailed on field `time_zone`."""
    try:
        if not isinstance(tz_name, str) or tz_name not in IANA_TIME_ZONES:
            raise ValueError(tz_name)
        return ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError, TypeError, OSError):
        raise ValidationFailed.single(
            "time_zone",
            f"{tz_name!r} is not a known IANA time zone such as 'Europe/Paris' or 'UTC'",
            code="unknown_time_zone",
        ) from None


def local_date(ts: datetime, tz_name: str) -> date:
    """The account-local date on which the aware timestamp `ts` falls."""
    if ts.tzinfo is None or ts.utcoffset() is None:
        raise ValueError(f"timestamp {ts.isoformat()} has no time zone; expected aware UTC")
    return ts.astimezone(time_zone(tz_name)).date()
