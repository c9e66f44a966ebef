"""The aggregates a process wrote, kept in memory while nobody else touched the table.

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
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

from rating.domain.usage import AggregateKey

if TYPE_CHECKING:
    from rating.handlers.unit_of_work import RatingUnitOfWork
    from rating.handlers.usage import StoredAggregate

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
