"""Batch messages: many events of one type and key in one Kafka message (DESIGN §4).

A Kafka message costs far more than an event inside it, so high-volume event types (those
registered with `batchable=True`) may travel packed: one header that the items share and
`items`, each item the event's own envelope as it would travel alone (its own `event_id`,
`occurred_at`, `payload`, correlation and causation ids). Items are spliced in as the outbox
stored them, so packing costs the relay no JSON work, and the whole message parses in one pass
(one `model_validate_json`).

The two forms are told apart by a Kafka record header, not by parsing: a batch carries
`message-form: batch`; a message without that header is one envelope. `decode_message` is the
one way to turn a record into the events it carries, whatever its form.

`decode_payloads` is the fast path of a high-volume consumer that wants only the items'
payloads, each read by msgspec straight into the consumer's own type, without a pydantic
`Envelope` per item (13 µs an item for a usage event, more than the rest of the decoding). It
accepts a subset of what `decode_message` accepts, never more: every envelope rule it cannot
check as cheaply (a time in another form than RFC 3339, a type or key that differs from the
header's, a schema version this code predates, a payload its type refuses) makes it answer
None, and the caller takes `decode_message`'s path, which also words the reasons.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Final, Generic, Self, TypeVar

import msgspec
from pydantic import BaseModel, ConfigDict, Field, model_validator

from libs.contracts.envelope import Envelope
from libs.contracts.registry import unsupported_version

FORM_HEADER = "message-form"
BATCH_FORM = b"batch"
BATCH_HEADERS: tuple[tuple[str, bytes], ...] = ((FORM_HEADER, BATCH_FORM),)

# Batch ids are derived from the items they carry, so a message sent again with the same items
# (the relay retrying after a lost acknowledgement) keeps its id.
_BATCH_NAMESPACE = uuid.UUID("6f1d3c0e-7a52-4b8e-9a57-2b6f0c9d41a1")

KafkaHeaders = Sequence[tuple[str, bytes]]


class EventBatch(BaseModel):
    """Events of one type and one key travelling in one message, in the order they occurred."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    batch_id: uuid.UUID = Field(description="Id of this message; the same items give the same id.")
    type: str = Field(description="Event type of every item.", examples=["usage.recorded"])
    schema_version: int = Field(ge=1, description="Schema version of the first item.")
    producer: str = Field(description="Service that emitted the events.")
    key: str = Field(description="Partition key of every item (usually the account id).")
    correlation_id: str | None = Field(
        default=None, description="Correlation id of the first item; each item keeps its own."
    )
    items: list[Envelope] = Field(min_length=1, description="The events, oldest first.")

    @model_validator(mode="after")
    def _items_match_header(self) -> Self:
        # A consumer routes a batch by its header: an item of another type or key would be
        # applied by the wrong handler or out of its key's order.
        for item in self.items:
            if item.type != self.type or item.key != self.key:
                raise ValueError(
                    f"item {item.event_id} is {item.type}/{item.key}, not {self.type}/{self.key}"
                )
        return self


@dataclass(frozen=True, slots=True)
class BusMessage:
    """What one Kafka message carries: its id and its events, oldest first."""

    message_id: str
    """The batch id of a batch, the event id of a single event (one inbox row per message)."""
    events: list[Envelope]
    is_batch: bool


def is_batch(headers: KafkaHeaders | None) -> bool:
    """True when a record's headers mark it as a batch message."""
    return any(name == FORM_HEADER and value == BATCH_FORM for name, value in headers or ())


def decode_message(value: bytes, headers: KafkaHeaders | None = None) -> BusMessage:
    """Parse a record's value into the events it carries, single or batch (one parsing pass).

    Raises pydantic's `ValidationError` when the value is not a valid envelope or batch.
    """
    if is_batch(headers):
        batch = EventBatch.model_validate_json(value)
        return BusMessage(str(batch.batch_id), batch.items, True)
    envelope = Envelope.model_validate_json(value)
    return BusMessage(str(envelope.event_id), [envelope], False)


