"""Recurring charges: a subscription's billable days, cut into billing periods, prorated by day.

Rules (DESIGN §7; Kill Bill's invoice generator is the model):
- The version in force on a day is the last one effective on or before it; before the first
  version's effective date the first version is in force, so an activation that completes
  after the term start bills back to the term start.
- A day is billable when the version in force is active or suspended (suspension stops the
  service, not the contract) and the day lies in that version's term `[term_start, term_end)`.
  So a 3-year term billed annually gives three periods, and a cancelled or expired version
  stops billing from its effective date.
- Periods: monthly on the account's bill-cycle day (the invoice account's: a child billed to
  its parent follows the parent's cycle), quarterly and annual anchored on the first version's
  term start (`libs.platform.periods`); a `term` price bills each term as one period
  (`BillingCalendar`: the first term, then one per renewal).
- A change of the bill-cycle day never re-cuts monthly periods already billed: the day they
  were cut on is read from the billed keys' period starts (`billed_cycle_day`), the days before
  the end of the last billed period keep those periods, the next period runs from that end to
  the new cycle day (prorated against the new cycle's month holding it), and later ones fall on
  the new day.
- A segment is a run of billable days of one period on one set of terms (price version,
  quantity, unit price, discount); its expected amount is quantity x unit price x days of the
  segment / days of the full period (`libs.pricing.proration`), less the discount while it
  lasts (`discount_cycles` periods from the first). Each segment is one charge key
  (`charge_lines.recurring_key`), and what is due is expected minus billed per key: this gives
  the partial first period, proration charges on an upgrade, credits for unused days on a
  downgrade or cancellation, and nothing on a re-run.
- When a period is due: in advance once the bill date reaches its first billable day (a
  mid-period start is billed from the day it starts, never before); in arrears once the bill
  date reaches the period's end. A due period is billed from every version known, including
  changes effective later in it, so a period's expected amount does not depend on the bill
  date and an earlier re-run never credits what a later run billed.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Context, Decimal
from itertools import pairwise
from typing import Final

from libs.contracts.vocabulary import BillingFrequency, BillingTiming, ChargeType
from libs.platform.periods import (
    BillingPeriod,
    monthly_period_containing,
    period_containing,
    periods_between,
)
from libs.pricing.proration import prorate_amount

from .billing_inputs import BillingSubscription, SubscriptionVersion
from .charge_lines import (
    NOTHING_BILLED,
    BilledLedger,
    ChargeKind,
    ChargeLine,
    ChargeSource,
    Owed,
    owed,
    recurring_key,
)

BILLABLE_STATES: Final = frozenset({"active", "suspended"})
_HUNDRED: Final = Decimal(100)
_PRECISION: Final = 50
_NET_CONTEXT: Final = Context(prec=_PRECISION)
"""`localcontext(prec=_PRECISION)` built once (the default rounding, half even)."""
_DAY: Final = timedelta(days=1)
PLAN_CACHE_SIZE: Final = 1024
"""Segment plans kept (`_cached_plan`)."""


@dataclass(frozen=True, slots=True)
class BillableSpan:
    """Consecutive billable days `span` on one set of terms (those of `version`, where it began)."""

    span: BillingPeriod
    version: SubscriptionVersion


@dataclass(frozen=True, slots=True)
class RecurringSegment:
    """The billable days of one billing period on one set of terms: one recurring charge key."""

    period: BillingPeriod
    """The full billing period the days belong to (proration is by its days)."""
    span: BillingPeriod
    version: SubscriptionVersion
    discounted: bool
    """False once the version's discount has run out of cycles."""

    @property
    def list_amount(self) -> Decimal:
        """Quantity x unit price for the segment's share of the period (unrounded)."""
        per_period = self.version.quantity * self.version.unit_price
        return prorate_amount(per_period, self.span.days, self.period.days)

    @property
    def amount(self) -> Decimal:
        """The list amount less the discount while it lasts (unrounded)."""
        return self.net_of(self.list_amount)

    def net_of(self, list_amount: Decimal) -> Decimal:
        """`list_amount` (the segment's) less the discount while it lasts (unrounded)."""
        if not self.discounted:
            return list_amount
        return _net_of(list_amount, self.version.discount_percent)


