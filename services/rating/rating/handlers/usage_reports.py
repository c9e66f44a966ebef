"""What is read about usage: the review queue, the summary for dashboards, a subscription's open
periods; and the purge of event rows past their retention.

Retention (docs/rating.md): an event row is the dedup of both doors, so it is kept until
USAGE_RETENTION_DAYS after the end of its period, and only once that period is rated; then
`purge_usage` deletes it with its period's distinct values (the aggregate stays: it is what was
rated). A filtered event is kept as long after its own date. Unmatched events are never purged:
they wait in the review queue.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Literal

from libs.platform.errors import NotFound
from libs.platform.pagination import PageRequest, encode_cursor
from rating.domain.meters import Aggregation, Meter
from rating.domain.usage import AggregateState, UsageEvent
from rating.schemas.usage_reports import (
    MeterUsagePeriod,
    SubscriptionUsage,
    UnmatchedPage,
    UsageSummary,
    UsageSummaryGroup,
    unmatched_public,
)

if TYPE_CHECKING:
    from rating.handlers.unit_of_work import RatingUnitOfWork

MAX_SUMMARY_GROUPS = 5_000
GroupBy = Literal["day", "month"]


@dataclass(frozen=True, slots=True)
class UnmatchedSelection:
    """Which unmatched events: all, or one account's, subscription's or meter's."""

    account_id: str | None = None
    subscription_id: str | None = None
    meter: str | None = None


@dataclass(frozen=True, slots=True)
class SummaryQuery:
    """What a dashboard asks: usage over [start, end) by meter, day or month, and a property's values."""

    start: date
    end: date
    group_by: GroupBy
    meter: str | None = None
    subscription_id: str | None = None
    account_id: str | None = None
    property: str | None = None


@dataclass(frozen=True, slots=True)
class SummaryGroup:
    """One group's counted events: how many, the sum and the largest of their quantities."""

    meter: str
    bucket: str
    """The day ("2026-07-01") or month ("2026-07") of the events' local date."""
    value: str | None
    """The grouping property's value as text, None when the events do not carry it."""
    event_count: int
    total: Decimal
    largest: Decimal
    late_count: int
    """Events of an already-rated period counted in a later one (late)."""


GroupKey = tuple[str, str | None]
"""(bucket, property value): a group of one meter."""


@dataclass(frozen=True, slots=True)
class OpenAggregate:
    """A subscription's meter over a period not rated yet."""

    meter: str
    period_start: date
    period_end: date
    state: AggregateState
    updated_at: datetime | None


@dataclass(frozen=True, slots=True)
class PurgeCount:
    """What a purge deleted."""

    events: int
    distinct_values: int


class UsageReports(abc.ABC):
    """The reads of usage (review queue, summary, open periods) and the purge."""

    @abc.abstractmethod
    async def unmatched(
        self, selection: UnmatchedSelection, *, after: tuple[datetime, str] | None, limit: int
    ) -> list[UsageEvent]:
        """Unmatched events in the order they arrived (received_at, event_id), after a position."""

    @abc.abstractmethod
    async def summary(self, query: SummaryQuery, *, limit: int) -> list[SummaryGroup]:
        """Counted and late usage grouped by meter, day or month and property value (at most
        `limit` groups, ordered by meter, bucket and value)."""

    @abc.abstractmethod
    async def summary_distinct(self, query: SummaryQuery, meter: str, counted: str) -> dict[GroupKey, int]:
        """Per group of one meter, the number of distinct values of the property `counted`."""

    @abc.abstractmethod
    async def summary_latest(self, query: SummaryQuery, meter: str) -> dict[GroupKey, Decimal]:
        """Per group of one meter, the quantity of its event with the latest timestamp."""

    @abc.abstractmethod
    async def open_aggregates(self, subscription_id: str) -> list[OpenAggregate]:
        """The subscription's aggregates whose period is not rated, by meter and period."""

    @abc.abstractmethod
    async def subscription_known(self, subscription_id: str) -> tuple[str, str] | None:
        """(account id, product id) of a subscription in the read model, if it is there."""

    @abc.abstractmethod
    async def purge(self, *, periods_ended_before: date, filtered_before: datetime) -> PurgeCount:
        """Delete events of rated periods that ended before the date, and old filtered events."""


def review_position(after: str | None) -> tuple[datetime, str] | None:
    """The queue position a review cursor names (its event's arrival and id), if it names one."""
    if not after or "|" not in after:
        return None
    stamp, _, event_id = after.partition("|")
    try:
        received = datetime.fromisoformat(stamp)
    except ValueError:
        return None
    return (received if received.tzinfo else received.replace(tzinfo=UTC)), event_id


