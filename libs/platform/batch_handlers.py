"""Batch handlers: a consumer's handler that takes a whole batch message at once (DESIGN §4).

High-volume event types travel many to a Kafka message (`libs.contracts.batch`). Every handler
receives them: an ordinary `EventHandler` is called once per event, exactly as if the events
had come one per message (inbox row per `event_id`, isolation, retries and parking per event).
A handler that would rather write a whole batch in one go — one multi-row insert instead of
one per event — is registered wrapped in `BatchEventHandler`, in the same `handlers` mapping:

    handlers={"usage.recorded": BatchEventHandler(record_usage)}

    async def record_usage(session: AsyncSession, envelopes: Sequence[Envelope]) -> None: ...

The consumer then calls it once with their events, without a flush, savepoint or log binding
per event: once for each run of consecutive messages of its type in a poll (a whole poll of a
high-volume topic), so the events of several keys may come in one call, each key's events oldest
first. Each message is taken whole (never split across calls). Single-event messages count as
messages of one (their inbox row is their event id, as on the per-event path): an event type
published one per message but in bursts — `invoice.finalized` during a bill run — is applied a
poll at a time too. Events of the poll that no handler reads (nothing to apply, no inbox row)
do not break a run.
Exactly once holds without asking the handler to be idempotent:

- the inbox gets one row per message, keyed by its message id (the batch id): a redelivered
  message is skipped on that one row, its items never looked at;
- a republish may group the same rows into a different batch (a new batch id), so the items'
  `event_id`s are recorded too, all in one multi-row insert with the message's row, and a
  message not seen before is first filtered against them (one look-up per poll, the ids
  travelling as one parameter): the handler only ever receives events not yet applied. Its
  cost is an index probe and a short row per event, far below the per-event flush it replaces.

A handler that applies each event at most once by a key of its own — usage events carry their
producer's `event_id`, and the rating table's primary key refuses a second copy — says so with
`BatchEventHandler(apply, idempotent=True)`. The consumer then records only the message's row:
no inbox row per item and no look-up of items, because a regrouped republish reaching the
handler again changes nothing there. For ~1,000 events per message that saves writing (and
indexing) 1,000 inbox rows per message, the largest cost of the consumer beside the handler's
own insert (`python -m bench.inbox_items` measures it). A redelivered message is still skipped
whole on its one row; the per-event path (below) still records its events' rows.

An idempotent handler may also take the payload fast path, `BatchEventHandler(apply,
idempotent=True, payloads=PayloadHandler(PayloadStruct, apply_payloads))`: a batch message
whose items are all valid envelopes of its type is then read by msgspec in one pass, straight
into `PayloadStruct`s (`libs.contracts.batch.PayloadDecoders`), and `apply_payloads` takes
them without an `Envelope` per item; a message the fast path will not vouch for goes to
`apply` as before, and so does everything on the per-event path.

When a batch handler raises, the consumer falls back to the per-event path for the poll: it
redoes it with a savepoint per event, calling the handler with one event at a time, so that
only the failing event is retried or parked (as its own envelope JSON, so an operator's replay
works) and the others apply. A replay and the fallback call the handler with a list of one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from libs.contracts.envelope import Envelope
from libs.platform.deliveries import Delivery

ApplyEvents = Callable[[AsyncSession, Sequence[Envelope]], Awaitable[None]]
ApplyPayloads = Callable[[AsyncSession, Sequence[Any]], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class PayloadHandler:
    """The payload fast path of a batch handler: batch messages whose items are all valid are
    read by msgspec straight into `payload_type` (no `Envelope` per item) and handed to `apply`."""

    payload_type: type[Any]
    apply: ApplyPayloads


@dataclass(frozen=True, slots=True)
class BatchEventHandler:
    """A handler that applies the events of a batch message in one call (see the module)."""

    apply_events: ApplyEvents
    idempotent: bool = False
    """True when `apply_events` applies each event at most once by a key of its own: the consumer
    then keeps one inbox row per message and none per item (see the module)."""
    payloads: PayloadHandler | None = None
    """The payload fast path (an idempotent handler's only: the items' envelopes are not read,
    so neither are their ids); `apply_events` still takes whatever the fast path leaves."""

    def __post_init__(self) -> None:
        if self.payloads is not None and not self.idempotent:
            raise ValueError("the payload fast path needs a handler idempotent by its own keys")

    async def __call__(self, session: AsyncSession, envelope: Envelope) -> None:
        """Apply one event (per-event path: single messages, fallback, replay)."""
        await self.apply_events(session, [envelope])


@dataclass(frozen=True, slots=True)
class BatchDelivery:
    """The events of one batch message, for a batch handler to take whole."""

    message_id: str
    event_type: str
    handler: BatchEventHandler
    deliveries: list[Delivery]

    @property
    def size(self) -> int:
        """How many events the message carries."""
        return sum(delivery.size for delivery in self.deliveries)

    @property
    def single(self) -> bool:
        """True for a single-event message (its message id is its event's id)."""
        return self.deliveries[0].message_id is None

    @property
    def read_whole(self) -> bool:
        """True when the message's payloads were read by the payload fast path."""
        return self.deliveries[0].payloads is not None


def by_message(
    deliveries: Sequence[Delivery], handlers: Mapping[str, object]
) -> list[Delivery | BatchDelivery]:
    """The deliveries of a poll in order, those of each batch message for a batch handler
    gathered into one `BatchDelivery` (a batch's items share its type, so its handler)."""
    units: list[Delivery | BatchDelivery] = []
    for delivery in deliveries:
        handler = handlers.get(delivery.event_type or "")
        if not isinstance(handler, BatchEventHandler):
            units.append(delivery)
            continue
        if delivery.message_id is None:
            if delivery.envelope is None or delivery.problem:
                units.append(delivery)
            else:
                # A single-event message is a message of one, known by its event id (the inbox
                # row the per-event path writes for it too).
                event_id = str(delivery.envelope.event_id)
                units.append(BatchDelivery(event_id, delivery.envelope.type, handler, [delivery]))
            continue
        if delivery.envelope is None and delivery.payloads is None:
            units.append(delivery)
            continue
        last = units[-1] if units else None
        if isinstance(last, BatchDelivery) and last.message_id == delivery.message_id:
            last.deliveries.append(delivery)
        else:
            event_type = delivery.envelope.type if delivery.envelope is not None else delivery.event_type
            assert event_type is not None
            units.append(BatchDelivery(delivery.message_id, event_type, handler, [delivery]))
    return units


def runs_by_handler(units: Sequence[Delivery | BatchDelivery]) -> list[Delivery | list[BatchDelivery]]:
    """The units of a poll in order, consecutive batch messages of one type gathered (one call of
    their batch handler), messages read by the payload fast path apart from the others."""
    runs: list[Delivery | list[BatchDelivery]] = []
    for unit in units:
        last = runs[-1] if runs else None
        if not isinstance(unit, BatchDelivery):
            runs.append(unit)
        elif (
            isinstance(last, list)
            and last[0].event_type == unit.event_type
            and last[0].read_whole == unit.read_whole
        ):
            last.append(unit)
        else:
            runs.append([unit])
    return runs


def unread(unit: Delivery | BatchDelivery, handlers: Mapping[str, object]) -> bool:
    """True for a valid event that no handler of the consumer reads: applying it does nothing, so
    it needs neither an inbox row nor a look-up (a topic's other types — a bill run's invoice
    events on `invoicing.events` — would otherwise cost a row each, for every group)."""
    if not isinstance(unit, Delivery) or unit.problem or unit.payloads is not None:
        return False
    kind = unit.envelope.type if unit.envelope is not None else unit.event_type
    return kind is not None and kind not in handlers
