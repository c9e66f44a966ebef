"""Mediation files (usage loads): a load's states and progress, and how a file's lines read.

A load is one uploaded file of usage events (docs/rating.md "Mediation files"):
- its states: `received` (the file is durable on disk, nothing read yet) → `loading` →
  `completed`, or `failed` with a reason when the file cannot be read at all (a CSV header that
  names no usable columns, a spooled file that is gone); a row that cannot be read fails only
  itself (`rejected`, with its line and reasons);
- its progress moves one chunk of rows at a time, committed together with the chunk's events,
  so a load taken over after a crash goes on from the byte after the last committed chunk;
- a CSV file's first line names its columns: `event_id`, `meter`, `quantity`, `timestamp`
  (required), `subscription_id`, `account_id` (at least one of the two), `properties` (a JSON
  object) and `properties.<name>` (one property per column, its text); nothing else. Every other
  line is one event: a quoted field never spans lines (no valid event holds a line break), so a
  line that ends inside quotes is a malformed row, not the start of a longer one.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field, fields
from datetime import datetime
from enum import StrEnum
from typing import Final

from libs.platform.errors import FieldError, ValidationFailed

MAX_LINE_BYTES: Final = 64 * 1024
"""A longer line is one rejected row (read in bounded pieces, never whole)."""
MAX_KEPT_REJECTIONS: Final = 1_000
"""Rejected rows kept with their line and reasons per load; `rejected` counts them all."""
MAX_PROPERTY_COLUMNS: Final = 32
"""As many `properties.<name>` columns as an event may hold properties."""
REQUIRED_COLUMNS: Final = ("event_id", "meter", "quantity", "timestamp")
REFERENCE_COLUMNS: Final = ("subscription_id", "account_id")
PROPERTIES_COLUMN: Final = "properties"
PROPERTY_PREFIX: Final = "properties."
_COLUMN_LIST: Final = ", ".join(REQUIRED_COLUMNS + REFERENCE_COLUMNS)
_PROPERTY_NAME: Final = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.:-]{0,63}")
"""A property name a meter can filter on or count (rating.schemas.meters.PROPERTY_NAME_PATTERN)."""


class LoadFormat(StrEnum):
    """How a file writes its events."""

    CSV = "csv"
    NDJSON = "ndjson"


class LoadState(StrEnum):
    """Where a load stands."""

    RECEIVED = "received"
    """Durable on disk; no row read yet."""
    LOADING = "loading"
    """Rows are being read and recorded, chunk by chunk."""
    COMPLETED = "completed"
    """Every line was read: each row accepted, a duplicate, or rejected with reasons."""
    FAILED = "failed"
    """The file could not be read at all (see the reason); the chunks committed before stay."""


PENDING: Final = frozenset({LoadState.RECEIVED, LoadState.LOADING})
"""States a worker takes a load in."""


@dataclass(frozen=True, slots=True)
class CsvHeader:
    """The columns of a CSV file, in order, from its first line."""

    columns: tuple[str, ...]

    @property
    def width(self) -> int:
        """How many fields each row must have."""
        return len(self.columns)


@dataclass(frozen=True, slots=True)
class RejectedRow:
    """A row that was not recorded, with its line number (from 1) and every reason."""

    line: int
    event_id: str | None
    errors: list[FieldError]


@dataclass(frozen=True, slots=True)
class _RowTally:
    """A position in a file (byte, line) and what became of the rows read up to it."""

    bytes_done: int = 0
    lines_done: int = 0
    rows_read: int = 0
    accepted: int = 0
    counted: int = 0
    late: int = 0
    unmatched: int = 0
    filtered: int = 0
    duplicates: int = 0
    rejected: int = 0


PROGRESS_FIELDS: Final = tuple(f.name for f in fields(_RowTally))
"""A load's progress, field by field: the position reached, then the row tallies (what a store keeps)."""
_ROW_COUNTS: Final = tuple(name for name in PROGRESS_FIELDS if name not in ("bytes_done", "lines_done"))
"""The tallies a load's chunks add up (the position is not added: a chunk ends where it ends)."""


