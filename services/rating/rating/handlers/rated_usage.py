"""Rating and period close: each ended period of a subscription's meter is rated once into
`rated_usage` and published as `usage.rated`; and the running charge of the open period.

The close walks the aggregates not rated yet in key order, a chunk at a time, each chunk in
its own transaction under the close's lock (one closer at a time per database, so replicas'
timers never wait on each other's rows): it claims the due ones (`rated_at` set where it is still null, so two
closers — a timer and an operator, or two replicas — never rate one period twice; the unique
series key of `rated_usage` backs that up), rates them with `libs.pricing` after drawing
prepaid units, draws prepaid money against what is due, writes the rated rows and stages one
`usage.rated` per period in the outbox, keyed by account. An aggregate that cannot be priced
yet (its price not received from the catalog) stays open and is tried again next time.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from libs.platform.clock import UTC_ZONE
from libs.platform.errors import ValidationFailed
from libs.platform.ids import new_id
from libs.platform.logging import get_logger
from libs.platform.pagination import Page, PageRequest
from libs.platform.periods import local_date
from libs.pricing import TierLine
from rating.domain.meters import Meter
from rating.domain.prices import term_months
from rating.domain.rated_usage import (
    RatedUsage,
    UsageSeries,
    amount_due,
    charge_for,
    is_closable,
    prepaid_units_wanted,
    price_wanted,
    quantity_after_prepaid,
    rated_usage,
    series_reference,
)
from rating.domain.subscriptions import DEFAULT_TIME_ZONE, Subscription
from rating.events.rated_usage import usage_rated
from rating.handlers.prepaid import PrepaidAmounts, money_reference, units_reference
from rating.handlers.price_cache import PriceCache, PricedUsage, Unpriced

if TYPE_CHECKING:
    from rating.handlers.unit_of_work import RatingUnitOfWork

log = get_logger("rating.close")

ZERO = Decimal(0)
SeriesKey = tuple[str, str, date]


@dataclass(frozen=True)
class DueSeries:
    """An aggregate not rated yet whose period may have ended, with its account's time zone."""

    series: UsageSeries
    time_zone: str | None


class RatedUsageRepository(abc.ABC):
    """Aggregates to rate and rated usage (the port; SQL in `rating.repository.rated_usage`)."""

    @abc.abstractmethod
    async def unrated_series(self, *, after: SeriesKey | None, limit: int, ends_by: date) -> list[DueSeries]:
        """Up to `limit` aggregates not rated yet that end by `ends_by`, in key order after `after`."""

    @abc.abstractmethod
    async def lock_for_close(self) -> bool:
        """Take the period close's lock for this transaction; False when another close holds it."""

    @abc.abstractmethod
    async def claim(self, keys: Sequence[SeriesKey], rated_at: datetime) -> list[UsageSeries]:
        """Mark these aggregates rated (those still unrated); their quantities as they are now."""

    @abc.abstractmethod
    async def add(self, rated: Sequence[RatedUsage]) -> None:
        """Store rated periods (one insert)."""

    @abc.abstractmethod
    async def get(self, rated_usage_id: str) -> RatedUsage:
        """A rated period by id, or NotFound."""

    @abc.abstractmethod
    async def page(
        self,
        page: PageRequest,
        *,
        subscription_id: str | None,
        account_id: str | None,
        period_start: date | None,
    ) -> Page[RatedUsage]:
        """Rated periods in id order (that is, rating order), filtered."""


# ----- the period close ----------------------------------------------------------------------


@dataclass
class CloseReport:
    """What a close did: periods rated, and those left open because they cannot be priced yet."""

    rated: int = 0
    unpriced: int = 0
    examined: int = 0
    rated_usage_ids: list[str] = field(default_factory=list)
    busy: bool = False
    """Another close was running: this one stopped and left the rest to it."""

    def add(self, other: CloseReport) -> None:
        """Add a chunk's counts."""
        self.rated += other.rated
        self.unpriced += other.unpriced
        self.examined += other.examined
        self.rated_usage_ids += other.rated_usage_ids
        self.busy = self.busy or other.busy


def _latest_local_date(uow: RatingUnitOfWork) -> date:
    # No time zone is more than a day ahead of UTC (UTC+14 is the furthest).
    return uow.business_date(UTC_ZONE) + timedelta(days=1)


def check_as_of(uow: RatingUnitOfWork, as_of: date | None) -> None:
    """Refuse a close `as_of` a day no time zone has reached yet (a period closes once ended)."""
    if as_of is not None and as_of > _latest_local_date(uow):
        raise ValidationFailed.single(
            "as_of", f"{as_of.isoformat()} has not begun in any time zone: a period closes once it has ended"
        )


