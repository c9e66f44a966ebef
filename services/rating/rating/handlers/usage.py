"""Usage ingestion: one handler for every door (REST batch, `usage.raw`, files), working in sets.

`record_usage` takes a batch — raw dicts, `UsageRecord`s, a `ReceivedBatch` the REST door
parsed, or a `PreparedUsage` it validated and guided on a read-only unit of work before
(`rating.handlers.usage_preparation`: steps 1-2 outside the write lock, checked again in the
write transaction) — and, in one transaction of its unit of work (docs/rating.md "Ingestion"):

1. refuses, one by one with reasons, events whose meter is unknown or inactive, whose
   timestamp is too far ahead (USAGE_MAX_FUTURE_MINUTES) or before 2000, or that a unique-count
   meter cannot count (no value of its property); the valid ones are kept;
2. keeps the first of several events with one `event_id` (the others are duplicates), marks
   events that do not pass their meter's filter `filtered`, and guides the others to their
   subscription and period (`rating.domain.usage.UsageGuide`, kept per read-model generation
   by `rating.handlers.usage_guides`: no read-model query in the steady state); the aggregates
   they touch are read in one query (locked on PostgreSQL), and an event whose period is
   already rated moves to the next open one, `late`;
3. inserts the events whose `event_id` is not stored yet (one statement: the primary key
   decides), adds the new distinct values of unique-count meters (one statement), folds the
   inserted events into their aggregates and writes them back (one statement), records one
   audit entry for the batch and commits.

`reprocess_unmatched` guides stored `unmatched` events again with the same steps 2-3 (the rows
are updated instead of inserted). Nothing is half-applied: any failure rolls the batch back.
"""

from __future__ import annotations

import abc
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from libs.contracts.usage import UsageRecord
from libs.platform.ids import new_id
from libs.platform.memory import gc_paused
from libs.platform.pagination import decode_cursor
from rating.domain.usage import (
    COUNTING,
    MAX_LATE_PERIODS,
    AccountTerms,
    AggregateKey,
    Placement,
    SubscriptionTerms,
    UsageEvent,
    UsageGuide,
    UsageSource,
    UsageStatus,
)
from rating.handlers.usage_aggregates import AggregateChange, AggregateReads, StoredAggregate, count_events
from rating.handlers.usage_preparation import (
    IngestionRules,
    NoStopwatch,
    PreparedUsage,
    Stopwatch,
    place_events,
    prepare_usage,
)
from rating.handlers.usage_reports import UnmatchedSelection, UsageReports, review_cursor, review_position
from rating.schemas.usage import MAX_REPORTED_REFUSALS, ReceivedBatch, UsageReceipt, refusal_public
from rating.schemas.usage_reports import ReprocessRequest, ReprocessResult

if TYPE_CHECKING:
    from rating.handlers.unit_of_work import RatingUnitOfWork


