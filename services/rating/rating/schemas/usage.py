"""Usage batches on the wire: the body of `POST /v1/usage` (JSON or NDJSON), each event's
validation, and the receipt.

Validation is fast where it can be and exact everywhere:
- a JSON body is validated whole by pydantic's JSON parser (`validate_json`) into
  `UsageRecord`s; only when that fails is it read again item by item, so that each invalid
  event is refused with its own reasons while the valid ones are kept;
- NDJSON is validated line by line, each line on its own;
- a quantity written as a JSON number with a fraction or an exponent never takes the fast
  path: pydantic's JSON parser reads it as a float (0.99999999999999999 as 1). The item path
  reads the body with `loads_exact`, where such a number is NaN unless a float holds it
  exactly, and NaN is refused (libs/platform/json_body.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Final, Protocol

import msgspec
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, TypeAdapter, ValidationError
from pydantic_core import PydanticCustomError

from libs.contracts.types import Quantity
from libs.contracts.usage import UsageRecord
from libs.platform.errors import FieldError, ValidationFailed
from libs.platform.json_body import loads_exact
from rating.schemas.usage_wire import WireEvent, check_events, convert_items, decode_batch, decode_lines

MAX_BATCH_EVENTS: Final = 10_000
USAGE_MAX_BODY_BYTES: Final = 16 * 1024 * 1024
"""A batch of 10,000 events is 2-3 MB; the edge refuses larger bodies with 413."""
NDJSON: Final = "application/x-ndjson"
MAX_REPORTED_REFUSALS: Final = 1_000
"""Refusals listed one by one in a receipt; `refused` counts them all."""
MAX_CONTAINERS: Final = 40 * MAX_BATCH_EVENTS
"""Objects and arrays (counted as `{` and `[`) a body read item by item may hold: an event has
two, and its strings may hold more; a body with more is refused before it is read into memory."""
MAX_LINE_CONTAINERS: Final = 10_000
"""The same bound for one NDJSON line read on its own."""


def _no_json_float(value: object) -> object:
    if isinstance(value, float):
        # Sends the whole body to the exact item path (see the module docstring).
        raise PydanticCustomError("float_quantity", "a JSON number with a fraction is read exactly elsewhere")
    return value


class _FastUsageRecord(UsageRecord):
    """A `UsageRecord` for the fast path: a JSON float quantity fails it (then read exactly)."""

    quantity: Annotated[Quantity, BeforeValidator(_no_json_float)]


class _FastBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    events: list[_FastUsageRecord] = Field(min_length=1, max_length=MAX_BATCH_EVENTS)


_FAST_BATCH: Final = TypeAdapter(_FastBatch)
_FAST_LINE: Final = TypeAdapter(_FastUsageRecord)
_RECORD: Final = TypeAdapter(UsageRecord)


class UsageBatchIn(BaseModel):
    """A batch of usage events (`application/json`); or send one event per line as `application/x-ndjson`."""

    model_config = ConfigDict(extra="forbid")

    events: list[UsageRecord] = Field(
        min_length=1,
        max_length=MAX_BATCH_EVENTS,
        description=f"1 to {MAX_BATCH_EVENTS:,} events; each is accepted or refused on its own.",
    )


class UsageFields(Protocol):
    """What ingestion reads of a valid event: a `UsageRecord`, or the fast path's `WireUsage`."""

    @property
    def event_id(self) -> str: ...
    @property
    def subscription_id(self) -> str | None: ...
    @property
    def account_id(self) -> str | None: ...
    @property
    def meter(self) -> str: ...
    @property
    def quantity(self) -> Decimal: ...
    @property
    def timestamp(self) -> datetime: ...
    @property
    def properties(self) -> Mapping[str, str | int | bool]: ...


@dataclass(frozen=True, slots=True)
class Refusal:
    """An event refused with its reasons; `index` is its position in the batch (from 0)."""

    index: int
    event_id: str | None
    errors: list[FieldError]


@dataclass(slots=True)
class ReceivedBatch:
    """A batch after validation of each event on its own: records by position, and refusals."""

    records: list[tuple[int, UsageFields]]
    refusals: list[Refusal] = field(default_factory=list)

    @property
    def size(self) -> int:
        """How many events the batch held."""
        return len(self.records) + len(self.refusals)


_UNION_BRANCHES: Final = frozenset({"constrained-str", "constrained-int", "str", "int", "bool"})
"""Names pydantic appends to the path of each branch of a union (a property value's kinds)."""