def _net_of(list_amount: Decimal, discount_percent: Decimal) -> Decimal:
    net = _NET_CONTEXT
    return net.divide(net.multiply(list_amount, net.subtract(_HUNDRED, discount_percent)), _HUNDRED)


@functools.lru_cache(maxsize=PLAN_CACHE_SIZE)
def _owed_anew(terms: tuple[Decimal, Decimal, Decimal | None, int, int, str]) -> Owed | None:
    """What a segment is due with nothing billed under its key: a function of the values of its
    terms and days alone (every amount ends rounded to the currency, so 25 and 25.0 give the same
    digits), shared by a run's accounts on one price and period (memoized, bounded)."""
    quantity, unit_price, discount, days, period_days, currency = terms
    list_amount = prorate_amount(quantity * unit_price, days, period_days)  # as `list_amount`
    net = list_amount if discount is None else _net_of(list_amount, discount)
    return owed(list_amount, net, NOTHING_BILLED, currency)


def _ordered(subscription: BillingSubscription) -> list[SubscriptionVersion]:
    return sorted(subscription.versions, key=lambda v: (v.effective_date, v.sequence))


def _in_force(versions: Sequence[SubscriptionVersion], day: date) -> int:
    """The index of the version in force on `day`."""
    current = 0  # before the activation's effective date: bill-back to term start
    for index, version in enumerate(versions):
        if version.effective_date > day:
            break
        current = index
    return current


def _terms(version: SubscriptionVersion) -> tuple[object, ...]:
    return (
        version.price_id,
        version.price_version,
        version.quantity,
        version.unit_price,
        version.discount_percent,
        version.discount_cycles,
    )


def billable_spans(subscription: BillingSubscription) -> list[BillableSpan]:
    """The subscription's billable days as runs on one set of terms, in date order."""
    versions = _ordered(subscription)
    return [BillableSpan(span, versions[index]) for span, index in _spans(versions)]


def _spans(versions: Sequence[SubscriptionVersion]) -> list[tuple[BillingPeriod, int]]:
    """`billable_spans` of versions in effective order, each with the index of its version."""
    if not versions:
        return []
    first = versions[0]
    start = min(first.term_start, first.effective_date)
    # The version in force and its term bounds only change on these days.
    edges = {start}
    for version in versions:
        edges.update((version.effective_date, version.term_start, version.term_end))
    points = sorted(edge for edge in edges if edge >= start)
    spans: list[tuple[BillingPeriod, int]] = []
    for lower, upper in pairwise(points):
        index = _in_force(versions, lower)
        version = versions[index]
        if version.state not in BILLABLE_STATES or not version.term_start <= lower < version.term_end:
            continue
        previous = spans[-1] if spans else None
        if previous and previous[0].end == lower and _terms(versions[previous[1]]) == _terms(version):
            spans[-1] = (BillingPeriod(previous[0].start, upper), previous[1])
        else:
            spans.append((BillingPeriod(lower, upper), index))
    return spans