class UsageRepository(UsageReports):
    """Usage events, their aggregates and distinct values, and the read model guiding needs.

    Every method works on a set in one statement; on PostgreSQL `aggregates(lock=True)` locks
    the rows it reads until the transaction ends (a period close that locks them too either
    waits for this batch or has already marked the period rated).
    """

    async def read_model_generation(self) -> int | None:
        """The read model's generation (bumped by any change of accounts or subscriptions), or
        None when this store cannot tell: each batch then loads its own guide."""
        return None

    async def aggregate_generation(self, *, lock: bool) -> int | None:
        """The aggregates' generation (a batch's token, or bumped by any other change of them;
        locked on PostgreSQL when `lock`), or None when this store cannot tell: each batch then
        reads its aggregates (`rating.handlers.usage_aggregates`)."""
        return None

    async def stamp_aggregate_generation(self, token: int) -> None:
        """Set the aggregates' generation to this batch's token (in its transaction)."""

    @abc.abstractmethod
    async def accounts(self, account_ids: Collection[str]) -> dict[str, AccountTerms]:
        """The accounts of these ids that rating knows, by id."""

    @abc.abstractmethod
    async def subscriptions(self, subscription_ids: Collection[str]) -> dict[str, SubscriptionTerms]:
        """The subscriptions of these ids that rating knows, by id."""

    @abc.abstractmethod
    async def account_subscriptions(
        self, account_ids: Collection[str], product_ids: Collection[str]
    ) -> list[SubscriptionTerms]:
        """The subscriptions of these accounts to these products."""

    @abc.abstractmethod
    async def aggregates(
        self, keys: Collection[AggregateKey], *, lock: bool
    ) -> dict[AggregateKey, StoredAggregate]:
        """The aggregate rows of these keys that exist."""

    @abc.abstractmethod
    async def insert_events(self, events: Sequence[UsageEvent], *, received_at: datetime) -> set[str]:
        """Store the events whose `event_id` is new; the ids stored (the others were there already)."""

    @abc.abstractmethod
    async def mark_guided(self, events: Sequence[UsageEvent]) -> set[str]:
        """Give stored `unmatched` events their new placement; the ids that were still unmatched."""

    @abc.abstractmethod
    async def add_distinct_values(
        self, values: Collection[tuple[AggregateKey, str]]
    ) -> Counter[AggregateKey]:
        """Record distinct property values per aggregate; how many were new, per aggregate."""

    @abc.abstractmethod
    async def write_aggregates(
        self, changes: Sequence[AggregateChange], *, now: datetime
    ) -> set[AggregateKey]:
        """Write new aggregate states: rows that existed are updated, the others inserted.

        Returns the keys of rows to insert that another transaction inserted first (PostgreSQL
        only); they are left untouched, to be read again (locked) and folded once more.
        """


@dataclass
class _Tally:
    counted: int = 0
    late: int = 0
    unmatched: int = 0
    filtered: int = 0

    def add(self, events: Collection[UsageEvent]) -> None:
        for event in events:
            if event.status is UsageStatus.COUNTED:
                self.counted += 1
            elif event.status is UsageStatus.LATE:
                self.late += 1
            elif event.status is UsageStatus.UNMATCHED:
                self.unmatched += 1
            else:
                self.filtered += 1


async def record_usage(
    *,
    uow: RatingUnitOfWork,
    events: PreparedUsage | ReceivedBatch | Sequence[UsageRecord | Mapping[str, Any]],
    source: UsageSource,
    rules: IngestionRules = IngestionRules(),
    load_id: str | None = None,
    stopwatch: Stopwatch | None = None,
) -> UsageReceipt:
    """Store a batch of usage events exactly once and count them (see the module); commits."""
    watch = stopwatch or NoStopwatch()
    with gc_paused():  # the batch's objects die by reference counting (libs/platform/memory.py)
        receipt = await stage_usage(
            uow=uow, events=events, source=source, rules=rules, load_id=load_id, stopwatch=watch
        )
        await uow.commit()
    watch.lap("commit")
    return receipt


