"""Floors of the usage benchmark: what parsing and storing cost per event at the very least.

Measured in the bench process on the workload's own batches, so that a service's rate can be
read against them: parsing a REST body into `UsageRecord`s, decoding a batch message into
`UsageRecorded`s, and inserting a batch of rows as wide as a usage event (text primary key, two
indexes) through the driver in one transaction on the same engine. A service that spends far
more than their sum per event spends it in its own code.
"""

from __future__ import annotations

import asyncio
import importlib.util
import sqlite3
import sys
import time
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy.engine import make_url

from bench.rating_stack import ROOT, Databases
from bench.report import per_second
from bench.usage_workload import Batch, UsageWorkload
from libs.contracts.batch import PayloadDecoders, decode_message
from libs.contracts.usage import UsageRecord, UsageRecorded
from rating.schemas.usage_wire import WireEvent, check_events

FLOOR_BATCHES = 3


def parse_floors(workload: UsageWorkload) -> list[str]:
    """µs per event to parse a REST body and to decode a batch message, in this process."""
    batches = [batch for batch, _ in zip(workload.batches(), range(FLOOR_BATCHES), strict=False)]
    events = sum(len(b.events) for b in batches)
    bodies = [workload.rest_body(b) for b in batches]
    messages = [workload.topic_message(b) for b in batches]
    adapter = TypeAdapter(dict[str, list[UsageRecord]])

    def parse() -> None:
        for body in bodies:
            adapter.validate_json(body)

    def decode() -> None:
        for _, value, headers in messages:
            for envelope in decode_message(value, headers).events:
                UsageRecorded.model_validate(envelope.payload)

    payloads = PayloadDecoders({"usage.recorded": WireEvent})

    def decode_whole() -> None:
        for _, value, headers in messages:
            found = payloads.decode_payloads(value, headers)
            assert found is not None and check_events(found.payloads) is not None

    lines = []
    for label, work in (
        ("parse a REST body into UsageRecords", parse),
        ("decode a batch message into UsageRecorded", decode),
        ("decode a batch message as the rating consumer does (msgspec, whole)", decode_whole),
    ):
        best = float("inf")
        for _ in range(3):
            started = time.perf_counter()
            work()
            best = min(best, time.perf_counter() - started)
        lines.append(
            f"floor, {label}: {best / events * 1e6:.1f} µs/event "
            f"({per_second(events, best):,.0f} events/s on one core)"
        )
    return lines


_FLOOR_TABLE = (
    "CREATE TABLE floor_events (event_id VARCHAR(128) PRIMARY KEY, meter VARCHAR(64), "
    "subscription_id VARCHAR(64), account_id VARCHAR(64), quantity VARCHAR(64), occurred_at VARCHAR(32), "
    "usage_date DATE, period_start DATE, status VARCHAR(12), properties TEXT, source VARCHAR(12), "
    "received_at VARCHAR(32))"
)
_FLOOR_INDEXES = (
    "CREATE INDEX floor_series ON floor_events (subscription_id, meter, period_start)",
    "CREATE INDEX floor_account_day ON floor_events (account_id, usage_date)",
)


def _floor_rows(workload: UsageWorkload, batch: Batch, seen: set[int]) -> list[tuple[Any, ...]]:
    """The batch's events not stored yet, as rows (a duplicate is not inserted twice)."""
    fresh = [i for i in dict.fromkeys(batch.events) if i not in seen]
    seen.update(fresh)
    day = workload.base_time.date()
    return [
        (
            workload.event_id(i),
            workload.meter_of(i),
            f"sub_{workload.subscription_of(i)}",
            f"acct_{workload.subscription_of(i)}",
            str(workload.quantity_of(i)),
            workload.timestamp_of(i),
            day,
            day.replace(day=1),
            "counted",
            '{"region":"eu"}',
            "rest",
            workload.timestamp_of(0),
        )
        for i in fresh
    ]


async def storage_floor(databases: Databases, workload: UsageWorkload) -> str:
    """µs per event to insert a batch of rows as wide as a usage event (text primary key, two
    indexes) in one transaction, straight through the driver: the least the store costs."""
    batches = [batch for batch, _ in zip(workload.batches(), range(FLOOR_BATCHES), strict=False)]
    seen: set[int] = set()
    rows = [_floor_rows(workload, b, seen) for b in batches]
    events = sum(len(r) for r in rows)
    url = await databases.fresh("floor")
    if databases.engine == "sqlite":
        seconds = await asyncio.to_thread(_sqlite_floor, make_url(url).database or "", rows)
    else:
        seconds = await _postgres_floor(url, rows)
    return (
        f"floor, insert a batch of usage-wide rows and commit ({databases.engine}, driver executemany): "
        f"{seconds / events * 1e6:.1f} µs/event ({per_second(events, seconds):,.0f} events/s)"
    )


def _sqlite_floor(path: str, batches: list[list[tuple[Any, ...]]]) -> float:
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL"):
            connection.execute(f"PRAGMA {pragma}")
        for statement in (_FLOOR_TABLE, *_FLOOR_INDEXES):
            connection.execute(statement)
        insert = f"INSERT INTO floor_events VALUES ({', '.join('?' * 12)})"
        started = time.perf_counter()
        for rows in batches:
            connection.execute("BEGIN IMMEDIATE")
            connection.executemany(
                insert, [(*r[:6], r[6].isoformat(), r[7].isoformat(), *r[8:]) for r in rows]
            )
            connection.execute("COMMIT")
        return time.perf_counter() - started
    finally:
        connection.close()


async def _postgres_floor(url: str, batches: list[list[tuple[Any, ...]]]) -> float:
    import asyncpg

    connection = await asyncpg.connect(make_url(url).set(drivername="postgresql").render_as_string(False))
    try:
        for statement in (_FLOOR_TABLE, *_FLOOR_INDEXES):
            await connection.execute(statement)
        insert = f"INSERT INTO floor_events VALUES ({', '.join(f'${i}' for i in range(1, 13))})"
        started = time.perf_counter()
        for rows in batches:
            async with connection.transaction():
                await connection.executemany(insert, rows)
        return time.perf_counter() - started
    finally:
        await connection.close()


STAGES_MODULE = "bench.usage_ingest"
STAGES_TIMEOUT_S = 300.0


async def service_stages(batch_size: int, subscriptions: int, server_url: str | None) -> list[str]:
    """The rating service's own per-stage times of one batch (parse, validate, guide, insert,
    aggregate, commit, and the whole HTTP request in process), from the stopwatch its usage
    handler carries, as `python -m bench.usage_ingest` prints them; nothing when that is absent.

    Run apart, after the end-to-end runs, so that it disturbs none of them.
    """
    if importlib.util.find_spec(STAGES_MODULE) is None:
        return []
    args = ["--events", str(batch_size), "--subscriptions", str(subscriptions), "--rounds", "1"]
    if server_url:
        args += ["--database-url", server_url]
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", STAGES_MODULE, *args, cwd=ROOT,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    try:
        output, _ = await asyncio.wait_for(process.communicate(), STAGES_TIMEOUT_S)
    except TimeoutError:
        process.kill()
        return [f"{STAGES_MODULE} did not finish within {STAGES_TIMEOUT_S:.0f}s"]
    lines = output.decode(errors="replace").splitlines()
    if process.returncode != 0:
        return [f"{STAGES_MODULE} failed ({process.returncode}): {' | '.join(lines[-3:])}"]
    return [
        f"per stage, in process ({STAGES_MODULE}, the service's stopwatch):",
        *(f"  {line}" for line in lines),
    ]
