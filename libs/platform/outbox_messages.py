"""The seam between the outbox relay and the broker: the messages the relay hands over, what
the publisher answers for each, and how pending rows are packed into messages (one event per
message, or batch messages for batchable event types, `libs.contracts.batch`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from libs.contracts.batch import BATCH_HEADERS, encode_batch
from libs.contracts.registry import is_batchable


@dataclass(frozen=True)
class OutboundMessage:
    """What the relay hands to a publisher: one Kafka message (one event, or a batch of them)."""

    topic: str
    key: str
    value: bytes
    headers: tuple[tuple[str, bytes], ...] = ()


class MessageRefused(Exception):
    """The broker refused a message for good (too large, invalid topic): sending it again as it
    is cannot succeed, so the relay parks its rows instead of retrying them."""


PublishOutcome = BaseException | None
"""Per message: None when the broker acknowledged it, `MessageRefused` when it refused it for
good, any other exception when it failed for now (broker down, timeout) and must be retried."""


class EventPublisher(Protocol):
    """The bootstrap seam between the relay and the broker (a fake in unit tests)."""

    async def publish(self, messages: Sequence[OutboundMessage]) -> Sequence[PublishOutcome]:
        """Send every message, wait for all, return one outcome per message, in order.

        Order within a key is preserved; after a transient failure no later message is sent.
        Raises only when nothing could be attempted.
        """


@dataclass
class PackedMessage:
    """Consecutive pending rows of one topic and key travelling in one message."""

    topic: str
    key: str
    event_type: str
    row_ids: list[int]
    event_ids: list[str]
    bodies: list[bytes]
    size: int

    def message(self) -> OutboundMessage:
        """The Kafka message: the envelope itself for one row, a batch message for several."""
        if len(self.bodies) == 1:
            return OutboundMessage(self.topic, self.key, self.bodies[0])
        value = encode_batch(self.bodies, event_ids=self.event_ids)
        return OutboundMessage(self.topic, self.key, value, BATCH_HEADERS)


def pack_rows(
    rows: Sequence[Any], *, max_items: int, max_bytes: int, unbatched: set[int]
) -> list[PackedMessage]:
    """Group rows (in id order) into messages: runs of one batchable type per topic and key.

    Messages come out ordered by their first row, so within a key they keep the rows' order; a
    row of a type that is not batchable closes its key's open batch.
    """
    messages: list[PackedMessage] = []
    open_batches: dict[tuple[str, str], PackedMessage] = {}
    for row in rows:
        body = row.body.encode()
        stream = (row.topic, row.key)
        batchable = max_items > 1 and is_batchable(row.event_type) and row.id not in unbatched
        current = open_batches.get(stream)
        if (
            batchable
            and current is not None
            and current.event_type == row.event_type
            and len(current.row_ids) < max_items
            and current.size + len(body) <= max_bytes
        ):
            current.row_ids.append(row.id)
            current.event_ids.append(row.event_id)
            current.bodies.append(body)
            current.size += len(body) + 1
            continue
        packed = PackedMessage(
            row.topic, row.key, row.event_type, [row.id], [row.event_id], [body], len(body)
        )
        messages.append(packed)
        if batchable:
            open_batches[stream] = packed
        else:
            open_batches.pop(stream, None)
    return messages
