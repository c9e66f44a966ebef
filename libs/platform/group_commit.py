"""Durable appends batched across concurrent requests: a group commit.

A request whose 2xx means "stored" (a webhook notice, DESIGN §7 "Acknowledgement") costs a
transaction of its own when it commits alone: one commit, one fsync, one turn of SQLite's single
write lock — and concurrent requests queue on that lock one by one. `GroupCommit` queues each
request's entry instead; one writer task takes everything queued, writes it in one transaction,
commits, and only then hands each caller its outcome. Under load the groups grow by themselves
(whatever arrived while the previous group was committing is the next group); a lone request is
a group of one and waits for no timer.

What holds:

- **Nothing is acknowledged before its commit.** A caller gets its outcome only after the
  transaction that wrote its entry committed; a crash before that loses only entries nobody was
  told were stored (their callers got no answer and retry).
- **A failed group loses nothing and acknowledges nothing wrongly.** When the group's write
  raises, every entry of it is written again alone, each in its own transaction, in order: one bad
  entry fails only its own caller (with its own error); the others get outcomes from their own
  commits.
- **Order.** Entries reach the write function in the order they were appended, so the write
  decides duplicates inside one group (the first wins), as it would have across two groups.
- **A caller that goes away** (its client disconnected) does not take its entry back: the entry
  is written with its group, its outcome dropped.

The write function is the service's: `write(entries)` opens its own transaction, writes, commits
as its last step and returns one outcome per entry, in order. It must be idempotent per entry (a
unique key): a commit whose answer was lost may have happened, and the entries are written again.
It may check and refuse inside the same transaction (an outcome can say "refused", the refusal
recorded in the group's commit).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from libs.platform.logging import get_logger

Entry = TypeVar("Entry")
Outcome = TypeVar("Outcome")
GroupWrite = Callable[[Sequence[Entry]], Awaitable[Sequence[Outcome]]]

log = get_logger("group_commit")
DEFAULT_MAX_GROUP = 500


class GroupCommitClosed(RuntimeError):
    """The group commit was closed (the service is stopping): the entry was not taken."""


@dataclass
class GroupCommitStats:
    """What a group commit did since start: for `/metrics` and the benchmarks."""

    entries: int = 0
    groups: int = 0
    largest_group: int = 0
    write_seconds: float = 0.0
    failed_groups: int = 0
    failed_entries: int = 0
    last_group_at: float = float("-inf")
    """When (`time.monotonic()`) the last group was written: background work may give way while
    groups keep coming."""


class GroupCommit(Generic[Entry, Outcome]):
    """Entries of concurrent callers written and committed together by one writer task (see the
    module); `append` returns an entry's outcome once its transaction committed."""

    def __init__(self, name: str, write: GroupWrite[Entry, Outcome], *, max_group: int = DEFAULT_MAX_GROUP):
        if max_group < 1:
            raise ValueError("max_group is at least 1")
        self.name = name
        self.max_group = max_group
        self.stats = GroupCommitStats()
        self._write = write
        self._queue: list[tuple[Entry, asyncio.Future[Outcome]]] = []
        self._wakeup: asyncio.Event | None = None
        self._idle: asyncio.Event | None = None
        self._writer: asyncio.Task[None] | None = None
        self._closed = False

    async def append(self, entry: Entry) -> Outcome:
        """Queue `entry`; its outcome once the transaction that wrote it committed (or its error)."""
        if self._closed:
            raise GroupCommitClosed(f"{self.name} is closed")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Outcome] = loop.create_future()
        self._queue.append((entry, future))
        self._writer_of(loop)
        assert self._wakeup is not None
        self._wakeup.set()
        return await future

    def _writer_of(self, loop: asyncio.AbstractEventLoop) -> None:
        writer = self._writer
        if writer is None or writer.done() or writer.get_loop() is not loop:
            self._wakeup = asyncio.Event()
            self._idle = asyncio.Event()
            # An empty context: the writer serves every caller, so it must not carry the first
            # one's (its correlation id, an Idempotency-Key request that would adopt the commit).
            self._writer = loop.create_task(
                self._run(), name=f"group-commit-{self.name}", context=contextvars.Context()
            )

    async def close(self) -> None:
        """Take no more entries, write those queued, then stop the writer."""
        self._closed = True
        writer = self._writer
        if writer is None or writer.done():
            return
        if writer.get_loop() is not asyncio.get_running_loop():
            return  # a writer of an event loop that is gone: nothing of it can run any more
        assert self._wakeup is not None and self._idle is not None
        if self._queue or not self._idle.is_set():
            self._wakeup.set()
            await self._idle.wait()
        writer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await writer

    async def _run(self) -> None:
        assert self._wakeup is not None and self._idle is not None
        wakeup, idle = self._wakeup, self._idle
        try:
            while True:
                await wakeup.wait()
                wakeup.clear()
                idle.clear()
                while self._queue:
                    group = self._queue[: self.max_group]
                    del self._queue[: self.max_group]
                    await self._commit(group)
                idle.set()
        except BaseException as exc:
            # Stopped (or broken): whoever still waits is told, never left hanging.
            for _, future in self._queue:
                _fail(future, GroupCommitClosed(f"{self.name} stopped before the entry was written"))
            self._queue.clear()
            if not isinstance(exc, asyncio.CancelledError):
                log.exception("group_commit.writer_failed", name=self.name)
            raise

    async def _commit(self, group: list[tuple[Entry, asyncio.Future[Outcome]]]) -> None:
        started = time.perf_counter()
        try:
            outcomes = await self._write_checked([entry for entry, _ in group])
        except asyncio.CancelledError:
            for _, future in group:
                _fail(future, GroupCommitClosed(f"{self.name} stopped while writing the entry"))
            raise
        except Exception as exc:
            self.stats.failed_groups += 1
            if len(group) == 1:
                self.stats.failed_entries += 1
                _fail(group[0][1], exc)
            else:
                log.warning(
                    "group_commit.group_failed", name=self.name, entries=len(group), error=str(exc)[:200]
                )
                await self._commit_one_by_one(group)
        else:
            for (_, future), outcome in zip(group, outcomes, strict=True):
                _resolve(future, outcome)
        self._count(len(group), time.perf_counter() - started)

    async def _commit_one_by_one(self, group: list[tuple[Entry, asyncio.Future[Outcome]]]) -> None:
        for index, (entry, future) in enumerate(group):
            try:
                outcome = (await self._write_checked([entry]))[0]
            except asyncio.CancelledError:
                for _, waiting in group[index:]:
                    _fail(waiting, GroupCommitClosed(f"{self.name} stopped while writing the entry"))
                raise
            except Exception as exc:
                self.stats.failed_entries += 1
                _fail(future, exc)
            else:
                _resolve(future, outcome)

    async def _write_checked(self, entries: list[Entry]) -> Sequence[Outcome]:
        outcomes = await self._write(entries)
        if len(outcomes) != len(entries):
            raise RuntimeError(f"{self.name}: {len(outcomes)} outcomes for {len(entries)} entries")
        return outcomes

    def _count(self, entries: int, seconds: float) -> None:
        stats = self.stats
        stats.entries += entries
        stats.groups += 1
        stats.largest_group = max(stats.largest_group, entries)
        stats.write_seconds += seconds
        stats.last_group_at = time.monotonic()


def _resolve(future: asyncio.Future[Outcome], outcome: Outcome) -> None:
    if not future.done():  # a caller that went away cancelled its future
        future.set_result(outcome)


def _fail(future: asyncio.Future[Outcome], exc: BaseException) -> None:
    if not future.done():
        future.set_exception(exc)
