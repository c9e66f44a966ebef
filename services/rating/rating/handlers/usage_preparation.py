"""A usage batch's read-only step: its events validated against their meters and guided to
their subscription and period, before its write transaction starts (issue 8).

On SQLite every write transaction holds the database's one write lock from its first statement
(BEGIN IMMEDIATE). Validating a batch of 10,000 events and guiding them took about a fifth of a
batch's time, all of it inside that lock, although none of it writes: two rating processes on
one database file could not overlap it. `prepare_usage` does it on a read-only unit of work (on
SQLite a deferred BEGIN that reads beside the writer, WAL) and hands `record_usage` a
`PreparedUsage`; the write transaction then keeps only what must be consistent with its writes.

What the preparation read still has to be true when the batch writes: in its own transaction,
`PreparedUsage.holds_in` reads the batch's meters again (one query) and the read model's
generation (one row, migration 0010's counter, bumped by any change of accounts or
subscriptions). When both are as prepared, the placements are the ones the write transaction
would have worked out itself; when either moved — or a store cannot tell the generation —
the batch is validated and guided again inside the write transaction, from its records.
Late moves (a period already rated) depend on the aggregates and stay inside it too.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from libs.contracts.usage import UsageRecord
from libs.platform.errors import DomainError, FieldError
from rating.domain.meters import Aggregation, Meter
from rating.domain.usage import (
    EARLIEST_USAGE,
    Placement,
    UsageEvent,
    UsageGuide,
    UsageStatus,
    timestamp_problem,
)
from rating.handlers.usage_guides import load_guide
from rating.schemas.usage import ReceivedBatch, Refusal, UsageFields, receive_events

if TYPE_CHECKING:
    from rating.handlers.unit_of_work import RatingUnitOfWork


@dataclass(frozen=True)
class IngestionRules:
    """Settings the ingestion applies (from RatingSettings)."""

    max_future: timedelta = timedelta(minutes=60)


@dataclass
class Stopwatch:
    """Times of the stages of one batch, in seconds (the benchmark prints them); off by default."""

    stages: dict[str, float] = field(default_factory=dict)
    _last: float = field(default_factory=time.perf_counter)

    def lap(self, stage: str) -> None:
        """Charge the time since the last lap to `stage`."""
        now = time.perf_counter()
        self.stages[stage] = self.stages.get(stage, 0.0) + now - self._last
        self._last = now


class NoStopwatch(Stopwatch):
    """A stopwatch that times nothing."""

    def lap(self, stage: str) -> None:
        """Nothing: timing is off."""


@dataclass
class PreparedUsage:
    """A batch validated and guided (see the module); recorded once by `record_usage`."""

    received: ReceivedBatch
    codes: frozenset[str]
    """The meter codes the batch's records name (the meters read again in the write transaction)."""
    meters: dict[str, Meter]
    refusals: list[Refusal]
    accepted: list[UsageEvent]
    """The valid events, first of each id, filtered ones marked, the others guided."""
    duplicates: int
    guide: UsageGuide
    read_model: int | None
    """The read model's generation the events were guided at (None: a store that cannot tell)."""

    async def holds_in(self, uow: RatingUnitOfWork) -> bool:
        """Whether the meters and the read model are still as prepared, read in `uow`'s transaction."""
        if self.read_model is None:
            return False
        if await uow.meters.by_codes(self.codes) != self.meters:
            return False
        return await uow.usage.read_model_generation() == self.read_model


async def prepare_usage(
    *,
    uow: RatingUnitOfWork,
    events: ReceivedBatch | Sequence[UsageRecord | Mapping[str, Any]],
    rules: IngestionRules = IngestionRules(),
    stopwatch: Stopwatch | None = None,
) -> PreparedUsage:
    """Validate a batch against its meters and guide its events (reads only: see the module)."""
    watch = stopwatch or NoStopwatch()
    received = events if isinstance(events, ReceivedBatch) else receive_events(events)
    watch.lap("validate")
    codes = frozenset(record.meter for _, record in received.records)
    meters = await uow.meters.by_codes(codes)
    refusals = list(received.refusals)
    accepted, duplicates = _accept(received, meters, refusals, now=uow.clock.now(), rules=rules)
    watch.lap("validate")
    guide, generation = await place_events(uow, accepted, meters)
    watch.lap("guide")
    return PreparedUsage(received, codes, meters, refusals, accepted, duplicates, guide, generation)


