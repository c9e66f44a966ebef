"""Mediation files: receive one (spooled to disk, then a `usage_loads` row), load it in chunks,
report its progress (docs/rating.md "Mediation files").

- `receive_file` streams the upload into the spool (`UsageFileStore`: never held in memory),
  checks a CSV file's header and records the load `received`; the route answers 202 once the
  file is durable on disk and the row is committed.
- `load_pending_files` (a periodic job of every rating process) takes a received load — or one
  whose worker stopped renewing its lease (a crash) — and reads it from the position its last
  committed chunk reached: each chunk of at most `chunk_rows` lines is parsed in a thread (the
  event loop keeps serving), recorded with `stage_usage` (the ingestion of both other doors)
  and committed in ONE transaction with the load's progress and the chunk's kept rejections.
  A worker renews its lease at the start of each chunk's transaction and gives the chunk up if
  another took the load over, so no chunk counts twice; a chunk redone after a crash finds its
  events stored (the dedup) and was never counted in the progress.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Final

from libs.platform.errors import FieldError, NotFound, ValidationFailed
from libs.platform.ids import new_id
from libs.platform.logging import get_logger
from libs.platform.pagination import Page, PageRequest, encode_cursor
from rating.domain.usage import UsageSource
from rating.domain.usage_loads import (
    MAX_LINE_BYTES,
    ChunkOutcome,
    CsvHeader,
    LoadFormat,
    LoadState,
    RejectedRow,
    UsageLoad,
    read_csv_header,
    rejections_to_keep,
)
from rating.handlers.usage import IngestionRules, stage_usage
from rating.handlers.usage_loads_port import PARTIAL, LineReader, UsageFileStore
from rating.schemas.usage import FieldProblemPublic, ReceivedBatch, UsageFields, UsageReceipt
from rating.schemas.usage_loads import (
    REJECTION_SAMPLE,
    LoadRejectionPublic,
    UsageLoadPublic,
    read_row,
    rejection_public,
    usage_load_public,
)

if TYPE_CHECKING:
    from rating.handlers.unit_of_work import RatingUnitOfWork

log = get_logger("rating.usage_loads")
MAX_LINE_NUMBER = 2**62


@dataclass(frozen=True)
class LoadSettings:
    """How a worker loads files (from RatingSettings)."""

    chunk_rows: int = 10_000
    lease: timedelta = timedelta(seconds=120)
    rules: IngestionRules = field(default_factory=IngestionRules)


@dataclass
class ParsedChunk:
    """The lines of one chunk, read: events with their line numbers, rejected rows, the end."""

    records: list[tuple[int, UsageFields]] = field(default_factory=list)
    rejected: list[RejectedRow] = field(default_factory=list)
    rows: int = 0
    end: int = 0
    last_line: int = 0
    at_end: bool = False


_GONE: Final = "the spooled file is gone (is USAGE_LOAD_DIR shared by every replica?)"


class LoadTakenOver(Exception):
    """Another worker took the load over (this one was too slow): this one stops, committing nothing."""


# --- receiving and reporting -------------------------------------------------------------------


async def receive_file(
    *,
    uow: RatingUnitOfWork,
    files: UsageFileStore,
    body: AsyncIterator[bytes],
    fmt: LoadFormat,
    name: str | None,
) -> UsageLoadPublic:
    """Spool an upload to disk, check it can be read, record the load `received`; commits.

    The file is removed again when anything fails (422 for an empty file or a CSV header that
    names no usable columns).
    """
    load_id = new_id("ul")
    spooled = await files.receive(f"{load_id}.{fmt.value}", body)
    try:
        if spooled.size == 0:
            raise ValidationFailed.single("file", "is empty", "empty")
        if fmt is LoadFormat.CSV:
            read_csv_header(_header_text(spooled.first_line))
        now = uow.clock.now()
        load = UsageLoad(
            id=load_id,
            format=fmt,
            size_bytes=spooled.size,
            sha256=spooled.sha256,
            created_at=now,
            updated_at=now,
            name=name,
            actor=uow.actor,
            same_content_as=await uow.usage_loads.first_with_content(spooled.sha256),
        )
        await uow.usage_loads.add(load)
        uow.audit(
            "usage_load.received",
            "usage_load",
            load.id,
            {"name": name, "format": fmt.value, "size_bytes": spooled.size, "sha256": spooled.sha256},
        )
        await uow.commit()
    except BaseException:
        files.remove(spooled.name)
        raise
    return usage_load_public(load, now=now, sample=[])


def _header_text(first_line: bytes) -> str:
    try:
        return first_line.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValidationFailed.single("header", f"the first line is not UTF-8 text ({exc.reason})") from None


async def get_load(*, uow: RatingUnitOfWork, load_id: str) -> UsageLoadPublic:
    """A load's progress report with the first rejected rows (404 when unknown)."""
    load = await uow.usage_loads.get(load_id)
    if load is None:
        raise NotFound("usage load", load_id)
    sample = await uow.usage_loads.rejections(load_id, after_line=0, limit=REJECTION_SAMPLE)
    return usage_load_public(load, now=uow.clock.now(), sample=sample)