async def stage_usage(
    *,
    uow: RatingUnitOfWork,
    events: PreparedUsage | ReceivedBatch | Sequence[UsageRecord | Mapping[str, Any]],
    source: UsageSource,
    rules: IngestionRules = IngestionRules(),
    load_id: str | None = None,
    stopwatch: Stopwatch | None = None,
) -> UsageReceipt:
    """`record_usage` without the commit: the caller commits it with changes of its own (a file
    load commits each chunk's events with the load's progress)."""
    watch = stopwatch or NoStopwatch()
    prepared = events if isinstance(events, PreparedUsage) else None
    if prepared is not None and await prepared.holds_in(uow):
        watch.lap("recheck")
    else:
        # Not prepared, or prepared on meters or a read model that changed since: steps 1-2 here.
        batch = prepared.received if prepared is not None else events
        assert not isinstance(batch, PreparedUsage)
        prepared = await prepare_usage(uow=uow, events=batch, rules=rules, stopwatch=watch)
    accepted, refusals, duplicates = prepared.accepted, prepared.refusals, prepared.duplicates
    for event in accepted:
        event.source = source
        event.load_id = load_id
    reads = await AggregateReads.start(uow)
    counted = [e for e in accepted if e.status is UsageStatus.COUNTED]
    stored = await _move_late(reads, prepared.guide, counted)
    watch.lap("reads")
    stored_ids = await uow.usage.insert_events(accepted, received_at=uow.clock.now())
    watch.lap("insert")
    inserted = [event for event in accepted if event.event_id in stored_ids]
    duplicates += len(accepted) - len(inserted)
    await count_events(uow, inserted, prepared.meters, stored, reads)
    watch.lap("aggregate")
    tally = _Tally()
    tally.add(inserted)
    refusals.sort(key=lambda r: r.index)
    receipt = UsageReceipt(
        batch_id=new_id("ub"),
        received=prepared.received.size,
        accepted=len(inserted),
        counted=tally.counted,
        late=tally.late,
        unmatched=tally.unmatched,
        filtered=tally.filtered,
        duplicates=duplicates,
        refused=len(refusals),
        refusals=[refusal_public(r) for r in refusals[:MAX_REPORTED_REFUSALS]],
    )
    uow.audit(
        "usage.recorded",
        "usage_batch",
        receipt.batch_id,
        {"source": source.value, "load_id": load_id, **receipt.model_dump(exclude={"batch_id", "refusals"})},
    )
    return receipt


async def reprocess_unmatched(*, uow: RatingUnitOfWork, request: ReprocessRequest) -> ReprocessResult:
    """Guide unmatched events again (subscriptions may exist now): counted ones leave the queue; commits."""
    selection = UnmatchedSelection(request.account_id, request.subscription_id, request.meter)
    after = review_position(decode_cursor(request.cursor)) if request.cursor else None
    events = await uow.usage.unmatched(selection, after=after, limit=request.limit + 1)
    has_more = len(events) > request.limit
    events = events[: request.limit]
    meters = await uow.meters.by_codes({event.meter for event in events})
    known = [event for event in events if event.meter in meters]
    guide, _ = await place_events(uow, known, meters)
    reads = await AggregateReads.start(uow)
    stored = await _move_late(reads, guide, [e for e in known if e.status is UsageStatus.COUNTED])
    guided = [event for event in known if event.status in COUNTING]
    flipped = await uow.usage.mark_guided(guided)
    moved = [event for event in guided if event.event_id in flipped]
    await count_events(uow, moved, meters, stored, reads)
    tally = _Tally()
    tally.add(moved)
    result = ReprocessResult(
        examined=len(events),
        counted=tally.counted,
        late=tally.late,
        unmatched=len(events) - len(moved),
        next_cursor=review_cursor(events[-1]) if has_more and events else None,
        has_more=has_more,
    )
    uow.audit("usage.reprocessed", "usage_review", new_id("ur"), result.model_dump(exclude={"next_cursor"}))
    await uow.commit()
    return result


async def _move_late(
    reads: AggregateReads, guide: UsageGuide, counted: Sequence[UsageEvent]
) -> dict[AggregateKey, StoredAggregate]:
    """Move events whose period is rated to the next open one (late); the aggregates read."""
    stored = await reads.read({event.key for event in counted})
    if not any(found.rated for found in stored.values()):
        return stored  # the common case: every period touched is open
    pending = list(counted)
    for _ in range(MAX_LATE_PERIODS):
        pending = [e for e in pending if (found := stored.get(e.key)) is not None and found.rated]
        if not pending:
            return stored
        for event in pending:
            assert event.subscription_id is not None and event.period is not None
            event.move_late(guide.next_period(event.subscription_id, event.period))
        unseen = {event.key for event in pending} - stored.keys()
        if unseen:
            stored.update(await reads.read(unseen))
    for event in pending:
        event.place(
            Placement(UsageStatus.UNMATCHED, event.subscription_id, event.account_id, reason="no open period")
        )
    return stored