async def close_periods(
    *, units_of_work: Callable[[], RatingUnitOfWork], as_of: date | None = None, chunk_size: int = 1000
) -> CloseReport:
    """Rate every period that has ended (by `as_of` too, if given), a chunk per transaction."""
    report = CloseReport()
    after: SeriesKey | None = None
    while True:
        async with units_of_work() as uow:
            check_as_of(uow, as_of)
            chunk, after, more = await close_chunk(uow=uow, after=after, limit=chunk_size, as_of=as_of)
        report.add(chunk)
        if not more:
            break
    if report.rated or report.unpriced:
        log.info(
            "usage.periods_closed", rated=report.rated, unpriced=report.unpriced, examined=report.examined
        )
    return report


async def close_chunk(
    *, uow: RatingUnitOfWork, after: SeriesKey | None, limit: int, as_of: date | None = None
) -> tuple[CloseReport, SeriesKey | None, bool]:
    """Rate the due periods among the next `limit` unrated aggregates after `after`; commit.

    Returns the chunk's report, the key to continue after, and whether more may follow.
    """
    if not await uow.rated_usage.lock_for_close():
        # Another replica (or the timer) is closing: it rates what this one would have.
        return CloseReport(busy=True), after, False
    now = uow.clock.now()
    ends_by = _latest_local_date(uow) if as_of is None else min(as_of, _latest_local_date(uow))
    candidates = await uow.rated_usage.unrated_series(after=after, limit=limit, ends_by=ends_by)
    report = CloseReport(examined=len(candidates))
    if not candidates:
        return report, after, False
    last_key = candidates[-1].series.key
    due = [
        c.series
        for c in candidates
        if is_closable(
            c.series.period_end,
            _local_today(now_date=local_date(now, c.time_zone or DEFAULT_TIME_ZONE), as_of=as_of),
        )
    ]
    priced = await _price_series(uow, due, PriceCache(ttl_s=float("inf")))
    report.unpriced = len(due) - len(priced)
    claimed = await uow.rated_usage.claim(list(priced), now) if priced else []
    rated: list[RatedUsage] = []
    for series in claimed:
        meter, usage = priced[series.key]
        rated.append(await _rate(uow, series, meter, usage, now))
    if rated:
        await uow.rated_usage.add(rated)
        for row in rated:
            uow.emit(usage_rated(row), key=row.account_id)
    await uow.commit()
    report.rated = len(rated)
    report.rated_usage_ids = [r.id for r in rated]
    return report, last_key, len(candidates) == limit


def _local_today(*, now_date: date, as_of: date | None) -> date:
    return now_date if as_of is None else min(now_date, as_of)


async def _price_series(
    uow: RatingUnitOfWork, series: Sequence[UsageSeries], cache: PriceCache
) -> dict[SeriesKey, tuple[Meter, PricedUsage]]:
    """The meter and price of each series that can be priced now (the others are logged)."""
    if not series:
        return {}
    subscriptions = await uow.subscriptions.subscriptions({s.subscription_id for s in series})
    meters = await cache.meters(uow, {s.meter for s in series})
    wanted = {}
    for s in series:
        subscription, meter = subscriptions.get(s.subscription_id), meters.get(s.meter)
        if subscription is not None and meter is not None:
            wanted[s.key] = (subscription, meter, price_wanted(subscription, meter, s.period_start))
    book = await cache.price_book(uow, [w for _, _, w in wanted.values()])
    priced: dict[SeriesKey, tuple[Meter, PricedUsage]] = {}
    reasons: list[str] = []
    for s in series:
        if s.key not in wanted:
            reasons.append(f"{s.subscription_id}/{s.meter}: subscription or meter not known")
            continue
        subscription, meter, want = wanted[s.key]
        usage = book.resolve(want, _months(subscription))
        if isinstance(usage, Unpriced):
            reasons.append(f"{s.subscription_id}/{s.meter}: {usage.reason}")
        else:
            priced[s.key] = (meter, usage)
    if reasons:
        log.warning("usage.periods_unpriced", count=len(reasons), first=reasons[0])
    return priced


def _months(subscription: Subscription) -> int | None:
    return term_months(subscription.term_start, subscription.term_end)


async def _rate(
    uow: RatingUnitOfWork, series: UsageSeries, meter: Meter, usage: PricedUsage, now: datetime
) -> RatedUsage:
    """Rate one claimed period: prepaid units first, then the charge, then prepaid money."""
    spec = usage.spec
    reference = series_reference(series)
    units = prepaid_units_wanted(spec, series.quantity)
    prepaid_units = ZERO
    if units > 0:
        drawn = await _draw_down(uow, series, spec.currency, units, ZERO, units_reference(reference))
        prepaid_units = min(max(ZERO, drawn.units), units)
    charge = charge_for(spec, series.quantity, prepaid_units)
    due = amount_due(charge)
    prepaid_money = ZERO
    if due > 0:
        drawn = await _draw_down(uow, series, spec.currency, ZERO, due, money_reference(reference))
        prepaid_money = min(max(ZERO, drawn.amount), due)
    return rated_usage(
        rated_usage_id=new_id("ru"),
        series=series,
        meter=meter,
        price=usage.price,
        spec=spec,
        charge=charge,
        prepaid_quantity=prepaid_units,
        prepaid_amount=prepaid_money,
        rated_at=now,
    )


