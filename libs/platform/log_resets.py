"""Noticing a partition whose log went back: a broker that lost its messages and started afresh.

A Kafka log only grows: its high watermark never goes down. The local broker keeps messages in
memory, so when it is killed and started again its topics begin at offset 0 — while a consumer
that stayed up still fetches from the position it had reached. Once producers have sent more
than that position again, the consumer reads from there on and silently skips the messages
before it (and commits past them); before, it reads nothing at all. A real cluster can go back
too, after an unclean leader election truncated a log.

`LogResetWatch` remembers the highest high watermark a consumer has seen per partition; a
fetch that reports a lower one means the log went back. The consumer then drops what it
fetched from that partition (nothing of it is applied or committed) and goes back to the
partition's committed offset on the broker as it is now — the beginning of a fresh log — so
every message is read; what was applied already is skipped by the inbox (or the handler's own
key), exactly once as ever.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable, Mapping
from typing import TypeVar

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from libs.platform.logging import get_logger

log = get_logger("inbox")

Fetched = TypeVar("Fetched")

COMMITTED_TIMEOUT_S = 5.0
"""How long to wait for a partition's committed offset before reading it from offset 0."""


class LogResetWatch:
    """The highest high watermark seen per partition, and the partitions whose log went back."""

    def __init__(self) -> None:
        self._highest: dict[TopicPartition, int] = {}

    def went_back(
        self, consumer: AIOKafkaConsumer, partitions: Iterable[TopicPartition]
    ) -> set[TopicPartition]:
        """The partitions whose high watermark is now below the highest seen (then forgotten)."""
        back: set[TopicPartition] = set()
        for tp in partitions:
            now = consumer.highwater(tp)
            if now is None:
                continue
            highest = self._highest.get(tp)
            if highest is not None and now < highest:
                back.add(tp)
            self._highest[tp] = now
        return back

    async def keep_in_log(
        self, consumer: AIOKafkaConsumer, batches: Mapping[TopicPartition, Fetched], *, group: str
    ) -> dict[TopicPartition, Fetched]:
        """What a poll fetched, less the partitions whose log went back: nothing fetched from
        those is applied, they are read again from their committed offset. After a poll that
        fetched nothing, partitions positioned past their log's end are read again the same way."""
        kept = dict(batches)
        reset = self.went_back(consumer, consumer.assignment())
        if reset:
            log.warning("consumer.log_went_back", group=group, partitions=sorted(map(str, reset)))
            kept = {tp: records for tp, records in kept.items() if tp not in reset}
            await rewind_to_committed(consumer, reset)
            log.warning("consumer.rewound", group=group, partitions=len(reset))
        if not kept:
            beyond = await past_the_end(consumer, consumer.assignment())
            if beyond:
                log.warning("consumer.past_log_end", group=group, partitions=sorted(map(str, beyond)))
                await rewind_to_committed(consumer, beyond)
        return kept


async def past_the_end(
    consumer: AIOKafkaConsumer, partitions: Iterable[TopicPartition]
) -> set[TopicPartition]:
    """The partitions whose fetch position is beyond their log's high watermark.

    A position only advances over records the log had, so one past the end means the log is
    shorter than it was: a broker that lost it, met with a position taken from a commit of the
    old log (the consumer's last commit before the loss may reach the new broker, and a rejoin
    then starts from it). A real broker answers such a fetch with OFFSET_OUT_OF_RANGE and the
    `earliest` reset applies; the local broker answers nothing at all, so the consumer would
    wait there for ever.
    """
    beyond: set[TopicPartition] = set()
    for tp in partitions:
        high = consumer.highwater(tp)
        if high is None:
            continue
        try:
            position = await asyncio.wait_for(consumer.position(tp), COMMITTED_TIMEOUT_S)
        except (KafkaError, TimeoutError):
            continue
        if position > high:
            beyond.add(tp)
    return beyond


async def rewind_to_committed(consumer: AIOKafkaConsumer, partitions: Iterable[TopicPartition]) -> None:
    """Fetch these partitions again from their committed offset; from offset 0 when there is none,
    when the broker cannot tell yet, or when it lies beyond the log's end (a commit of the log
    that was lost); below the log's start, the consumer's `earliest` reset applies."""
    for tp in partitions:
        try:
            # Bounded: while the group rejoins on the new broker the answer may wait for it.
            committed = await asyncio.wait_for(consumer.committed(tp), COMMITTED_TIMEOUT_S)
        except (KafkaError, TimeoutError):
            committed = None
        high = consumer.highwater(tp)
        if committed is not None and high is not None and committed > high:
            committed = None
        with contextlib.suppress(KafkaError):  # no longer ours: its next owner starts from the commit
            consumer.seek(tp, committed or 0)
