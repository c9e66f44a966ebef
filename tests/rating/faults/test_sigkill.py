"""Fault runs: SIGKILL the rating process, or the local broker, in the middle of the usage benchmark.

Skipped unless `RATING_FAULTS=1` (they take minutes: 1,000,000 events a run by default;
`RATING_FAULTS_EVENTS` sets another count, `RATING_BENCH_DATABASE_URL=postgresql://…` runs them
on PostgreSQL). Each run is the benchmark's own (`bench.usage`): a real `python -m rating`
process on a local Tansu broker, the read model seeded through the catalog's and provisioning's
events, the workload's batches with 1 % of the events sent twice. Halfway, a process is killed
with SIGKILL — no shutdown, no flush, no commit — and started again; the run then finishes, and
what is stored is checked exactly against the workload's arithmetic: every distinct event stored
once, and per subscription and meter the aggregated quantity and count (nothing lost, nothing
counted twice).

    RATING_FAULTS=1 .venv/bin/python -m pytest -q tests/rating/faults -p no:randomly
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from bench.rating_runs import PARTITIONS, RatingSession, Stack
from bench.rating_stack import Databases, postgres_server_url
from bench.usage import DoorRun, UsageOptions, run_rest, run_topic
from bench.usage_doors import send_to_topic, topic_messages, verify
from bench.usage_workload import UsageWorkload
from libs.contracts.topics import ALL_TOPICS
from libs.platform.broker import ensure_topics

pytestmark = [
    pytest.mark.skipif(
        os.environ.get("RATING_FAULTS") != "1",
        reason="fault runs take minutes: set RATING_FAULTS=1 (RATING_FAULTS_EVENTS for another count)",
    ),
    pytest.mark.broker,
    pytest.mark.timeout(3600),
]

EVENTS = int(os.environ.get("RATING_FAULTS_EVENTS", "1000000"))
SUBSCRIPTIONS = min(10_000, max(10, EVENTS // 100))
BATCH_SIZE = min(10_000, max(10, EVENTS // 100))
OPTIONS = UsageOptions(events=EVENTS, subscriptions=SUBSCRIPTIONS, batch_size=BATCH_SIZE)
POLL_S = 0.02


@pytest.fixture(scope="module")
async def session(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[RatingSession]:
    """The read model and meters seeded once; each test gets a fresh stack from this state."""
    workdir: Path = tmp_path_factory.mktemp("rating-faults")
    databases = Databases(workdir, postgres_server_url())
    seeded = RatingSession(workdir, databases, SUBSCRIPTIONS)
    try:
        await seeded.seed()
        yield seeded
    finally:
        await databases.drop_all()


def _workload(run: str) -> UsageWorkload:
    return UsageWorkload(events=EVENTS, run=run, subscriptions=SUBSCRIPTIONS, batch_size=BATCH_SIZE)


async def _until(condition: Callable[[], Awaitable[bool]], what: str, timeout_s: float = 600) -> None:
    """Poll `condition` with a deadline (never a fixed sleep)."""
    deadline = time.monotonic() + timeout_s
    while not await condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {timeout_s}s: {what}")
        await asyncio.sleep(POLL_S)


async def _events_of_batches(workload: UsageWorkload, numbers: set[int]) -> set[str]:
    return {
        workload.event_id(i) for batch in workload.batches() if batch.number in numbers for i in batch.events
    }


async def _assert_acknowledged_are_stored(stack: Stack, run: DoorRun, acknowledged: set[int]) -> int:
    """Every event of every batch the REST door answered 2xx for is in the database."""
    stored = await stack.probe.stored_event_ids(run.workload.meters)
    missing = await _events_of_batches(run.workload, acknowledged) - stored
    assert not missing, f"{len(missing):,} acknowledged events lost, e.g. {sorted(missing)[:5]}"
    return len(acknowledged)


async def test_rest_door_loses_and_doubles_nothing_when_rating_is_killed(session: RatingSession) -> None:
    workload = _workload("kill-rest")
    checked: list[int] = []

    async def kill_rating(stack: Stack, run: DoorRun) -> None:
        sender = run.sender
        assert sender is not None
        await _until(lambda: _true(sender.acked_events >= workload.sends // 2), "half the batches answered")
        stack.processes[0].kill()
        checked.append(await _assert_acknowledged_are_stored(stack, run, set(sender.acked_batches)))
        stack.processes[0].start()
        await stack.processes[0].wait_ready()

    async with session.stack(1) as stack:
        run = await run_rest(stack, workload, OPTIONS, midway=kill_rating)

    print("\n".join([*run.summary(), f"  killed after {checked[0]} batches were answered"]))
    assert checked and checked[0] > 0
    assert run.verified is not None and run.verified.distinct == EVENTS
    assert run.verified.quantity == workload.expected_quantity()


async def test_topic_door_loses_and_doubles_nothing_when_rating_is_killed(session: RatingSession) -> None:
    workload = _workload("kill-topic")
    killed_at: list[int] = []

    async def kill_rating(stack: Stack, run: DoorRun) -> None:
        async def half_counted() -> bool:
            return await stack.probe.counted_events(workload.meters) >= EVENTS // 2

        await _until(half_counted, "half the events counted")
        stack.processes[0].kill()
        killed_at.append(await stack.probe.counted_events(workload.meters))
        stack.processes[0].start()
        await stack.processes[0].wait_ready()

    async with session.stack(1) as stack:
        run = await run_topic(stack, workload, OPTIONS, midway=kill_rating)

    print("\n".join([*run.summary(), f"  killed with {killed_at[0]:,} events counted"]))
    assert killed_at and EVENTS // 2 <= killed_at[0] < EVENTS, killed_at
    assert run.verified is not None and run.verified.distinct == EVENTS
    assert run.verified.quantity == workload.expected_quantity()


async def test_rest_acknowledged_events_survive_a_killed_broker(session: RatingSession) -> None:
    workload = _workload("kill-broker-rest")
    checked: list[int] = []

    async def kill_broker(stack: Stack, run: DoorRun) -> None:
        sender = run.sender
        assert sender is not None
        await _until(lambda: _true(sender.acked_events >= workload.sends // 2), "half the batches answered")
        stack.kill_broker()
        checked.append(await _assert_acknowledged_are_stored(stack, run, set(sender.acked_batches)))
        await ensure_topics(stack.bootstrap_servers, ALL_TOPICS, partitions=PARTITIONS)

    async with session.stack(1) as stack:
        run = await run_rest(stack, workload, OPTIONS, midway=kill_broker)
        # The acknowledged events were in the database before the broker went; all are there now.
        await _assert_acknowledged_are_stored(stack, run, set(run.sender.acked_batches if run.sender else []))

    print("\n".join([*run.summary(), f"  broker killed after {checked[0]} batches were answered"]))
    assert checked and checked[0] > 0
    assert run.verified is not None and run.verified.distinct == EVENTS
    assert run.verified.quantity == workload.expected_quantity()


async def test_topic_producer_that_resends_what_is_not_stored_loses_nothing_to_a_killed_broker(
    session: RatingSession,
) -> None:
    """What the README asks of a `usage.raw` producer against the in-memory broker, done: keep each
    batch until its events are stored, and send again what is not once the broker was lost."""
    workload = _workload("kill-broker-topic")

    async with session.stack(1) as stack:

        async def counted(at_least: int) -> bool:
            return await stack.probe.counted_events(workload.meters) >= at_least

        await send_to_topic(stack.bootstrap_servers, topic_messages(workload, eager=True))
        await _until(lambda: counted(EVENTS // 2), "half the events counted")
        stack.kill_broker()  # every message not consumed yet is gone with it
        await ensure_topics(stack.bootstrap_servers, ALL_TOPICS, partitions=PARTITIONS)
        stored = await stack.probe.stored_event_ids(workload.meters)
        unstored = [
            b for b in workload.batches() if any(workload.event_id(i) not in stored for i in b.events)
        ]
        await send_to_topic(stack.bootstrap_servers, [workload.topic_message(b) for b in unstored])
        await _until(
            lambda: counted(EVENTS), "every event counted after the re-send", OPTIONS.deadline_s(EVENTS)
        )
        verified = await verify(stack.probe, workload)

    print(f"broker killed with {len(stored):,} events stored; {len(unstored)} batches sent again; {verified}")
    assert len(unstored) < workload.batch_count
    assert verified.distinct == EVENTS
    assert verified.quantity == workload.expected_quantity()


async def _true(value: bool) -> bool:
    return value