async def list_loads(
    *, uow: RatingUnitOfWork, page: PageRequest, state: LoadState | None
) -> Page[UsageLoadPublic]:
    """A page of loads, oldest first (without their rejected rows)."""
    found = await uow.usage_loads.page(after=page.after, limit=page.limit + 1, state=state)
    has_more = len(found) > page.limit
    shown = found[: page.limit]
    now = uow.clock.now()
    return Page[UsageLoadPublic](
        data=[usage_load_public(load, now=now, sample=[]) for load in shown],
        next_cursor=encode_cursor(shown[-1].id) if has_more and shown else None,
        has_more=has_more,
    )


async def list_rejections(
    *, uow: RatingUnitOfWork, load_id: str, page: PageRequest
) -> Page[LoadRejectionPublic]:
    """A page of a load's kept rejected rows, by line (404 when the load is unknown)."""
    if await uow.usage_loads.get(load_id) is None:
        raise NotFound("usage load", load_id)
    # Any cursor names a position: a line number, or the start when it holds none.
    after = min(int(page.after), MAX_LINE_NUMBER) if page.after is not None and page.after.isdigit() else 0
    found = await uow.usage_loads.rejections(load_id, after_line=after, limit=page.limit + 1)
    has_more = len(found) > page.limit
    shown = found[: page.limit]
    return Page[LoadRejectionPublic](
        data=[rejection_public(row) for row in shown],
        next_cursor=encode_cursor(str(shown[-1].line)) if has_more and shown else None,
        has_more=has_more,
    )


# --- loading -----------------------------------------------------------------------------------


async def load_pending_files(
    *,
    units_of_work: Callable[[], RatingUnitOfWork],
    files: UsageFileStore,
    worker: str,
    settings: LoadSettings = LoadSettings(),
    max_loads: int | None = None,
) -> list[UsageLoad]:
    """Take and load every load waiting (or abandoned by a dead worker), one after the other."""
    done: list[UsageLoad] = []
    while max_loads is None or len(done) < max_loads:
        load = await take_next_load(units_of_work, worker=worker, lease=settings.lease)
        if load is None:
            break
        try:
            await load_file(units_of_work=units_of_work, files=files, load=load, settings=settings)
        except LoadTakenOver:
            log.warning("usage_load.taken_over", load_id=load.id, worker=worker)
        except BaseException:
            # A failed chunk or a shutdown: let any worker go on at once rather than after the lease.
            await _release(units_of_work, load)
            raise
        done.append(load)
    return done


async def _release(units_of_work: Callable[[], RatingUnitOfWork], load: UsageLoad) -> None:
    with contextlib.suppress(Exception):
        async with units_of_work() as uow:
            await uow.usage_loads.release(load.id, worker=load.worker or "")
            await uow.commit()


