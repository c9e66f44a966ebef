"""A batch's aggregates: folded in one pass (`count_events`) and kept in memory while nobody
else touched the table.

A steady batch of 10,000 events over 10,000 subscriptions read 10,000 aggregate rows by key,
only to fold the batch into them and write them back: about a third of its time. A process
keeps what it wrote instead. Its memory is valid under one condition, checked in each batch's
own transaction with one row (`rating_usage_generation`, migration 0011):

- a batch that writes aggregates stamps that row with a random token of its own and keeps the
  token with the rows it wrote (and those it read);
- triggers bump the row on any other change of `usage_aggregates` — another rating process
  (which stamps its own token), the period close, an operator;
- a later batch reads the row (locked on PostgreSQL: taken before any aggregate row, by the
  period close too, so that the two never wait for each other crosswise): the kept token
  there means the kept rows are the table's; anything else, the memory is dropped and the
  batch reads the rows it needs, as before. A batch that rolled back left the row as it was
  before it, never its own token, so its unkept writes are dropped the same way.

A repository that cannot tell (the unit-test fake) answers None: every batch reads its rows.
"""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final

from libs.platform.errors import RetryableError
from rating.domain.meters import Aggregation
from rating.domain.usage import COUNTING, AggregateKey, AggregateState, UsageEvent, UsageStatus, fold

if TYPE_CHECKING:
    from rating.domain.meters import Meter
    from rating.handlers.unit_of_work import RatingUnitOfWork

MAX_KEPT: Final = 500_000
"""Aggregates kept before the memory is started afresh (memory stays flat)."""


@dataclass
class AggregateMemory:
    """The aggregates of the batches of one process, as of the token it last stamped."""

    token: int | None = None
    rows: dict[AggregateKey, StoredAggregate] = field(default_factory=dict)

    def valid_at(self, generation: int | None) -> bool:
        """Whether the kept rows are the table's at `generation`; forgets them when not."""
        if generation is not None and generation == self.token and len(self.rows) <= MAX_KEPT:
            return True
        self.token = None
        self.rows = {}
        return False


@dataclass
class AggregateReads:
    """One batch's access to the aggregates: through the memory when it is valid, else the store."""

    uow: RatingUnitOfWork
    memory: AggregateMemory | None
    """None when the memory cannot be used for this batch (no generation, or not valid)."""

    @classmethod
    async def start(cls, uow: RatingUnitOfWork) -> AggregateReads:
        """Lock the generation (PostgreSQL) and judge the process's memory by it."""
        generation = await uow.usage.aggregate_generation(lock=True)
        memory = uow.aggregate_memory
        valid = memory.valid_at(generation)
        # At an unknown generation nothing may be kept: a batch that stamps its token makes
        # the memory valid from then on.
        return cls(uow, memory if valid or generation is not None else None)

    async def read(self, keys: Collection[AggregateKey]) -> dict[AggregateKey, StoredAggregate]:
        """The aggregate rows of these keys that exist (locked on PostgreSQL when read)."""
        if not keys:
            return {}
        if self.memory is None:
            return await self.uow.usage.aggregates(keys, lock=True)
        kept = self.memory.rows.get
        found: dict[AggregateKey, StoredAggregate] = {}
        missing: list[AggregateKey] = []
        for key in keys:
            row = kept(key)
            if row is None:
                missing.append(key)
            else:
                found[key] = row
        if missing:
            read = await self.uow.usage.aggregates(missing, lock=True)
            found.update(read)
            if self.memory.token is not None:
                self.memory.rows.update(read)  # as the table holds them at the kept token
        return found

    async def wrote(self, written: Mapping[AggregateKey, StoredAggregate]) -> None:
        """Stamp the batch's token and keep what it wrote (called after the write, in its transaction)."""
        if self.memory is None:
            return
        token = secrets.randbits(62)
        await self.uow.usage.stamp_aggregate_generation(token)
        if self.memory.token is None:
            # The memory was not valid: only what this batch read or wrote is known now.
            self.memory.rows = {}
        self.memory.rows.update(written)
        self.memory.token = token

    def forget(self) -> None:
        """Drop the memory (a write this batch cannot account for)."""
        if self.memory is not None:
            self.memory.valid_at(None)
            self.memory = None


@dataclass(slots=True)  # not frozen: built per key of every batch, a frozen one costs ~1 µs more
class StoredAggregate:
    """An aggregate row as read: its state, its period's end, and whether the period is rated."""

    state: AggregateState
    period_end: date
    rated: bool
    rowid: int | None = None
    """SQLite's rowid of the row, when known (an update by rowid skips the primary key's index)."""


@dataclass(slots=True)  # not frozen: built per key of every batch, a frozen one costs ~1 µs more
class AggregateChange:
    """The new state of one aggregate; `existed` says whether the row was there when read."""

    key: AggregateKey
    period_end: date
    account_id: str
    state: AggregateState
    existed: bool
    rowid: int | None = None
    """SQLite: the row's rowid as read, or as inserted (set by `write_aggregates`), when known."""