@dataclass(frozen=True, slots=True)
class BillingCalendar:
    """A subscription's billing periods: fixed-length ones, or its terms for a `term` price.

    A term-billed subscription's terms are the first from the term start, then one from each
    renewal (a version effective on the term end of the one before it: provisioning renews by
    moving `term_end` on, the new term being `[previous_term_end, term_end)`); the last term
    ends on the latest term end known, so a term cut short is credited like a cancellation.
    """

    frequency: BillingFrequency
    anchor: date | int
    term_starts: tuple[date, ...]
    last_term_end: date
    billed_day: int | None = None
    """Monthly: the cycle day the billed periods were cut on, when it is not `anchor` (a moved
    cycle day); the days before `rebased_on` keep those periods."""
    rebased_on: date | None = None
    """The end of the last period billed on `billed_day`: the new cycle day's periods from it."""

    @classmethod
    def of(
        cls, subscription: BillingSubscription, bill_cycle_day: int, billed: BilledLedger | None = None
    ) -> BillingCalendar:
        """The calendar of a subscription whose invoice account bills on `bill_cycle_day`, given
        what was `billed` (its monthly periods stay as they were billed, see the module)."""
        return cls.of_versions(
            _ordered(subscription),
            subscription.billing_period,
            bill_cycle_day,
            _billed_starts(subscription, billed),
        )

    @classmethod
    def of_versions(
        cls,
        versions: Sequence[SubscriptionVersion],
        frequency: BillingFrequency,
        bill_cycle_day: int,
        billed_starts: tuple[date, ...],
    ) -> BillingCalendar:
        """`of` from the versions in effective order and the starts of the billed monthly periods."""
        first = versions[0]
        renewals = [
            later.effective_date
            for earlier, later in pairwise(versions)
            if later.effective_date == earlier.term_end and later.term_end > later.effective_date
        ]
        monthly = frequency is BillingFrequency.MONTHLY
        billed_day, rebased_on = None, None
        if monthly:
            moved = billed_cycle_day(list(billed_starts), bill_cycle_day)
            if moved is not None:
                billed_day, last_start = moved
                rebased_on = monthly_period_containing(last_start, billed_day).end
        return cls(
            frequency=frequency,
            anchor=bill_cycle_day if monthly else first.term_start,
            term_starts=tuple(sorted({first.term_start, *renewals})),
            last_term_end=max(version.term_end for version in versions),
            billed_day=billed_day,
            rebased_on=rebased_on,
        )

    def period_of(self, day: date) -> BillingPeriod:
        """The full billing period holding `day`."""
        if self.billed_day is not None and self.rebased_on is not None and day < self.rebased_on:
            return monthly_period_containing(day, self.billed_day)
        if self.frequency.is_fixed:
            return period_containing(day, self.frequency, self.anchor)
        start = max((s for s in self.term_starts if s <= day), default=self.term_starts[0])
        end = min((s for s in self.term_starts if s > start), default=self.last_term_end)
        return BillingPeriod(start, max(end, start + _DAY))

    def pieces(self, span: BillingPeriod) -> Iterator[BillingPeriod]:
        """`span` cut where billing periods begin."""
        if self.rebased_on is not None and span.start < self.rebased_on < span.end:
            yield from self.pieces(BillingPeriod(span.start, self.rebased_on))
            yield from self.pieces(BillingPeriod(self.rebased_on, span.end))
            return
        if self.billed_day is not None and self.rebased_on is not None and span.start < self.rebased_on:
            yield from periods_between(span.start, span.end, self.frequency, self.billed_day)
            return
        if self.frequency.is_fixed:
            yield from periods_between(span.start, span.end, self.frequency, self.anchor)
            return
        cuts = [span.start, *(s for s in self.term_starts if span.start < s < span.end), span.end]
        for lower, upper in pairwise(cuts):
            yield BillingPeriod(lower, upper)

    def index_of(self, period: BillingPeriod, first: BillingPeriod) -> int:
        """How many billing periods come before `period` since the `first` one."""
        if self.frequency.is_fixed:
            months = (period.start.year - first.start.year) * 12 + period.start.month - first.start.month
            return months // self.frequency.months
        return sum(1 for s in self.term_starts if first.start < s <= period.start)


def billed_cycle_day(billed_period_starts: list[date], bill_cycle_day: int) -> tuple[int, date] | None:
    """The cycle day the monthly periods billed before a move of the cycle day were cut on, and
    the start of the last of them, given the billed periods' starts (sorted); None when every
    start falls on `bill_cycle_day`.

    The starts off the current cycle are those of the last day before the move (a period billed
    since the move falls on the new day). A start on a month's last day may come from any later
    day (31 -> February 28): the other starts off the cycle settle which, else the latest day
    is taken. Only the last move is remembered this way: the periods billed before an earlier
    move are taken to fall on the day of the last one.
    """

    def cut_on(day: int, starts: list[date]) -> bool:
        return all(monthly_period_containing(s, day).start == s for s in starts)

    moved = [start for start in billed_period_starts if not cut_on(bill_cycle_day, [start])]
    if not moved:
        return None
    candidates = [day for day in range(31, 0, -1) if cut_on(day, [moved[-1]])]
    return next((day for day in candidates if cut_on(day, moved)), candidates[0]), moved[-1]


