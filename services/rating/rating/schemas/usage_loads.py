"""Mediation files on the wire: the upload's format, each line of a file read as a usage event
(or a rejected row with its reasons), and the load's progress report."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Final

from pydantic import BaseModel, Field, StringConstraints, TypeAdapter, ValidationError

from libs.contracts.usage import UsageRecord
from libs.platform.errors import DomainError, FieldError
from libs.platform.json_body import loads_exact
from libs.platform.text import PLAIN_TEXT_PATTERN
from rating.domain.usage_loads import (
    PROPERTIES_COLUMN,
    PROPERTY_PREFIX,
    CsvHeader,
    LoadFormat,
    LoadState,
    RejectedRow,
    UsageLoad,
    csv_row,
)
from rating.schemas.usage import (
    NDJSON,
    FieldProblemPublic,
    Refusal,
    UsageFields,
    field_errors,
    read_ndjson_event,
)

CSV_MEDIA_TYPES: Final = frozenset({"text/csv", "application/csv"})
NDJSON_MEDIA_TYPES: Final = frozenset(
    {NDJSON, "application/ndjson", "application/jsonl", "application/jsonlines", "application/x-jsonlines"}
)
REJECTION_SAMPLE: Final = 10
"""Rejected rows a load's report shows; `GET /v1/usage/files/{id}/rejections` lists the kept ones."""
_RECORD: Final = TypeAdapter(UsageRecord)
_EVENT_COLUMNS: Final = ("event_id", "subscription_id", "account_id", "meter", "quantity", "timestamp")

LoadName = Annotated[str, StringConstraints(min_length=1, max_length=255, pattern=PLAIN_TEXT_PATTERN)]
"""What the uploader calls the file (its name, say); one line of text."""


class UnsupportedMediaType(DomainError):
    """A body whose media type names no file format the route reads (415)."""

    status = 415
    title = "Unsupported media type"
    code = "unsupported_media_type"


def upload_format(requested: LoadFormat | None, content_type: str | None) -> LoadFormat:
    """The file's format: `?format=` when given, else its media type (415 when neither says)."""
    if requested is not None:
        return requested
    media_type = (content_type or "").split(";")[0].strip().lower()
    if media_type in CSV_MEDIA_TYPES:
        return LoadFormat.CSV
    if media_type in NDJSON_MEDIA_TYPES:
        return LoadFormat.NDJSON
    raise UnsupportedMediaType(
        f"send the file as text/csv or {NDJSON} (or name its format with ?format=csv|ndjson), "
        f"not {media_type or 'no media type'}"
    )


def read_row(
    fmt: LoadFormat, header: CsvHeader | None, raw: bytes, line: int
) -> UsageFields | RejectedRow | None:
    """One line of a file as a usage event, a rejected row with its reasons, or None (blank line)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        error = FieldError("line", f"is not UTF-8 text ({exc.reason})", "utf8_invalid")
        return RejectedRow(line, None, [error])
    text = text.rstrip("\r\n")
    if not text.strip():
        return None
    if fmt is LoadFormat.NDJSON:
        event = read_ndjson_event(text)
        return RejectedRow(line, event.event_id, event.errors) if isinstance(event, Refusal) else event
    assert header is not None
    row = csv_row(header, text)
    if isinstance(row, list):
        return RejectedRow(line, None, row)
    return _csv_record(row, line)


def _csv_record(row: dict[str, str], line: int) -> UsageRecord | RejectedRow:
    """A CSV row's columns as a usage event: properties from the JSON column and the named ones."""
    event_id = row.get("event_id")
    event_id = event_id[:128] if event_id is not None else None
    item: dict[str, Any] = {name: row[name] for name in _EVENT_COLUMNS if name in row}
    properties: dict[str, Any] = {}
    errors: list[FieldError] = []
    if PROPERTIES_COLUMN in row:
        try:
            document = loads_exact(row[PROPERTIES_COLUMN])
        except (ValueError, RecursionError) as exc:
            errors.append(FieldError("properties", f"is not valid JSON ({exc})", "json_invalid"))
        else:
            if isinstance(document, dict):
                properties.update(document)
            else:
                errors.append(FieldError("properties", "must be a JSON object", "dict_type"))
    for column, value in row.items():
        if column.startswith(PROPERTY_PREFIX):
            name = column.removeprefix(PROPERTY_PREFIX)
            if name in properties:
                errors.append(
                    FieldError(f"properties.{name}", "is given twice (its column and the JSON)", "duplicate")
                )
            properties[name] = value
    if errors:
        return RejectedRow(line, event_id, errors)
    item["properties"] = properties
    try:
        return _RECORD.validate_python(item)
    except ValidationError as exc:
        return RejectedRow(line, event_id, field_errors(exc))