@dataclass(frozen=True, slots=True)
class LoadProgress(_RowTally):
    """How far a load got: the position reached (byte and line) and what became of its rows."""

    def plus(self, chunk: ChunkOutcome) -> LoadProgress:
        """This progress with a committed chunk counted in, the position moved to its end."""
        counts = {name: getattr(self, name) + getattr(chunk, name) for name in _ROW_COUNTS}
        return LoadProgress(bytes_done=chunk.bytes_done, lines_done=chunk.lines_done, **counts)


@dataclass(frozen=True, slots=True)
class ChunkOutcome(_RowTally):
    """What became of one chunk of rows, and the position (byte, line) just after it."""

    bytes_done: int
    lines_done: int
    rows_read: int


@dataclass
class UsageLoad:
    """One uploaded mediation file and how far its loading got."""

    id: str
    format: LoadFormat
    size_bytes: int
    sha256: str
    created_at: datetime
    name: str | None = None
    actor: str = "system"
    state: LoadState = LoadState.RECEIVED
    started_at: datetime | None = None
    finished_at: datetime | None = None
    updated_at: datetime | None = None
    failure_reason: str | None = None
    same_content_as: str | None = None
    """An earlier load of the same bytes (its events are all duplicates, unless purged since)."""
    progress: LoadProgress = field(default_factory=LoadProgress)
    rejections_kept: int = 0
    """Rejected rows stored with their reasons (the first MAX_KEPT_REJECTIONS)."""
    worker: str | None = None
    lease_until: datetime | None = None

    @property
    def file_name(self) -> str:
        """The name of its spooled file."""
        return f"{self.id}.{self.format.value}"

    @property
    def percent(self) -> float:
        """How much of the file was read, by bytes (0-100, one decimal)."""
        if self.state is LoadState.COMPLETED or self.size_bytes == 0:
            return 100.0 if self.state is LoadState.COMPLETED else 0.0
        return round(100.0 * self.progress.bytes_done / self.size_bytes, 1)

    def rows_per_second(self, now: datetime) -> int | None:
        """Rows read per second since loading started (until it finished), if it started."""
        if self.started_at is None:
            return None
        elapsed = ((self.finished_at or now) - self.started_at).total_seconds()
        return int(self.progress.rows_read / elapsed) if elapsed > 0 else None

    def start(self, *, worker: str, lease_until: datetime, now: datetime) -> None:
        """Be taken by a worker (again, after a crash: the position stays where it was)."""
        if self.state not in PENDING:
            raise ValueError(f"a {self.state.value} load is not loaded again")
        self.state = LoadState.LOADING
        self.started_at = self.started_at or now
        self.worker = worker
        self.lease_until = lease_until
        self.updated_at = now

    def add_chunk(self, chunk: ChunkOutcome, *, kept: int, now: datetime) -> None:
        """Count a chunk in (committed with its events); `kept` of its rejections were stored."""
        self.progress = self.progress.plus(chunk)
        self.rejections_kept += kept
        self.updated_at = now

    def complete(self, now: datetime) -> None:
        """Every line was read."""
        self.state = LoadState.COMPLETED
        self._finish(now)

    def fail(self, reason: str, now: datetime) -> None:
        """The file cannot be read (any further): stop with the reason."""
        self.state = LoadState.FAILED
        self.failure_reason = reason[:500]
        self._finish(now)

    def _finish(self, now: datetime) -> None:
        self.finished_at = now
        self.updated_at = now
        self.worker = None
        self.lease_until = None


def rejections_to_keep(load: UsageLoad, rejected: list[RejectedRow]) -> list[RejectedRow]:
    """The rejected rows of a chunk that are still kept with their reasons (the first ones)."""
    room = max(MAX_KEPT_REJECTIONS - load.rejections_kept, 0)
    return rejected[:room]