async def take_next_load(
    units_of_work: Callable[[], RatingUnitOfWork], *, worker: str, lease: timedelta
) -> UsageLoad | None:
    """Take the oldest load waiting, or abandoned by its worker (lease run out); commits."""
    async with units_of_work() as uow:
        now = uow.clock.now()
        for load in await uow.usage_loads.claimable(worker=worker, now=now, limit=5):
            load.start(worker=worker, lease_until=now + lease, now=now)
            if await uow.usage_loads.take(load, now=now):
                await uow.commit()
                log.info(
                    "usage_load.started", load_id=load.id, worker=worker, at_byte=load.progress.bytes_done
                )
                return load
    return None


async def load_file(
    *,
    units_of_work: Callable[[], RatingUnitOfWork],
    files: UsageFileStore,
    load: UsageLoad,
    settings: LoadSettings = LoadSettings(),
    max_chunks: int | None = None,
) -> UsageLoad:
    """Load a taken load from its position to the end, one committed chunk at a time.

    `max_chunks` stops early (the load stays `loading`, as after a crash); tests use it.
    """
    try:
        header = _csv_header(files, load) if load.format is LoadFormat.CSV else None
        reader = files.open(load.file_name, offset=load.progress.bytes_done, line=load.progress.lines_done)
    except FileNotFoundError:
        return await _fail(units_of_work, files, load, _GONE)
    except ValidationFailed as exc:
        return await _fail(units_of_work, files, load, "; ".join(e.message for e in exc.errors) or exc.detail)
    fmt, rows = load.format, settings.chunk_rows

    def read_from(end: int, line: int) -> asyncio.Task[ParsedChunk]:
        return asyncio.create_task(asyncio.to_thread(_read_chunk, reader, fmt, header, rows, end, line))

    chunks = 0
    with reader:
        # The next chunk is read while this one is recorded (the database works outside the GIL).
        pending: asyncio.Task[ParsedChunk] | None = read_from(
            load.progress.bytes_done, load.progress.lines_done
        )
        try:
            while pending is not None:
                parsed = await pending
                chunks += 1
                more = not parsed.at_end and (max_chunks is None or chunks < max_chunks)
                pending = read_from(parsed.end, parsed.last_line) if more else None
                await _commit_chunk(units_of_work, load, parsed, settings)
        finally:
            if pending is not None:  # a chunk failed: let the read ahead finish before the file closes
                with contextlib.suppress(Exception):
                    await pending
    if load.state is LoadState.COMPLETED:
        files.remove(load.file_name)
        log.info(
            "usage_load.completed",
            load_id=load.id,
            rows=load.progress.rows_read,
            rejected=load.progress.rejected,
        )
    return load


def _csv_header(files: UsageFileStore, load: UsageLoad) -> CsvHeader:
    return read_csv_header(_header_text(files.first_line(load.file_name)))


def _read_chunk(
    reader: LineReader,
    fmt: LoadFormat,
    header: CsvHeader | None,
    chunk_rows: int,
    after: int,
    after_line: int,
) -> ParsedChunk:
    """Read and parse the lines after byte `after` (line `after_line`), in a worker thread:
    events, rejected rows, the end reached."""
    lines = reader.read(chunk_rows)
    chunk = ParsedChunk(end=after, last_line=after_line)
    chunk.at_end = len(lines) < chunk_rows
    for line in lines:
        chunk.end = line.end
        chunk.last_line = line.number
        if header is not None and line.number == 1:
            continue  # the header, checked when the file was received
        if line.text is None:
            chunk.rows += 1
            error = f"is longer than {MAX_LINE_BYTES:,} bytes"
            chunk.rejected.append(RejectedRow(line.number, None, [_line_error(error, "too_long")]))
            continue
        row = read_row(fmt, header, line.text, line.number)
        if row is None:
            continue  # a blank line is no row
        chunk.rows += 1
        if isinstance(row, RejectedRow):
            chunk.rejected.append(row)
        else:
            chunk.records.append((line.number, row))
    return chunk


def _line_error(message: str, code: str) -> FieldError:
    return FieldError("line", message, code)


