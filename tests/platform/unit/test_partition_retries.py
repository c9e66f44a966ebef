"""A partition stopped at a failed event: doubling back-off, parking, the offsets it commits."""

from __future__ import annotations

import asyncio
from typing import Any

from aiokafka import ConsumerRecord, TopicPartition

from libs.platform.deliveries import Delivery
from libs.platform.errors import NotFound, ValidationFailed
from libs.platform.partition_retries import MAX_RETRY_BACKOFF_S, PartitionRetries

FEES = TopicPartition("test.unit.fees", 0)
CREDITS = TopicPartition("test.unit.fees", 1)


class GroupMember:
    """The consumer's side the retries use: what it owns, seeks and pauses (a fake at the seam)."""

    def __init__(self, *owned: TopicPartition) -> None:
        self.owned = set(owned)
        self.positions: dict[TopicPartition, int] = {}
        self.stopped: set[TopicPartition] = set()

    def assignment(self) -> set[TopicPartition]:
        return self.owned

    def paused(self) -> set[TopicPartition]:
        return self.stopped

    def seek(self, tp: TopicPartition, offset: int) -> None:
        self.positions[tp] = offset

    def pause(self, tp: TopicPartition) -> None:
        self.stopped.add(tp)

    def resume(self, tp: TopicPartition) -> None:
        self.stopped.discard(tp)


def delivery_at(offset: int, partition: int = 0) -> Delivery:
    record: Any = ConsumerRecord("test.unit.fees", partition, offset, 0, 0, None, b"{}", None, 0, 0, [])
    return Delivery(record=record, envelope=None)


def records(*offsets: int) -> list[Any]:
    return [delivery_at(offset).record for offset in offsets]


async def test_a_transient_failure_waits_twice_as_long_each_time_then_is_parked() -> None:
    retries = PartitionRetries(group_id="fees", max_attempts=4, backoff_s=0.5)
    now = asyncio.get_running_loop().time()
    waits = []
    for _ in range(3):
        retry = retries.next_attempt(delivery_at(7), FEES, NotFound("account", "acct_1"))
        assert retry.due is not None
        waits.append(round(retry.due - now, 1))
        retries.settle({FEES}, {FEES: retry})
    assert waits == [0.5, 1.0, 2.0]
    last = retries.next_attempt(delivery_at(7), FEES, NotFound("account", "acct_1"))
    assert (last.due, last.attempts, last.error) == (None, 4, "NotFound: account 'acct_1' does not exist")


async def test_a_permanent_failure_is_parked_at_once() -> None:
    retries = PartitionRetries(group_id="fees", max_attempts=5, backoff_s=0.5)
    retry = retries.next_attempt(delivery_at(7), FEES, ValidationFailed("amount is negative"))
    assert (retry.due, retry.attempts) == (None, 1)


async def test_the_back_off_stops_growing_at_its_ceiling() -> None:
    retries = PartitionRetries(group_id="fees", max_attempts=100, backoff_s=10.0)
    for _ in range(5):
        retry = retries.next_attempt(delivery_at(7), FEES, RuntimeError("database is locked"))
        retries.settle({FEES}, {FEES: retry})
    assert retry.due is not None
    assert retry.due - asyncio.get_running_loop().time() <= MAX_RETRY_BACKOFF_S


async def test_another_event_of_the_partition_counts_its_attempts_afresh() -> None:
    retries = PartitionRetries(group_id="fees", max_attempts=5, backoff_s=0.5)
    retries.settle({FEES}, {FEES: retries.next_attempt(delivery_at(7), FEES, RuntimeError("boom"))})
    assert retries.next_attempt(delivery_at(9), FEES, RuntimeError("boom")).attempts == 1


async def test_a_stopped_partition_commits_up_to_its_failed_event_and_pauses() -> None:
    retries = PartitionRetries(group_id="fees", max_attempts=5, backoff_s=0.5)
    member = GroupMember(FEES, CREDITS)
    retries.settle({FEES, CREDITS}, {FEES: retries.next_attempt(delivery_at(11), FEES, RuntimeError("boom"))})

    offsets = retries.commit_offsets(member, {FEES: records(10, 11, 12), CREDITS: records(3, 4)})  # type: ignore[arg-type]

    assert offsets == {FEES: 11, CREDITS: 5}
    assert member.positions == {FEES: 11}
    assert member.stopped == {FEES}


async def test_partitions_no_longer_owned_commit_nothing() -> None:
    retries = PartitionRetries(group_id="fees", max_attempts=5, backoff_s=0.5)
    member = GroupMember(CREDITS)
    offsets = retries.commit_offsets(member, {FEES: records(10, 11), CREDITS: records(3)})  # type: ignore[arg-type]
    assert offsets == {CREDITS: 4}


async def test_a_paused_partition_resumes_once_its_back_off_is_over() -> None:
    retries = PartitionRetries(group_id="fees", max_attempts=5, backoff_s=0.05)
    member = GroupMember(FEES)
    retries.settle({FEES}, {FEES: retries.next_attempt(delivery_at(11), FEES, RuntimeError("boom"))})
    retries.commit_offsets(member, {FEES: records(11)})  # type: ignore[arg-type]

    retries.resume_due(member)  # type: ignore[arg-type]
    assert member.stopped == {FEES}
    await asyncio.sleep(0.06)
    retries.resume_due(member)  # type: ignore[arg-type]
    assert member.stopped == set()


async def test_a_partition_that_went_through_forgets_its_stop() -> None:
    retries = PartitionRetries(group_id="fees", max_attempts=5, backoff_s=0.5)
    member = GroupMember(FEES)
    retries.settle({FEES}, {FEES: retries.next_attempt(delivery_at(11), FEES, RuntimeError("boom"))})
    retries.settle({FEES}, {})
    assert retries.commit_offsets(member, {FEES: records(11, 12)}) == {FEES: 13}  # type: ignore[arg-type]
    assert member.stopped == set()