async def _draw_down(
    uow: RatingUnitOfWork, series: UsageSeries, currency: str, units: Decimal, amount: Decimal, reference: str
) -> PrepaidAmounts:
    # Dated on the period's last day: the usage happened in the period, whenever it closes.
    return await uow.prepaid.draw_down(
        uow,
        subscription_id=series.subscription_id,
        account_id=series.account_id,
        meter=series.meter,
        currency=currency,
        units=units,
        amount=amount,
        reference=reference,
        on=series.period_end - timedelta(days=1),
    )


# ----- reads -----------------------------------------------------------------------------------


async def get_rated_usage(*, uow: RatingUnitOfWork, rated_usage_id: str) -> RatedUsage:
    """One rated period, or NotFound (404)."""
    return await uow.rated_usage.get(rated_usage_id)


async def list_rated_usage(
    *,
    uow: RatingUnitOfWork,
    page: PageRequest,
    subscription_id: str | None = None,
    account_id: str | None = None,
    period_start: date | None = None,
) -> Page[RatedUsage]:
    """Rated periods in rating order, by subscription, account or period start."""
    return await uow.rated_usage.page(
        page, subscription_id=subscription_id, account_id=account_id, period_start=period_start
    )


# ----- the running charge of the open periods ---------------------------------------------------


@dataclass(frozen=True)
class RunningCharge:
    """An open period of a subscription's meter priced as if it closed now (what the close would
    bill so far); the usage view (`GET /v1/subscriptions/{id}/usage`) shows it on the period."""

    currency: str
    price_id: str | None
    price_version: int | None
    pricing_model: str | None
    included_quantity: Decimal
    included_remaining: Decimal
    prepaid_quantity: Decimal
    """Units the prepaid units balances would cover so far."""
    prepaid_units_available: Decimal
    prepaid_amount_available: Decimal
    """What the prepaid balances could still give on the period's last day (units, money)."""
    billable_quantity: Decimal
    tiers: tuple[TierLine, ...]
    charge_amount: Decimal | None
    """The usage line so far, rounded (None while no price is known)."""
    minimum_shortfall: Decimal | None
    unpriced_reason: str | None = None


async def running_charges(
    uow: RatingUnitOfWork, subscription: Subscription, periods: Sequence[UsageSeries]
) -> list[RunningCharge]:
    """The running charge of each of a subscription's open periods, in their order: the price, the
    charge so far (rounded), tiers, included units left, minimum shortfall and prepaid available,
    each period priced as if it closed now; an unpriced one says why."""
    cache = uow.price_cache
    meters = await cache.meters(uow, {s.meter for s in periods})
    wanted = {
        s.key: price_wanted(subscription, meters[s.meter], s.period_start)
        for s in periods
        if s.meter in meters
    }
    book = await cache.price_book(uow, list(wanted.values()))
    charges = []
    for series in periods:
        want = wanted.get(series.key)
        usage = book.resolve(want, _months(subscription)) if want is not None else Unpriced("meter not known")
        currency = subscription.currency if isinstance(usage, Unpriced) else usage.spec.currency
        available = await uow.prepaid.available(
            uow,
            subscription_id=series.subscription_id,
            account_id=series.account_id,
            meter=series.meter,
            currency=currency,
            on=series.period_end - timedelta(days=1),
        )
        if isinstance(usage, Unpriced):
            charges.append(_unpriced_charge(series, currency, available, usage))
        else:
            charges.append(_running_charge(series, usage, available))
    return charges


def _running_charge(series: UsageSeries, usage: PricedUsage, available: PrepaidAmounts) -> RunningCharge:
    spec = usage.spec
    priced_quantity = quantity_after_prepaid(spec, series.quantity, available.units)
    charge = charge_for(spec, priced_quantity)
    included = Decimal(spec.included_quantity)
    return RunningCharge(
        currency=spec.currency,
        price_id=usage.price.price_id,
        price_version=usage.price.version,
        pricing_model=str(spec.model),
        included_quantity=included,
        included_remaining=max(ZERO, included - series.quantity),
        prepaid_quantity=series.quantity - priced_quantity,
        prepaid_units_available=max(ZERO, available.units),
        prepaid_amount_available=max(ZERO, available.amount),
        billable_quantity=charge.billable_quantity,
        tiers=charge.breakdown,
        charge_amount=charge.rounded_amount,
        minimum_shortfall=charge.minimum_shortfall,
    )


def _unpriced_charge(
    series: UsageSeries, currency: str, available: PrepaidAmounts, usage: Unpriced
) -> RunningCharge:
    return RunningCharge(
        currency=currency,
        price_id=None,
        price_version=None,
        pricing_model=None,
        included_quantity=ZERO,
        included_remaining=ZERO,
        prepaid_quantity=ZERO,
        prepaid_units_available=max(ZERO, available.units),
        prepaid_amount_available=max(ZERO, available.amount),
        billable_quantity=series.quantity,
        tiers=(),
        charge_amount=None,
        minimum_shortfall=None,
        unpriced_reason=usage.reason,
    )
