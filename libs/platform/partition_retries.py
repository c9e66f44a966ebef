"""Where a consumer's partitions stand after a failed event: stopped at it until a back-off ends.

An event that may succeed later (libs/platform/inbox.py: a transient domain error or an
unexpected exception) stops its partition: the partition is rewound to that event and paused,
and tried again after a back-off that doubles with each attempt, up to `MAX_RETRY_BACKOFF_S`.
The other partitions go on meanwhile. After `max_attempts` the event is parked (the inbox
does that) and its partition moves past it.

`PartitionRetries` keeps, per partition, the event it is stopped at; the inbox asks it what an
event's failure means (`next_attempt`), which offsets a poll may commit (`commit_offsets`, which
also pauses the stopped partitions) and when to resume them (`resume_due`). A stop becomes
known only once the transaction of its batch held (`settle`): a batch redone after a database
failure decides again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from libs.platform.deliveries import Delivery, describe, is_permanent
from libs.platform.logging import get_logger

log = get_logger("inbox")

MAX_RETRY_BACKOFF_S = 30.0
"""The longest an event's partition waits before its next attempt."""


@dataclass
class Retry:
    """The event a partition is stopped at, how often it failed, and when to try again."""

    offset: int
    attempts: int
    due: float | None
    """When to try again (the event loop's clock); None: no more attempts, the event is parked."""
    error: str
    event_id: str | None = None  # which event of the message (a batch message carries several)


class PartitionRetries:
    """The partitions of one consumer that are stopped at a failed event (see the module)."""

    def __init__(self, *, group_id: str, max_attempts: int, backoff_s: float) -> None:
        self.group_id = group_id
        self.max_attempts = max_attempts
        self.backoff_s = backoff_s
        self._stopped: dict[TopicPartition, Retry] = {}

    def clear(self) -> None:
        """Forget every stop (a new consumer starts from the committed offsets)."""
        self._stopped.clear()

    def resume_due(self, consumer: AIOKafkaConsumer) -> None:
        """Resume the paused partitions whose back-off is over."""
        if not self._stopped:
            return
        now = asyncio.get_running_loop().time()
        paused = consumer.paused()
        for tp, retry in self._stopped.items():
            if tp in paused and retry.due is not None and retry.due <= now:
                consumer.resume(tp)

    def commit_offsets(
        self, consumer: AIOKafkaConsumer, batches: Mapping[TopicPartition, Sequence[Any]]
    ) -> dict[TopicPartition, int]:
        """The offsets to commit after a poll's batch held, for the partitions still owned; a
        partition stopped inside its batch is rewound to its failed event and paused."""
        owned = consumer.assignment()
        offsets: dict[TopicPartition, int] = {}
        for tp, records in batches.items():
            if tp not in owned:
                continue
            retry = self._stopped.get(tp)
            if retry is not None and records[0].offset <= retry.offset <= records[-1].offset:
                # The partition stops at its failing event until the back-off is over.
                consumer.seek(tp, retry.offset)
                consumer.pause(tp)
                offsets[tp] = retry.offset
            else:
                offsets[tp] = records[-1].offset + 1
        return offsets

    def next_attempt(self, delivery: Delivery, tp: TopicPartition, exc: Exception) -> Retry:
        """The failed event's stop: its attempts so far and when to try again — `due` is None
        when it is to be parked instead (its error is permanent, or it failed `max_attempts`
        times in a row)."""
        offset = delivery.record.offset
        event_id = str(delivery.envelope.event_id) if delivery.envelope else None
        previous = self._stopped.get(tp)
        same = previous is not None and (previous.offset, previous.event_id) == (offset, event_id)
        attempts = previous.attempts + 1 if previous is not None and same else 1
        error = describe(exc)
        if is_permanent(exc) or attempts >= self.max_attempts:
            return Retry(offset, attempts, None, error, event_id)
        backoff = min(self.backoff_s * 2 ** (attempts - 1), MAX_RETRY_BACKOFF_S)
        log.warning(
            "consumer.event_retry",
            group=self.group_id,
            topic=tp.topic,
            partition=tp.partition,
            offset=offset,
            attempts=attempts,
            backoff_s=backoff,
            error=error,
        )
        return Retry(offset, attempts, asyncio.get_running_loop().time() + backoff, error, event_id)

    def settle(self, partitions: Iterable[TopicPartition], stops: Mapping[TopicPartition, Retry]) -> None:
        """Once a batch's transaction held: its partitions stopped in it keep their stop, the
        others went through and forget theirs."""
        for tp in partitions:
            if tp in stops:
                self._stopped[tp] = stops[tp]
            else:
                self._stopped.pop(tp, None)
