"""The spool of mediation files: uploads written to a directory (USAGE_LOAD_DIR), read back line
by line from a byte position.

An upload is written to `<name>.part`, synced to disk, then renamed to `<name>` and the directory
synced, so a file with its final name is always whole; memory holds one received chunk at a time
(and at most MAX_LINE_BYTES of a line when reading). Several replicas must share the directory
(a volume), since the process that receives a file is not always the one that loads it.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import IO

from rating.domain.usage_loads import MAX_LINE_BYTES
from rating.handlers.usage_loads_port import PARTIAL, FileLine, LineReader, SpooledFile, UsageFileStore

_READ_BUFFER = 1 << 20
_SKIP_PIECE = 1 << 16


class SpoolDirectory(UsageFileStore):
    """Spooled files in one directory of the local (or a shared) file system."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    async def receive(self, name: str, body: AsyncIterator[bytes]) -> SpooledFile:
        """Write the body to `name` (via `name.part`), synced; the partial file is removed on failure."""
        self.directory.mkdir(parents=True, exist_ok=True)
        final = self.directory / name
        partial = self.directory / f"{name}{PARTIAL}"
        digest = hashlib.sha256()
        size = 0
        first = bytearray()
        first_done = False
        try:
            with partial.open("xb") as out:
                async for chunk in body:
                    if not chunk:
                        continue
                    out.write(chunk)
                    digest.update(chunk)
                    size += len(chunk)
                    if not first_done:
                        end = chunk.find(b"\n")
                        first += chunk if end < 0 else chunk[: end + 1]
                        first_done = end >= 0 or len(first) >= MAX_LINE_BYTES
                out.flush()
                await asyncio.to_thread(os.fsync, out.fileno())
            os.replace(partial, final)
            await asyncio.to_thread(_sync_directory, self.directory)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        return SpooledFile(name, size, digest.hexdigest(), bytes(first[:MAX_LINE_BYTES]))

    def first_line(self, name: str) -> bytes:
        """The first line of `name`, at most MAX_LINE_BYTES of it."""
        with (self.directory / name).open("rb") as source:
            return source.readline(MAX_LINE_BYTES)

    def open(self, name: str, *, offset: int, line: int) -> LineReader:
        """A reader of `name` from byte `offset` (line `line + 1`)."""
        return SpoolLineReader((self.directory / name).open("rb", buffering=_READ_BUFFER), offset, line)

    def remove(self, name: str) -> None:
        """Delete `name` if it is there."""
        (self.directory / name).unlink(missing_ok=True)

    def stale(self, *, older_than: timedelta) -> list[str]:
        """Files not modified for `older_than`."""
        if not self.directory.is_dir():
            return []
        limit = time.time() - older_than.total_seconds()
        names: list[str] = []
        for entry in os.scandir(self.directory):
            with contextlib.suppress(FileNotFoundError):
                if entry.is_file() and entry.stat().st_mtime < limit:
                    names.append(entry.name)
        return names


class SpoolLineReader(LineReader):
    """Lines of an open file from a byte position; a line over MAX_LINE_BYTES is skipped in pieces."""

    def __init__(self, source: IO[bytes], offset: int, line: int) -> None:
        self._source = source
        self._offset = offset
        self._line = line
        source.seek(offset)

    def read(self, max_lines: int) -> list[FileLine]:
        """The next lines, at most `max_lines` (fewer only at the end of the file)."""
        lines: list[FileLine] = []
        readline = self._source.readline
        while len(lines) < max_lines:
            raw = readline(MAX_LINE_BYTES + 1)
            if not raw:
                break
            self._offset += len(raw)
            self._line += 1
            if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
                while True:  # the rest of a line too long to keep: read past it, bounded
                    piece = readline(_SKIP_PIECE)
                    self._offset += len(piece)
                    if not piece or piece.endswith(b"\n"):
                        break
                lines.append(FileLine(self._line, self._offset, None))
            else:
                lines.append(FileLine(self._line, self._offset, raw))
        return lines

    def close(self) -> None:
        """Close the file."""
        self._source.close()


def _sync_directory(directory: Path) -> None:
    """Make a rename in `directory` durable (a no-op where directories cannot be opened)."""
    try:
        handle = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(handle)
    finally:
        os.close(handle)