def _billed_starts(subscription: BillingSubscription, billed: BilledLedger | None) -> tuple[date, ...]:
    """The starts of a monthly subscription's billed periods, sorted (what its calendar keeps)."""
    if billed is None or subscription.billing_period is not BillingFrequency.MONTHLY:
        return ()
    return tuple(sorted({start for _, start, _ in billed.recurring_keys(subscription.subscription_id)}))


def recurring_segments(
    subscription: BillingSubscription, *, bill_cycle_day: int, until: date, billed: BilledLedger | None = None
) -> Iterator[RecurringSegment]:
    """The subscription's segments in periods that start on or before `until`, in date order."""
    versions = tuple(_ordered(subscription))
    if not versions:
        return
    arguments = (
        versions,
        subscription.billing_period,
        bill_cycle_day,
        until,
        _billed_starts(subscription, billed),
    )
    try:
        plan = _cached_plan(*arguments)
    except TypeError:  # a value that cannot be hashed (a signalling NaN): the same plan, uncached
        plan = _plan(*arguments)
    for period, span, index, discounted in plan:
        yield RecurringSegment(period=period, span=span, version=versions[index], discounted=discounted)


_Plan = tuple[tuple[BillingPeriod, BillingPeriod, int, bool], ...]
"""Segments as (period, span, index of the version in effective order, discounted)."""


def _plan(
    versions: tuple[SubscriptionVersion, ...],
    frequency: BillingFrequency,
    bill_cycle_day: int,
    until: date,
    billed_starts: tuple[date, ...],
) -> _Plan:
    spans = _spans(versions)
    if not spans:
        return ()
    calendar = BillingCalendar.of_versions(versions, frequency, bill_cycle_day, billed_starts)
    first_period = calendar.period_of(spans[0][0].start)
    plan: list[tuple[BillingPeriod, BillingPeriod, int, bool]] = []
    for span, index in spans:
        cycles = versions[index].discount_cycles
        for piece in calendar.pieces(span):
            period = calendar.period_of(piece.start)
            if period.start > until:
                return tuple(plan)
            discounted = cycles is None or calendar.index_of(period, first_period) < cycles
            plan.append((period, piece, index, discounted))
    return tuple(plan)


_cached_plan = functools.lru_cache(maxsize=PLAN_CACHE_SIZE)(_plan)
"""`_plan` memoized: it depends only on the versions' values (compared by value, so it gives
indices, never a version that is equal but written otherwise, 25 and 25.0), and the accounts of
a bill run share a few plans (the same prices, terms and cycle days), so a run computes each
once instead of once per subscription (~40 % of the charge calculation before). Bounded."""


def _is_due(timing: BillingTiming, period: BillingPeriod, first_day: date, through: date) -> bool:
    if timing is BillingTiming.IN_ARREARS:
        return through >= period.end
    return through >= first_day


def recurring_lines(
    subscription: BillingSubscription,
    *,
    bill_cycle_day: int,
    currency: str,
    through: date,
    billed: BilledLedger,
) -> list[ChargeLine]:
    """The recurring lines of a subscription due on a bill date `through` (see the module's rules)."""
    if subscription.charge_type is not ChargeType.RECURRING or not subscription.versions:
        return []
    by_period: dict[BillingPeriod, list[RecurringSegment]] = {}
    for segment in recurring_segments(
        subscription, bill_cycle_day=bill_cycle_day, until=through, billed=billed
    ):
        by_period.setdefault(segment.period, []).append(segment)
    lines: list[ChargeLine] = []
    expected_keys: set[str] = set()
    for period, segments in by_period.items():
        keys = [recurring_key(subscription.subscription_id, period.start, s.span.start) for s in segments]
        expected_keys.update(keys)
        if not _is_due(subscription.billing_timing, period, segments[0].span.start, through):
            continue
        for key, segment in zip(keys, segments, strict=True):
            line = _segment_line(subscription, segment, key, currency, billed)
            if line is not None:
                lines.append(line)
    lines.extend(_withdrawn_lines(subscription, expected_keys, bill_cycle_day, currency, through, billed))
    return lines