async def _commit_chunk(
    units_of_work: Callable[[], RatingUnitOfWork], load: UsageLoad, chunk: ParsedChunk, settings: LoadSettings
) -> None:
    """Record a chunk's events and move the load's progress past it, in one transaction."""
    async with units_of_work() as uow:
        now = uow.clock.now()
        if not await uow.usage_loads.hold(load.id, worker=load.worker or "", until=now + settings.lease):
            raise LoadTakenOver(load.id)
        rejected = list(chunk.rejected)
        receipt = None
        if chunk.records:
            receipt = await stage_usage(
                uow=uow,
                events=ReceivedBatch([(i, record) for i, (_, record) in enumerate(chunk.records)]),
                source=UsageSource.FILE,
                rules=settings.rules,
                load_id=load.id,
            )
            rejected += [
                RejectedRow(chunk.records[r.index][0], r.event_id, [_problem(e) for e in r.errors])
                for r in receipt.refusals
            ]
        rejected.sort(key=lambda row: row.line)
        outcome = _outcome(chunk, receipt)
        kept = rejections_to_keep(load, rejected)
        load.add_chunk(outcome, kept=len(kept), now=now)
        load.lease_until = now + settings.lease
        if chunk.at_end:
            load.complete(now)
            uow.audit("usage_load.completed", "usage_load", load.id, _progress_audit(load))
        await uow.usage_loads.save(load)
        if kept:
            await uow.usage_loads.add_rejections(load.id, kept)
        await uow.commit()


def _outcome(chunk: ParsedChunk, receipt: UsageReceipt | None) -> ChunkOutcome:
    parse_rejected = len(chunk.rejected)
    if receipt is None:
        return ChunkOutcome(chunk.end, chunk.last_line, chunk.rows, rejected=parse_rejected)
    return ChunkOutcome(
        bytes_done=chunk.end,
        lines_done=chunk.last_line,
        rows_read=chunk.rows,
        accepted=receipt.accepted,
        counted=receipt.counted,
        late=receipt.late,
        unmatched=receipt.unmatched,
        filtered=receipt.filtered,
        duplicates=receipt.duplicates,
        rejected=parse_rejected + receipt.refused,
    )


def _problem(error: FieldProblemPublic) -> FieldError:
    return FieldError(error.field, error.message, error.code)


def _progress_audit(load: UsageLoad) -> dict[str, object]:
    progress = load.progress
    return {
        "state": load.state.value,
        "rows_read": progress.rows_read,
        "accepted": progress.accepted,
        "duplicates": progress.duplicates,
        "rejected": progress.rejected,
        "failure_reason": load.failure_reason,
    }


async def _fail(
    units_of_work: Callable[[], RatingUnitOfWork], files: UsageFileStore, load: UsageLoad, reason: str
) -> UsageLoad:
    async with units_of_work() as uow:
        now = uow.clock.now()
        if not await uow.usage_loads.hold(load.id, worker=load.worker or "", until=now):
            raise LoadTakenOver(load.id)
        load.fail(reason, now)
        await uow.usage_loads.save(load)
        uow.audit("usage_load.failed", "usage_load", load.id, _progress_audit(load))
        await uow.commit()
    files.remove(load.file_name)
    log.warning("usage_load.failed", load_id=load.id, reason=reason)
    return load


async def sweep_spool(
    *, units_of_work: Callable[[], RatingUnitOfWork], files: UsageFileStore, older_than: timedelta
) -> int:
    """Delete old files no load knows: an upload that died before its load was committed."""
    names = files.stale(older_than=older_than)
    if not names:
        return 0
    async with units_of_work() as uow:
        known = await uow.usage_loads.known([name.split(".", 1)[0] for name in names])
    orphans = [name for name in names if name.split(".", 1)[0] not in known or name.endswith(PARTIAL)]
    for name in orphans:
        files.remove(name)
    if orphans:
        log.warning("usage_load.spool_swept", files=orphans[:20], count=len(orphans))
    return len(orphans)