def review_cursor(event: UsageEvent) -> str:
    """The cursor of the position just after an event of the queue."""
    assert event.received_at is not None
    return encode_cursor(f"{event.received_at.isoformat()}|{event.event_id}")


async def list_unmatched(
    *, uow: RatingUnitOfWork, page: PageRequest, selection: UnmatchedSelection
) -> UnmatchedPage:
    """A page of the review queue, oldest first."""
    found = await uow.usage.unmatched(selection, after=review_position(page.after), limit=page.limit + 1)
    has_more = len(found) > page.limit
    shown = found[: page.limit]
    return UnmatchedPage(
        data=[unmatched_public(e) for e in shown],
        next_cursor=review_cursor(shown[-1]) if has_more and shown else None,
        has_more=has_more,
    )


async def usage_summary(*, uow: RatingUnitOfWork, query: SummaryQuery) -> UsageSummary:
    """Usage for dashboards: each group's quantity by its meter's aggregation, and its event count."""
    groups = await uow.usage.summary(query, limit=MAX_SUMMARY_GROUPS + 1)
    truncated = len(groups) > MAX_SUMMARY_GROUPS
    groups = groups[:MAX_SUMMARY_GROUPS]
    meters = await uow.meters.by_codes({g.meter for g in groups})
    by_meter: dict[str, dict[GroupKey, int] | dict[GroupKey, Decimal]] = {}
    for code, meter in meters.items():
        if meter.aggregation is Aggregation.UNIQUE_COUNT and meter.property is not None:
            by_meter[code] = await uow.usage.summary_distinct(query, code, meter.property)
        elif meter.aggregation is Aggregation.LATEST:
            by_meter[code] = await uow.usage.summary_latest(query, code)
    return UsageSummary(
        start=query.start,
        end=query.end,
        group_by=query.group_by,
        property=query.property,
        groups=[
            UsageSummaryGroup(
                meter=g.meter,
                period=g.bucket,
                property_value=g.value,
                quantity=_quantity(g, meters.get(g.meter), by_meter.get(g.meter)),
                event_count=g.event_count,
                late_count=g.late_count,
            )
            for g in groups
        ],
        truncated=truncated,
    )


def _quantity(
    group: SummaryGroup, meter: Meter | None, found: Mapping[GroupKey, int | Decimal] | None
) -> Decimal:
    """A group's quantity by its meter's aggregation (a sum for a meter no longer known)."""
    aggregation = meter.aggregation if meter is not None else Aggregation.SUM
    if aggregation is Aggregation.COUNT:
        return Decimal(group.event_count)
    if aggregation is Aggregation.MAX:
        return group.largest
    if found is not None:
        return Decimal(found.get((group.bucket, group.value), 0))
    return group.total


async def subscription_usage(*, uow: RatingUnitOfWork, subscription_id: str) -> SubscriptionUsage:
    """The open periods of a subscription's meters: quantity so far, events, late events (404 if unknown)."""
    known = await uow.usage.subscription_known(subscription_id)
    open_periods = await uow.usage.open_aggregates(subscription_id)
    if known is None and not open_periods:
        raise NotFound("subscription", subscription_id)
    meters = await uow.meters.by_codes({a.meter for a in open_periods})
    return SubscriptionUsage(
        subscription_id=subscription_id,
        account_id=known[0] if known else None,
        as_of=uow.clock.now(),
        periods=[
            MeterUsagePeriod(
                meter=a.meter,
                unit_of_measure=meters[a.meter].unit_of_measure if a.meter in meters else None,
                aggregation=meters[a.meter].aggregation if a.meter in meters else None,
                period_start=a.period_start,
                period_end=a.period_end,
                quantity=a.state.quantity,
                event_count=a.state.event_count,
                late_quantity=a.state.late_quantity,
                late_count=a.state.late_count,
                latest_event_at=a.state.latest_at,
                updated_at=a.updated_at,
            )
            for a in open_periods
        ],
    )


async def purge_usage(*, uow: RatingUnitOfWork, retention_days: int) -> PurgeCount:
    """Delete event rows past their retention (see the module); commits."""
    today = uow.clock.now().astimezone(UTC).date()
    cutoff = today - timedelta(days=retention_days)
    purged = await uow.usage.purge(
        periods_ended_before=cutoff, filtered_before=datetime.combine(cutoff, time(), tzinfo=UTC)
    )
    uow.audit(
        "usage.purged",
        "usage_events",
        f"before-{cutoff.isoformat()}",
        {
            "retention_days": retention_days,
            "events": purged.events,
            "distinct_values": purged.distinct_values,
        },
    )
    await uow.commit()
    return purged
