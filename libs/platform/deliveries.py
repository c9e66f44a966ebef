"""What a consumer makes of a Kafka record before applying it, and how it judges a failure.

A record carries envelopes (`envelopes_of`: one for a single-event message, several for a batch
message, told apart by `libs.contracts.batch.decode_message`) or is undeliverable — not an
envelope or batch, no `event_id`, a timestamp without a time zone — and an event the consumer
handles may come in a `schema_version` newer than this code knows; either is parked, never
applied. A handler's failure is permanent (park now), transient
(retry with back-off, then park) or a failure of the database connection (redo the batch; the
event is not to blame).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Container
from dataclasses import dataclass
from typing import Any, Final

import msgspec
from aiokafka import ConsumerRecord
from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from libs.contracts.batch import BusMessage, KafkaHeaders, PayloadDecoders, decode_message, is_batch
from libs.contracts.envelope import Envelope
from libs.contracts.registry import unsupported_version
from libs.platform.errors import DomainError


class MalformedMessage(ValueError):
    """A Kafka message that is not an event this code may apply; the reason says why."""


def message_of(value: bytes | None, headers: KafkaHeaders | None = None) -> BusMessage:
    """What one Kafka message carries (its id and its envelopes), or `MalformedMessage`.

    A batch message is judged whole: one item that is not a valid envelope, or not of the
    batch's type and key, makes the message malformed (`decode_message` parses it in one pass).
    """
    if value is None:
        raise MalformedMessage("not an event envelope: the message has no value")
    try:
        return decode_message(value, headers)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}" for e in exc.errors()[:5]
        )
        form = "event batch" if is_batch(headers) else "event envelope"
        raise MalformedMessage(f"not an {form}: {problems}") from exc


def envelopes_of(value: bytes | None, headers: KafkaHeaders | None = None) -> list[Envelope]:
    """The envelopes one Kafka message carries, oldest first, or `MalformedMessage`."""
    return message_of(value, headers).events


@dataclass(frozen=True)
class Delivery:
    """One event of a record; `problem` says why it must be parked instead of applied
    (`envelope` is None when the record is not an envelope at all)."""

    record: ConsumerRecord[Any, Any]
    envelope: Envelope | None
    problem: str = ""
    event_type: str | None = None
    message_id: str | None = None
    """The batch id when the event came in a batch message (None for a single event)."""
    payloads: list[Any] | None = None
    """All the payloads of a batch message read whole by `PayloadDecoders` (then `envelope` is
    None): one delivery stands for the message's events."""

    @property
    def size(self) -> int:
        """How many events this delivery carries."""
        return len(self.payloads) if self.payloads is not None else 1


def deliveries_of(
    record: ConsumerRecord[Any, Any], handled: Container[str], decoders: PayloadDecoders | None = None
) -> list[Delivery]:
    """The events a record carries, or one undeliverable entry saying why.

    The schema version is judged only for `handled` types: an event nobody here reads is
    harmless in any version (a single-event message of such a type is not even parsed: one
    delivery of its type, without an envelope). A batch message of a type `decoders` reads is
    one delivery of its payloads when they are all valid (`libs.contracts.batch.decode_payloads`).
    """
    if decoders and record.value is not None:
        fast = decoders.decode_payloads(record.value, record.headers)
        if fast is not None:
            return [Delivery(record, None, "", fast.event_type, fast.message_id, fast.payloads)]
    unread = _unread_type(record, handled)
    if unread is not None:
        return [Delivery(record, None, "", unread)]
    try:
        message = message_of(record.value, record.headers)
    except MalformedMessage as exc:
        return [Delivery(record, None, str(exc), _type_of(record.value))]
    batch_id = message.message_id if message.is_batch else None
    deliveries = []
    for envelope in message.events:
        problem = (version_problem(envelope) or "") if envelope.type in handled else ""
        deliveries.append(Delivery(record, envelope, problem, envelope.type, batch_id))
    return deliveries


class _Head(msgspec.Struct):
    """What tells a single envelope's type (a batch's body has no `event_id`)."""

    event_id: str
    type: str


_HEAD: Final = msgspec.json.Decoder(_Head)


def _unread_type(record: ConsumerRecord[Any, Any], handled: Container[str]) -> str | None:
    """The type of a single-event message that no handler here reads, read alone (the rest of the
    envelope is not parsed: a topic's other types — a bill run's invoice events, for the groups
    that read one type of `invoicing.events` — would each cost a full validation for nothing);
    None when it is read here, or it does not look like an envelope (the full parse judges it; a
    flaw further in an envelope of a type nobody here reads is left to the groups that read it)."""
    if record.value is None or is_batch(record.headers):
        return None
    try:
        kind = _HEAD.decode(record.value).type
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    return kind if kind and kind not in handled else None


def version_problem(envelope: Envelope) -> str | None:
    """Why this code must not apply `envelope` (a major version it predates), or None."""
    return unsupported_version(envelope.type, envelope.schema_version)


def is_infrastructure(exc: BaseException) -> bool:
    """A failure of the database connection rather than of the event: redo the batch later."""
    if isinstance(exc, OperationalError | InterfaceError | OSError | TimeoutError):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def is_permanent(exc: BaseException) -> bool:
    """The event itself is unusable: retrying cannot help."""
    if isinstance(exc, DomainError):
        return not exc.transient
    return isinstance(exc, ValidationError)


def describe(exc: BaseException) -> str:
    """An error as an operator reads it: its kind and its message."""
    return f"{type(exc).__name__}: {exc}"


def _type_of(value: bytes | None) -> str | None:
    """The `type` of a message that is not a valid envelope, when one can be read (for operators)."""
    with contextlib.suppress(ValueError, TypeError, AttributeError):
        kind = json.loads(value or b"").get("type")
        return kind[:120] if isinstance(kind, str) else None
    return None