def batch_id_for(event_ids: Sequence[str]) -> uuid.UUID:
    """The id of a batch carrying these events (first, last and count identify a run of rows)."""
    return uuid.uuid5(_BATCH_NAMESPACE, f"{event_ids[0]}:{event_ids[-1]}:{len(event_ids)}")


def encode_batch(items: Sequence[bytes], *, event_ids: Sequence[str]) -> bytes:
    """The wire form of a batch from its items' envelope JSON (as `Envelope.to_bytes` gives it).

    The header is read from the first item; the items are spliced in unparsed.
    """
    first = json.loads(items[0])
    header = {
        "batch_id": str(batch_id_for(event_ids)),
        "type": first["type"],
        "schema_version": first["schema_version"],
        "producer": first["producer"],
        "key": first["key"],
        "correlation_id": first.get("correlation_id"),
    }
    head = json.dumps(header, separators=(",", ":")).encode()
    return b"".join((head[:-1], b',"items":[', b",".join(items), b"]}"))


P = TypeVar("P")

# RFC 3339 with an upper-case T and an explicit offset, up to microseconds: a form pydantic's
# AwareDatetime reads too (any other form is left to it).
_HOUR_MINUTE: Final = "(?:[01][0-9]|2[0-3]):[0-5][0-9]"
_AWARE_TIME: Final = (
    rf"^[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}T{_HOUR_MINUTE}:[0-5][0-9]"
    rf"(?:\.[0-9]{{1,6}})?(?:Z|[+-]{_HOUR_MINUTE})$"
)


class _FastItem(msgspec.Struct, Generic[P], gc=False):
    """An item of a batch as `Envelope` reads it (unknown fields ignored), its payload typed."""

    event_id: uuid.UUID
    type: str
    occurred_at: Annotated[str, msgspec.Meta(pattern=_AWARE_TIME)]
    producer: str
    key: str
    payload: P
    schema_version: Annotated[int, msgspec.Meta(ge=1)] = 1
    correlation_id: str | None = None
    causation_id: str | None = None


class _FastBatch(msgspec.Struct, Generic[P], gc=False):
    batch_id: uuid.UUID
    type: str
    schema_version: Annotated[int, msgspec.Meta(ge=1)]
    producer: str
    key: str
    items: Annotated[list[_FastItem[P]], msgspec.Meta(min_length=1)]
    correlation_id: str | None = None


class _BatchType(msgspec.Struct):
    type: str


_TYPE_OF_BATCH: Final = msgspec.json.Decoder(_BatchType)
_UNREADABLE: Final = (msgspec.MsgspecError, ValueError, TypeError, RecursionError)


@dataclass(frozen=True, slots=True)
class BatchPayloads:
    """A batch message read by `decode_payloads`: its id, its type and its items' payloads."""

    message_id: str
    event_type: str
    payloads: list[Any]


class PayloadDecoders:
    """msgspec decoders of batch messages per event type, each reading payloads into its type."""

    def __init__(self, payload_types: dict[str, type[Any]]) -> None:
        self._decoders: dict[str, Callable[[bytes], Any]] = {
            event_type: msgspec.json.Decoder(_FastBatch[payload_type]).decode  # type: ignore[valid-type]
            for event_type, payload_type in payload_types.items()
        }

    def __bool__(self) -> bool:
        return bool(self._decoders)

    def decode_payloads(self, value: bytes, headers: KafkaHeaders | None) -> BatchPayloads | None:
        """The payloads of a valid batch message of a type with a decoder, or None: then
        `decode_message` decides (see the module)."""
        if not self._decoders or not is_batch(headers):
            return None
        if not value.isascii():
            try:
                value.decode()  # msgspec skips unknown fields unread: pydantic refuses bad UTF-8 anywhere
            except UnicodeDecodeError:
                return None
        try:
            decode = self._decoders.get(_TYPE_OF_BATCH.decode(value).type)
            if decode is None:
                return None
            batch = decode(value)
        except _UNREADABLE:
            return None
        items = batch.items
        if any(item.type != batch.type or item.key != batch.key for item in items):
            return None
        if any(unsupported_version(batch.type, v) for v in {item.schema_version for item in items}):
            return None
        return BatchPayloads(str(batch.batch_id), batch.type, [item.payload for item in items])