def field_errors(error: ValidationError) -> list[FieldError]:
    """A pydantic error's problems as field errors with dotted paths (`properties.region`); the
    branches of a union that all failed are reported once, on the field, by the first branch."""
    found: dict[str, FieldError] = {}
    for problem in error.errors(include_url=False, include_input=False):
        parts = [str(part) for part in problem["loc"]]
        if len(parts) > 1 and parts[0] == "properties" and parts[-1] in _UNION_BRANCHES:
            parts.pop()
        path = ".".join(parts) or "event"
        found.setdefault(
            path, FieldError(path, problem["msg"].removeprefix("Value error, "), problem["type"])
        )
    return list(found.values())


def _event_id_of(item: object) -> str | None:
    value = item.get("event_id") if isinstance(item, Mapping) else None
    return value[:128] if isinstance(value, str) else None


def receive_events(items: Sequence[UsageRecord | Mapping[str, Any] | Any]) -> ReceivedBatch:
    """Validate each item on its own: a `UsageRecord` is kept, anything else is validated or refused
    (all at once by the fast path when every item is a valid event read from JSON)."""
    if items and not any(isinstance(item, UsageRecord) for item in items):
        wire = convert_items(items)
        if wire is not None:
            return ReceivedBatch(list(wire))
    batch = ReceivedBatch([])
    for index, item in enumerate(items):
        if isinstance(item, UsageRecord):
            batch.records.append((index, item))
            continue
        try:
            batch.records.append((index, _RECORD.validate_python(item)))
        except ValidationError as exc:
            batch.refusals.append(Refusal(index, _event_id_of(item), field_errors(exc)))
    return batch


def receive_wire_events(events: Sequence[WireEvent]) -> ReceivedBatch:
    """Events msgspec read already (the topic door): whole by the fast checks when every one is
    valid, else each validated (or refused, with its reasons) by pydantic from what was read."""
    wire = check_events(events)
    if wire is not None:
        return ReceivedBatch(list(wire))
    return receive_events([msgspec.to_builtins(event) for event in events])


def parse_json_batch(body: bytes) -> ReceivedBatch:
    """A JSON body `{"events": [...]}`: whole when every event is valid (msgspec's fast path, then
    pydantic's), else event by event.

    A body that is not such an object is a 422 (ValidationFailed) naming what is wrong with it.
    """
    wire = decode_batch(body)
    if wire is not None:
        return ReceivedBatch(list(wire))
    try:
        fast = _FAST_BATCH.validate_json(body)
        return ReceivedBatch(list(enumerate(fast.events)))
    except ValidationError:
        pass
    if body.count(b"{") + body.count(b"[") > MAX_CONTAINERS:
        raise ValidationFailed.single(
            "body", f"holds more JSON objects and arrays than {MAX_BATCH_EVENTS:,} events can", "too_complex"
        )
    try:
        document = loads_exact(body)
    except (ValueError, RecursionError) as exc:
        raise ValidationFailed.single("body", f"is not valid JSON ({exc})", "json_invalid") from None
    if not isinstance(document, dict):
        raise ValidationFailed.single("body", 'must be a JSON object {"events": [...]}', "model_type")
    unknown = [FieldError(str(k)[:64], "unknown field", "extra_forbidden") for k in document if k != "events"]
    if unknown:
        raise ValidationFailed("The batch has unknown fields", unknown)
    events = document.get("events")
    if not isinstance(events, list):
        raise ValidationFailed.single("events", "must be a list of usage events", "list_type")
    _check_size(len(events))
    return receive_events(events)