async def count_events(
    uow: RatingUnitOfWork,
    events: Sequence[UsageEvent],
    meters: Mapping[str, Meter],
    stored: dict[AggregateKey, StoredAggregate],
    reads: AggregateReads,
) -> None:
    """Fold newly stored counted and late events into their aggregates and write them back.

    One pass over the events folds each into its key's running state as `fold` would (in the
    batch's order); a steady batch over many subscriptions has about one event per key, so the
    per-key work is kept to a tuple and one `AggregateChange`.
    """
    groups: dict[AggregateKey, _Running] = {}
    distinct: set[tuple[AggregateKey, str]] = set()
    aggregations = {code: meter.aggregation for code, meter in meters.items()}
    late_status, counted_status = UsageStatus.LATE, UsageStatus.COUNTED
    summing, maximum, latest = Aggregation.SUM, Aggregation.MAX, Aggregation.LATEST
    unique = Aggregation.UNIQUE_COUNT
    for event in events:
        status = event.status
        if status is not counted_status and status is not late_status:
            continue
        period = event.period
        assert event.subscription_id is not None and period is not None
        code = event.meter
        key = (event.subscription_id, code, period.start)
        running = groups.get(key)
        if running is None:
            found = stored.get(key)
            state = found.state if found is not None else _EMPTY
            running = groups[key] = _Running(
                [state.quantity, state.event_count, state.late_quantity, state.late_count, state.latest_at],
                event,
                found,
            )
        values = running.values
        amount, occurred_at = event.quantity, event.occurred_at
        aggregation = aggregations[code]
        values[1] += 1
        latest_at = values[4]
        if aggregation is summing:
            values[0] += amount
        elif aggregation is maximum:
            values[0] = max(values[0], amount)
        elif aggregation is latest and (latest_at is None or occurred_at >= latest_at):
            values[0] = amount
        elif aggregation is unique:
            value = meters[code].distinct_value(event.properties)
            if value is not None:
                distinct.add((key, value))
        if latest_at is None or occurred_at > latest_at:
            values[4] = occurred_at
        if status is late_status:
            values[3] += 1
            values[2] += amount
    if not groups:
        return
    new_values = await uow.usage.add_distinct_values(distinct) if distinct else Counter()

    changes: list[AggregateChange] = []
    counting = Aggregation.COUNT
    for key, running in groups.items():
        quantity, count, late_quantity, late_count, latest_at = running.values
        aggregation = aggregations[key[1]]
        if aggregation is counting:
            quantity = Decimal(count)
        elif aggregation is unique:
            quantity += new_values[key]
        first = running.first
        period = first.period
        assert period is not None and first.account_id is not None
        state = AggregateState(quantity, count, late_quantity, late_count, latest_at)
        found = running.found
        existed, rowid = (True, found.rowid) if found is not None else (False, None)
        changes.append(AggregateChange(key, period.end, first.account_id, state, existed, rowid))
    now = uow.clock.now()
    conflicted = await uow.usage.write_aggregates(changes, now=now)
    if not conflicted:
        # The rows written are open periods' (late events were moved to one).
        await reads.wrote({c.key: StoredAggregate(c.state, c.period_end, False, c.rowid) for c in changes})
        return
    # Another transaction created these rows after the read (PostgreSQL, a store without the
    # generation lock): read them again, locked now, and fold the same events into what it wrote.
    reads.forget()
    again = await uow.usage.aggregates(conflicted, lock=True)
    if any(key not in again or again[key].rated for key in conflicted):
        raise RetryableError("usage of this batch raced with a period close; send the batch again")
    by_key: dict[AggregateKey, list[UsageEvent]] = {}
    for event in events:
        if event.status in COUNTING and event.key in conflicted:
            by_key.setdefault(event.key, []).append(event)

    def refold(key: AggregateKey) -> AggregateChange:
        group, found = by_key[key], again[key]
        after = fold(
            found.state,
            meters[key[1]].aggregation,
            ((e.quantity, e.occurred_at, e.status is UsageStatus.LATE) for e in group),
            new_distinct_values=new_values[key],
        )
        assert group[0].period is not None and group[0].account_id is not None
        return AggregateChange(key, group[0].period.end, group[0].account_id, after, True)

    if await uow.usage.write_aggregates([refold(k) for k in conflicted], now=now):
        raise RetryableError("usage of this batch raced with another batch; send it again")


_EMPTY: Final = AggregateState.empty()


@dataclass(slots=True)
class _Running:
    """One aggregate while a batch folds into it: [quantity, count, late quantity, late count,
    latest], its first event (period end, account), and its row as read (None: a new one)."""

    values: list[Any]
    first: UsageEvent
    found: StoredAggregate | None