async def place_events(
    uow: RatingUnitOfWork, events: Sequence[UsageEvent], meters: Mapping[str, Meter]
) -> tuple[UsageGuide, int | None]:
    """Place every non-filtered event (subscription, local date, period); the guide used and
    the read-model generation it is of. Late moves are the write transaction's."""
    to_guide = [event for event in events if event.status is not UsageStatus.FILTERED]
    guide, generation = await load_guide(uow, to_guide, meters)
    products = {code: meter.product_id for code, meter in meters.items()}
    place = guide.place
    try:
        for event in to_guide:
            event.place(
                place(
                    subscription_id=event.subscription_id,
                    account_id=event.account_id,
                    product_id=products[event.meter],
                    occurred_at=event.occurred_at,
                )
            )
    except (ValueError, DomainError):
        # Rare: the batch is guided again event by event, so that only the events a read-model
        # row cannot guide wait in the review queue.
        for event in to_guide:
            event.place(_placement(guide, event, products[event.meter]))
    return guide, generation


def _placement(guide: UsageGuide, event: UsageEvent, product_id: str) -> Placement:
    try:
        return guide.place(
            subscription_id=event.subscription_id,
            account_id=event.account_id,
            product_id=product_id,
            occurred_at=event.occurred_at,
        )
    except (ValueError, DomainError) as exc:
        # A read-model row guiding cannot use (an unknown time zone, say): the event waits in the
        # review queue rather than failing the batch.
        reason = exc.detail if isinstance(exc, DomainError) else str(exc)
        return Placement(UsageStatus.UNMATCHED, event.subscription_id, event.account_id, reason=reason[:200])


def _accept(
    received: ReceivedBatch,
    meters: Mapping[str, Meter],
    refusals: list[Refusal],
    *,
    now: datetime,
    rules: IngestionRules,
) -> tuple[list[UsageEvent], int]:
    """The batch's valid events, first of each id, filtered ones marked; refusals appended; duplicates."""
    accepted: list[UsageEvent] = []
    seen: set[str] = set()
    duplicates = 0
    latest_allowed = now + rules.max_future
    # Per meter, once: None when its events need the full checks (unknown, inactive, unique
    # count), else whether it has a filter to apply.
    filters: dict[str, bool | None] = {}
    for code, meter in meters.items():
        usual = meter.active and meter.aggregation is not Aggregation.UNIQUE_COUNT
        filters[code] = bool(meter.filter) if usual else None
    filtered = UsageStatus.FILTERED
    for index, record in received.records:
        code = record.meter
        has_filter = filters.get(code)
        timestamp = record.timestamp
        # The common case in one cheap test; the reasons are worked out only for a refusal.
        if has_filter is None or not EARLIEST_USAGE <= timestamp <= latest_allowed:
            errors = _state_problems(record, meters.get(code), now=now, rules=rules)
            if errors:
                refusals.append(Refusal(index, record.event_id, errors))
                continue
        event_id = record.event_id
        if event_id in seen:
            duplicates += 1
            continue
        seen.add(event_id)
        properties = record.properties
        event = UsageEvent(
            event_id, code, record.quantity, timestamp, properties, record.subscription_id, record.account_id
        )
        if (has_filter or has_filter is None) and not meters[code].admits(properties):
            event.status = filtered
        accepted.append(event)
    return accepted, duplicates


def _state_problems(
    record: UsageFields, meter: Meter | None, *, now: datetime, rules: IngestionRules
) -> list[FieldError]:
    """Why an otherwise valid record is refused: its meter, its timestamp, its distinct value."""
    errors: list[FieldError] = []
    if meter is None:
        errors.append(FieldError("meter", f"no meter has the code {record.meter!r}", "unknown_meter"))
    elif not meter.active:
        errors.append(FieldError("meter", f"meter {record.meter!r} is inactive", "inactive_meter"))
    elif (
        meter.aggregation is Aggregation.UNIQUE_COUNT
        and meter.admits(record.properties)
        and meter.distinct_value(record.properties) is None
    ):
        errors.append(
            FieldError(
                f"properties.{meter.property}",
                f"meter {meter.code!r} counts distinct values of this property: it is required",
                "missing",
            )
        )
    problem = timestamp_problem(record.timestamp, now=now, max_future=rules.max_future)
    if problem is not None:
        errors.append(problem)
    return errors