def parse_ndjson_batch(body: bytes) -> ReceivedBatch:
    """An NDJSON body: one event per non-blank line; a malformed line is a refusal of that event."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValidationFailed.single("body", f"is not UTF-8 ({exc.reason})", "utf8_invalid") from None
    # Lines end with LF (CRLF too); other Unicode line breaks belong to the JSON text.
    lines = [line for line in text.split("\n") if line.strip()]
    _check_size(len(lines))
    wire = decode_lines(lines)
    if wire is not None:
        return ReceivedBatch(list(wire))
    batch = ReceivedBatch([])
    for index, line in enumerate(lines):
        event = read_ndjson_event(line)
        if isinstance(event, Refusal):
            batch.refusals.append(Refusal(index, event.event_id, event.errors))
        else:
            batch.records.append((index, event))
    return batch


def read_ndjson_event(line: str) -> UsageFields | Refusal:
    """One NDJSON line as an event, or why it is not one (a refusal at index 0: the caller places it)."""
    try:
        return _FAST_LINE.validate_json(line)
    except ValidationError:
        pass
    if line.count("{") + line.count("[") > MAX_LINE_CONTAINERS:
        error = FieldError("line", "holds more JSON objects and arrays than an event can", "too_complex")
        return Refusal(0, None, [error])
    try:
        item = loads_exact(line)
    except (ValueError, RecursionError) as exc:
        return Refusal(0, None, [FieldError("line", f"is not valid JSON ({exc})", "json_invalid")])
    one = receive_events([item])
    return one.records[0][1] if one.records else one.refusals[0]


def parse_usage_body(body: bytes, content_type: str | None) -> ReceivedBatch:
    """The events of a `POST /v1/usage` body, by its media type (JSON unless NDJSON)."""
    media_type = (content_type or "").split(";")[0].strip().lower()
    if media_type in {NDJSON, "application/ndjson", "application/jsonl", "application/jsonlines"}:
        return parse_ndjson_batch(body)
    return parse_json_batch(body)


def _check_size(count: int) -> None:
    if count == 0:
        raise ValidationFailed.single("events", "a batch holds at least one event", "too_short")
    if count > MAX_BATCH_EVENTS:
        raise ValidationFailed.single(
            "events", f"a batch holds at most {MAX_BATCH_EVENTS:,} events, not {count:,}", "too_long"
        )


class FieldProblemPublic(BaseModel):
    """One reason an event was refused."""

    field: str = Field(examples=["quantity"])
    message: str
    code: str = Field(examples=["unknown_meter"])


class RefusalPublic(BaseModel):
    """An event refused, with every reason; the batch's other events are kept."""

    index: int = Field(description="Position of the event in the batch, from 0 (NDJSON: its non-blank line).")
    event_id: str | None
    errors: list[FieldProblemPublic]


class UsageReceipt(BaseModel):
    """What became of a batch, answered once it is committed (durable)."""

    batch_id: str = Field(
        description="Names the batch in the audit log.", examples=["ub_01JD0S6Y4Q7V3J6C3M9W1K2X8Z"]
    )
    received: int = Field(description="Events in the batch.")
    accepted: int = Field(description="New events stored: counted + late + unmatched + filtered.")
    counted: int = Field(description="Counted in the period they fell in.")
    late: int = Field(description="Their period was already rated: counted in the next open period.")
    unmatched: int = Field(description="No subscription found: kept in the review queue.")
    filtered: int = Field(
        description="Kept but not counted: their properties do not pass the meter's filter."
    )
    duplicates: int = Field(description="Already stored (same event_id): ignored.")
    refused: int = Field(description="Invalid: not stored (see `refusals`).")
    refusals: list[RefusalPublic] = Field(
        default_factory=list, description=f"The refused events (the first {MAX_REPORTED_REFUSALS:,})."
    )


def refusal_public(refusal: Refusal) -> RefusalPublic:
    """The public view of a refusal."""
    return RefusalPublic(
        index=refusal.index,
        event_id=refusal.event_id,
        errors=[FieldProblemPublic(field=e.field, message=e.message, code=e.code) for e in refusal.errors],
    )


def batch_request_body() -> dict[str, Any]:
    """The OpenAPI `requestBody` of `POST /v1/usage` (the route reads its body itself).

    The batch's shape is the contract (an object with 1 to 10,000 `events`, nothing else); each
    item is any JSON value: a `UsageRecord` is kept, anything else refused on its own in the
    answer, so the document says so instead of promising a 422 for one bad event.
    """
    record = UsageRecord.model_json_schema()
    record.pop("title", None)
    item = {
        "description": "A usage event (UsageRecord). An invalid one is refused on its own, with its "
        "reasons, in the answer; the batch's valid events are kept.",
        "anyOf": [record, {}],
    }
    schema = {
        "type": "object",
        "required": ["events"],
        "additionalProperties": False,
        "properties": {
            "events": {"type": "array", "minItems": 1, "maxItems": MAX_BATCH_EVENTS, "items": item}
        },
    }
    return {
        "required": True,
        "content": {"application/json": {"schema": schema}},
        "description": "A JSON batch; the same events may be sent as NDJSON (`Content-Type: "
        "application/x-ndjson`, one event per line).",
    }