def _segment_line(
    subscription: BillingSubscription,
    segment: RecurringSegment,
    key: str,
    currency: str,
    billed: BilledLedger,
) -> ChargeLine | None:
    before, version = billed.of(key), segment.version
    if before is NOTHING_BILLED:
        discount = version.discount_percent if segment.discounted else None
        days, period_days = segment.span.days, segment.period.days
        terms = (version.quantity, version.unit_price, discount, days, period_days, currency)
        try:
            due = _owed_anew(terms)
        except TypeError:  # a value that cannot be hashed (a signalling NaN): the same, uncached
            due = _owed_anew.__wrapped__(terms)
    else:
        list_amount = segment.list_amount
        due = owed(list_amount, segment.net_of(list_amount), before, currency)
    if due is None:
        return None
    span = segment.span
    if due.amount < 0 and span.end < segment.period.end:
        # The segment now ends earlier than when it was billed: what is credited is the days
        # from its new end (the change or cancellation date) on.
        span = BillingPeriod(span.end, segment.period.end)
    return _line(subscription, segment.version, segment.period, span, key, due)


def _withdrawn_lines(
    subscription: BillingSubscription,
    expected_keys: set[str],
    bill_cycle_day: int,
    currency: str,
    through: date,
    billed: BilledLedger,
) -> Iterator[ChargeLine]:
    """Credits for keys billed before whose days are no longer billed on those terms at all."""
    withdrawn = [
        billed_key
        for billed_key in billed.recurring_keys(subscription.subscription_id)
        if billed_key[0] not in expected_keys
    ]
    if not withdrawn:
        return  # the common case: nothing billed before, or every billed key still expected
    versions = _ordered(subscription)
    calendar = BillingCalendar.of(subscription, bill_cycle_day, billed)
    for key, period_start, segment_start in withdrawn:
        period = calendar.period_of(period_start)
        if not _is_due(subscription.billing_timing, period, segment_start, through):
            continue
        due = owed(Decimal(0), Decimal(0), billed.of(key), currency)
        if due is None:
            continue
        span = BillingPeriod(segment_start, max(period.end, segment_start + _DAY))
        yield _line(subscription, versions[_in_force(versions, segment_start)], period, span, key, due)


def _line(
    subscription: BillingSubscription,
    version: SubscriptionVersion,
    period: BillingPeriod,
    span: BillingPeriod,
    key: str,
    due: Owed,
) -> ChargeLine:
    credit = due.amount < 0
    name = subscription.product_name or subscription.product_id
    last_day = (span.end - _DAY).isoformat()
    share = "" if span.days == period.days else f" ({span.days} of {period.days} days)"
    if credit:
        description = f"Credit for unused time: {name}, {span.start.isoformat()} to {last_day}{share}"
    else:
        description = f"{name}, {span.start.isoformat()} to {last_day}{share}"
    return ChargeLine(
        charge_key=key,
        kind=ChargeKind.RECURRING_CREDIT if credit else ChargeKind.RECURRING,
        description=description,
        account_id=subscription.account_id,
        currency=subscription.currency,
        amount=due.amount,
        list_amount=due.list_amount,
        discount_amount=due.discount_amount,
        quantity=version.quantity,
        unit_price=version.unit_price,
        source_kind=ChargeSource.SUBSCRIPTION,
        source_id=subscription.subscription_id,
        period_start=span.start,
        period_end=span.end,
        subscription_id=subscription.subscription_id,
        product_id=subscription.product_id,
        price_id=version.price_id,
        price_version=version.price_version,
    )