class LoadRejectionPublic(BaseModel):
    """A row of the file that was not recorded, with every reason."""

    line: int = Field(description="Its line in the file, from 1 (a CSV file's header is line 1).")
    event_id: str | None = Field(description="Its event_id, when it could be read.")
    errors: list[FieldProblemPublic]


class UsageLoadPublic(BaseModel):
    """A mediation file and how far its loading got (poll it until `state` is completed or failed)."""

    id: str = Field(examples=["ul_01JD0S6Y4Q7V3J6C3M9W1K2X8Z"])
    name: str | None = Field(description="What the uploader called it (`?name=`).")
    format: LoadFormat
    state: LoadState = Field(
        description="received (durable, waiting) → loading → completed, or failed (see `failure_reason`)."
    )
    failure_reason: str | None = Field(description="Why the file could not be read at all (failed).")
    size_bytes: int = Field(description="The file's size.")
    sha256: str = Field(description="SHA-256 of the file's bytes (hex).")
    same_content_as: str | None = Field(
        description="An earlier load of exactly these bytes: its events are duplicates now (unless purged)."
    )
    bytes_read: int = Field(description="Bytes read and committed so far.")
    percent: float = Field(description="Share of the file read, by bytes (0-100).")
    lines_read: int = Field(description="Lines read and committed so far (header and blank lines included).")
    rows_read: int = Field(description="Rows read: accepted + duplicates + rejected.")
    accepted: int = Field(description="New events stored: counted + late + unmatched + filtered.")
    counted: int = Field(description="Counted in the period they fell in.")
    late: int = Field(description="Their period was already rated: counted in the next open period.")
    unmatched: int = Field(description="No subscription found: in the review queue (GET /v1/usage/review).")
    filtered: int = Field(description="Kept, not counted: their properties do not pass the meter's filter.")
    duplicates: int = Field(description="An event_id already stored (by any door, or earlier in the file).")
    rejected: int = Field(description="Rows not recorded: malformed lines and invalid events.")
    rows_per_second: int | None = Field(description="Rows read per second since loading started.")
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    updated_at: datetime | None
    rejections: list[LoadRejectionPublic] = Field(
        description=f"The first {REJECTION_SAMPLE} rejected rows (all kept ones: GET .../rejections)."
    )
    rejections_kept: int = Field(description="Rejected rows kept with their reasons (the first 1,000).")


def rejection_public(row: RejectedRow) -> LoadRejectionPublic:
    """The public view of a rejected row."""
    return LoadRejectionPublic(
        line=row.line,
        event_id=row.event_id,
        errors=[FieldProblemPublic(field=e.field, message=e.message, code=e.code) for e in row.errors],
    )


def usage_load_public(load: UsageLoad, *, now: datetime, sample: list[RejectedRow]) -> UsageLoadPublic:
    """The public view of a load, with a sample of its rejected rows."""
    progress = load.progress
    return UsageLoadPublic(
        id=load.id,
        name=load.name,
        format=load.format,
        state=load.state,
        failure_reason=load.failure_reason,
        size_bytes=load.size_bytes,
        sha256=load.sha256,
        same_content_as=load.same_content_as,
        bytes_read=progress.bytes_done,
        percent=load.percent,
        lines_read=progress.lines_done,
        rows_read=progress.rows_read,
        accepted=progress.accepted,
        counted=progress.counted,
        late=progress.late,
        unmatched=progress.unmatched,
        filtered=progress.filtered,
        duplicates=progress.duplicates,
        rejected=progress.rejected,
        rows_per_second=load.rows_per_second(now),
        created_at=load.created_at,
        started_at=load.started_at,
        finished_at=load.finished_at,
        updated_at=load.updated_at,
        rejections=[rejection_public(r) for r in sample],
        rejections_kept=load.rejections_kept,
    )


def upload_request_body() -> dict[str, Any]:
    """The OpenAPI `requestBody` of `POST /v1/usage/files`: the file's bytes, as they are."""
    binary = {"type": "string", "format": "binary"}
    return {
        "required": True,
        "content": {"text/csv": {"schema": binary}, NDJSON: {"schema": binary}},
        "description": "The file itself, streamed (never multipart). CSV: a header line naming the "
        "columns event_id, meter, quantity, timestamp, subscription_id and/or account_id, and "
        "optionally properties (a JSON object) and properties.<name>; then one event per line. "
        "NDJSON: one event (the fields of POST /v1/usage) per line.",
    }
