"""The ports of mediation file loads: where the files wait (a spool) and the `usage_loads` table.

`rating.handlers.usage_loads` sees only these; `rating.repository.usage_files` (a directory) and
`rating.repository.usage_loads` (SQL) implement them.
"""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, Self

from rating.domain.usage_loads import LoadState, RejectedRow, UsageLoad

PARTIAL: Final = ".part"
"""The ending of a spooled file still being written."""


@dataclass(frozen=True, slots=True)
class SpooledFile:
    """An upload written whole to the spool and synced to disk."""

    name: str
    size: int
    sha256: str
    first_line: bytes
    """Its first line (at most MAX_LINE_BYTES): a CSV file's header."""


@dataclass(frozen=True, slots=True)
class FileLine:
    """One line of a spooled file: its number (from 1), the byte just after it, its bytes.

    `text` is None for a line longer than MAX_LINE_BYTES (skipped without being held whole).
    """

    number: int
    end: int
    text: bytes | None


class LineReader(abc.ABC):
    """Reads a spooled file line by line from a position (blocking: run it in a thread)."""

    @abc.abstractmethod
    def read(self, max_lines: int) -> list[FileLine]:
        """The next lines, at most `max_lines`; fewer only at the end of the file."""

    @abc.abstractmethod
    def close(self) -> None:
        """Let the file go."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class UsageFileStore(abc.ABC):
    """Where uploaded files wait to be loaded (a directory, USAGE_LOAD_DIR)."""

    @abc.abstractmethod
    async def receive(self, name: str, body: AsyncIterator[bytes]) -> SpooledFile:
        """Write the body to a new file `name` and sync it to disk; nothing is left if it fails."""

    @abc.abstractmethod
    def first_line(self, name: str) -> bytes:
        """The first line of a spooled file (FileNotFoundError when it is gone)."""

    @abc.abstractmethod
    def open(self, name: str, *, offset: int, line: int) -> LineReader:
        """A reader from byte `offset`, where line `line + 1` starts (FileNotFoundError when gone)."""

    @abc.abstractmethod
    def remove(self, name: str) -> None:
        """Delete a spooled file (nothing when it is gone already)."""

    @abc.abstractmethod
    def stale(self, *, older_than: timedelta) -> list[str]:
        """Names of the files not written to for `older_than` (unfinished uploads included)."""


class UsageLoadRepository(abc.ABC):
    """`usage_loads` and the rejected rows kept for each."""

    @abc.abstractmethod
    async def add(self, load: UsageLoad) -> None:
        """Store a new load."""

    @abc.abstractmethod
    async def get(self, load_id: str) -> UsageLoad | None:
        """The load of this id, if any."""

    @abc.abstractmethod
    async def page(self, *, after: str | None, limit: int, state: LoadState | None) -> list[UsageLoad]:
        """Loads by id (oldest first) after `after`, at most `limit`."""

    @abc.abstractmethod
    async def known(self, load_ids: Sequence[str]) -> set[str]:
        """Which of these ids name a load."""

    @abc.abstractmethod
    async def first_with_content(self, sha256: str) -> str | None:
        """The first load of a file with these bytes, if any."""

    @abc.abstractmethod
    async def claimable(self, *, worker: str, now: datetime, limit: int) -> list[UsageLoad]:
        """Loads to take, oldest first: received or loading, their lease run out or `worker`'s."""

    @abc.abstractmethod
    async def take(self, load: UsageLoad, *, now: datetime) -> bool:
        """Write `load` as started by its worker, if it is still claimable; whether it was."""

    @abc.abstractmethod
    async def hold(self, load_id: str, *, worker: str, until: datetime) -> bool:
        """Renew `worker`'s lease (locking the row until commit); false when another took it over."""

    @abc.abstractmethod
    async def release(self, load_id: str, *, worker: str) -> None:
        """End `worker`'s lease now (any worker may take the load over)."""

    @abc.abstractmethod
    async def save(self, load: UsageLoad) -> None:
        """Write a load's state, position, counts and lease."""

    @abc.abstractmethod
    async def add_rejections(self, load_id: str, rows: Sequence[RejectedRow]) -> None:
        """Keep rejected rows with their reasons."""

    @abc.abstractmethod
    async def rejections(self, load_id: str, *, after_line: int, limit: int) -> list[RejectedRow]:
        """Kept rejected rows by line after `after_line`, at most `limit`."""
