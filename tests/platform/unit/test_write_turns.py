"""Writers of processes on one SQLite file take turns by a file lock (`libs.platform.write_turns`)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import multiprocessing
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

from aiokafka import ConsumerRecord
from sqlmodel.ext.asyncio.session import AsyncSession

from libs.contracts.envelope import Envelope
from libs.platform.db import Database
from libs.platform.inbox import IdempotentConsumer
from libs.platform.write_turns import WriteTurns


def _hold(database: str, held: Any, release: Any) -> None:
    async def run() -> None:
        turns = WriteTurns(database, name="usage")
        async with turns.turn():
            held.set()
            release.wait(10)
        turns.close()

    asyncio.run(run())


async def test_a_process_waits_for_the_turn_another_process_holds(tmp_path: Path) -> None:
    database = str(tmp_path / "billing.db")
    context = multiprocessing.get_context("spawn")
    held, release = context.Event(), context.Event()
    other = context.Process(target=_hold, args=(database, held, release))
    other.start()
    try:
        assert held.wait(30)
        turns = WriteTurns(database, name="usage")
        waiting = asyncio.ensure_future(_take(turns))
        await asyncio.sleep(0.2)
        assert not waiting.done()  # the other process holds the turn
        release.set()
        await asyncio.wait_for(waiting, 10)
        turns.close()
    finally:
        release.set()
        other.join(10)


async def _take(turns: WriteTurns) -> float:
    async with turns.turn():
        return time.monotonic()


async def test_a_cancelled_wait_gives_the_turn_back(tmp_path: Path) -> None:
    database = str(tmp_path / "billing.db")
    first, second = (
        WriteTurns(database, name="usage"),
        WriteTurns(database, name="usage"),
    )  # two open files: two holders
    async with first.turn():
        waiting = asyncio.ensure_future(_take(second))
        await asyncio.sleep(0.1)
        waiting.cancel()
        await asyncio.sleep(0)
    # The cancelled waiter still takes the lock once `first` lets go (its thread was waiting
    # for it), gives it back and ends cancelled; the turn can be taken again afterwards.
    await asyncio.wait([waiting], timeout=5)
    assert waiting.cancelled()
    await asyncio.wait_for(_take(first), 5)
    first.close()
    second.close()


async def test_a_memory_database_takes_turns_in_the_process_only() -> None:
    turns = WriteTurns(":memory:", name="usage")
    async with turns.turn():
        pass
    turns.close()


async def test_a_poll_with_nothing_for_the_handlers_takes_no_turn_and_prepares_nothing(
    tmp_path: Path,
) -> None:
    """A bill-run group reads `invoicing.events` whole, the run's own invoice events included
    (two for each invoice): those polls must not queue behind the other processes' chunks."""
    steps: list[str] = []

    @contextlib.asynccontextmanager
    async def write_turn() -> AsyncIterator[None]:
        steps.append("turn")
        yield

    async def prepare(envelopes: Sequence[Envelope]) -> None:
        steps.append("prepared")

    async def handle(session: AsyncSession, envelope: Envelope) -> None:
        steps.append("applied")

    db = Database(f"sqlite:///{tmp_path / 'billing.db'}")
    consumer = IdempotentConsumer(
        db,
        group_id="g",
        topics=["invoicing.events"],
        handlers={"bill_run.chunk_requested": handle},
        bootstrap_servers="127.0.0.1:9",
        write_turn=write_turn,
        prepare=prepare,
    )
    event = {
        "event_id": str(uuid.uuid4()),
        "type": "invoice.finalized",
        "occurred_at": "2026-08-01T10:00:00+00:00",
        "producer": "invoicing",
        "key": "acct_1",
        "payload": {},
    }
    record: Any = ConsumerRecord(
        "invoicing.events", 0, 7, 0, 0, b"acct_1", json.dumps(event).encode(), None, 0, 0, []
    )
    try:
        assert await consumer.apply([record]) == 0
    finally:
        await db.dispose()
    assert steps == []