def csv_fields(line: str) -> list[str]:
    """The fields of one CSV line (comma-separated, `"` quotes, `""` inside quotes).

    Raises ValueError for a line that ends inside quotes or holds a NUL character.
    """
    reader = csv.reader((line,), strict=True)
    try:
        fields = next(reader)
    except StopIteration:
        return []
    except csv.Error as exc:
        raise ValueError(_csv_problem(exc)) from None
    try:
        # A quoted field left open makes the reader ask for the next line: there is none here.
        next(reader)
    except StopIteration:
        return fields
    except csv.Error as exc:
        raise ValueError(_csv_problem(exc)) from None
    return fields


def _csv_problem(exc: csv.Error) -> str:
    message = str(exc)
    if "EOF" in message or "unexpected end of data" in message:
        return "ends inside a quoted field (a field never spans lines)"
    if "NUL" in message:
        return "holds a NUL character"
    return f"is not valid CSV ({message})"


def read_csv_header(line: str) -> CsvHeader:
    """The columns the first line of a CSV file names; ValidationFailed (every problem) otherwise."""
    problems: list[FieldError] = []
    try:
        names = [name.strip() for name in csv_fields(line.removeprefix("\ufeff").rstrip("\r\n"))]
    except ValueError as exc:
        raise ValidationFailed.single("header", f"the first line {exc}", "header_invalid") from None
    seen: set[str] = set()
    properties = 0
    for position, name in enumerate(names, start=1):
        where = f"header.{position}"
        if name in seen:
            problems.append(FieldError(where, f"column {name!r} is named twice", "duplicate_column"))
        seen.add(name)
        if name.startswith(PROPERTY_PREFIX):
            properties += 1
            if not _is_property_name(name.removeprefix(PROPERTY_PREFIX)):
                problems.append(
                    FieldError(
                        where,
                        f"column {name[:80]!r}: a property column is `properties.<name>`, the name 1-64 "
                        "letters, digits, `_`, `.`, `:` or `-` (not first)",
                        "unknown_column",
                    )
                )
        elif name not in REQUIRED_COLUMNS + REFERENCE_COLUMNS + (PROPERTIES_COLUMN,):
            problems.append(
                FieldError(
                    where,
                    f"unknown column {name[:80]!r}: the columns are {_COLUMN_LIST}, "
                    "properties (a JSON object) and properties.<name>",
                    "unknown_column",
                )
            )
    for required in REQUIRED_COLUMNS:
        if required not in seen:
            problems.append(FieldError("header", f"the column {required!r} is missing", "missing_column"))
    if not seen.intersection(REFERENCE_COLUMNS):
        problems.append(
            FieldError("header", "a subscription_id or an account_id column is needed", "missing_column")
        )
    if properties > MAX_PROPERTY_COLUMNS:
        problems.append(
            FieldError(
                "header", f"at most {MAX_PROPERTY_COLUMNS} properties.<name> columns", "too_many_columns"
            )
        )
    if problems:
        raise ValidationFailed("The CSV file's first line does not name its columns", problems)
    return CsvHeader(tuple(names))


def _is_property_name(name: str) -> bool:
    return _PROPERTY_NAME.fullmatch(name) is not None


def csv_row(header: CsvHeader, line: str) -> dict[str, str] | list[FieldError]:
    """One CSV line as {column: text}, empty fields left out; or why it is not a row."""
    try:
        fields = csv_fields(line)
    except ValueError as exc:
        return [FieldError("line", str(exc), "csv_invalid")]
    if len(fields) != header.width:
        return [
            FieldError(
                "line",
                f"has {len(fields)} fields; the header names {header.width} columns",
                "column_count",
            )
        ]
    return {name: value for name, value in zip(header.columns, fields, strict=True) if value != ""}
