"""The hot writers of every process on one SQLite file take their turn to write in order.

SQLite has one writer at a time. A usage batch of rating holds the write lock for ~190 ms (its
insert, its aggregates, its commit), a bill-run chunk of invoicing ~100 ms; a writer of another
process that finds the lock taken waits in SQLite's busy handler, which sleeps and tries again
in growing steps (1, 2, 5, 10 ... up to 100 ms), so it starts on average tens of milliseconds
after the lock was released — time in which neither process writes. With two processes on one
file that idle time ate what the second process gained (issues 8 and 9: two processes were
slower than one).

`WriteTurns` queues a process's writers of one kind (`name`: rating's usage batches, invoicing's
bill-run chunks) on an asyncio lock (first come, first served), and the processes on an
exclusive `flock` of a file beside the database (`<database>.<name>-turn`): the kernel wakes a
waiting process the moment the lock is released, and it then begins its write transaction at
once. The file lock only orders the writers of that kind among themselves; every transaction
still takes SQLite's own lock (BEGIN IMMEDIATE), so a writer that does not take a turn (the
period close, a consumer, an operator) is safe as before, only not queued. A memory database,
or a platform without `fcntl`, keeps the asyncio lock alone.

A turn pays when the work that only reads is done before it, on a read-only session (WAL lets
it read beside the writer), and the write transaction checks that what was read still holds:
rating's `usage_preparation`, invoicing's prepared bill-run chunks (`account_billing`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - not a POSIX platform
    fcntl = None  # type: ignore[assignment]


class WriteTurns:
    """One process's turns to write, for the writers named `name` of a database (see the module)."""

    def __init__(self, database: str | None, *, name: str) -> None:
        self._local = asyncio.Lock()
        memory = database in (None, "", ":memory:") or str(database).startswith("file::memory:")
        self._path = None if memory or fcntl is None else Path(f"{database}.{name}-turn")
        self._fd: int | None = None

    @contextlib.asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        """Wait for this process's turn, then for the database's; held until the block ends."""
        async with self._local:
            if self._path is None:
                yield
                return
            fd = self._file()
            await _locked(fd)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)

    def close(self) -> None:
        """Close the lock file (a turn in progress keeps it open until it ends)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def _file(self) -> int:
        if self._fd is None:
            assert self._path is not None
            self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        return self._fd


async def _locked(fd: int) -> None:
    """Take the exclusive lock of `fd` in a worker thread (the event loop keeps serving). A
    cancelled caller still waits for the thread to get it, then gives it back, so the lock is
    never left taken by a thread nobody waits for."""
    waiting = asyncio.ensure_future(asyncio.to_thread(fcntl.flock, fd, fcntl.LOCK_EX))
    try:
        await asyncio.shield(waiting)
    except asyncio.CancelledError:
        while not waiting.done():
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(waiting)
        if waiting.exception() is None:
            fcntl.flock(fd, fcntl.LOCK_UN)
        raise
