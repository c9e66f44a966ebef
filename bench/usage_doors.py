"""The two doors of the usage benchmark, the raw broker baseline, and the exact count checks.

- `RestSender` posts the batches to `POST /v1/usage` over a few keep-alive connections per
  process (each worker takes the next batch when its answer came back). A 2xx means stored, so
  the clock stops at the last answer. With `retry` it keeps a batch whose request failed (the
  process was killed) and sends it again until it is answered: what a well-behaved producer
  does, and harmless because the service deduplicates on `event_id`.
- `send_to_topic` produces the batch messages on `usage.raw` (the service's consumers take it
  from there); the clock stops when the aggregates have counted every event (`wait_counted`).
- `raw_broker_rate` is the baseline: the very same messages, produced and consumed on the same
  broker with a bare aiokafka producer and consumer (no group, no parsing, no database), the
  consumer reading while the producer sends, as the service's does.
- `verify` checks what is stored against the workload's own arithmetic: distinct events stored
  = events, and per subscription and meter the aggregated quantity and event count.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Final

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from bench.rating_stack import BENCH_API_KEY, StoreProbe
from bench.usage_workload import Batch, UsageWorkload, parse_summary
from libs.contracts.topics import USAGE_RAW
from libs.platform.broker import ensure_topics

USAGE_PATH: Final = "/v1/usage"
POLL_S: Final = 0.2
RETRY_PAUSE_S: Final = 0.2
REQUEST_TIMEOUT_S: Final = 300.0
# Large enough for a 10,000-event batch message (~3.6 MB) with room to spare.
MAX_MESSAGE_BYTES: Final = 16 * 1024 * 1024

Message = tuple[bytes, bytes, tuple[tuple[str, bytes], ...]]


class BenchFailure(RuntimeError):
    """The service answered something a benchmark cannot go on with."""


def rest_bodies(workload: UsageWorkload, *, ndjson: bool, eager: bool) -> Iterable[tuple[Batch, bytes]]:
    """Each batch with its body: built now (`eager`, kept in memory) or as the senders take them."""
    encode = workload.ndjson_body if ndjson else workload.rest_body
    pairs = ((batch, encode(batch)) for batch in workload.batches())
    return list(pairs) if eager else pairs


def topic_messages(workload: UsageWorkload, *, eager: bool) -> Iterable[Message]:
    """Each batch as its `usage.recorded` batch message: built now or as the producer takes them."""
    messages = (workload.topic_message(batch) for batch in workload.batches())
    return list(messages) if eager else messages


@dataclass
class RestSender:
    """Posts batches to one or more rating processes over `connections` connections each."""

    urls: Sequence[str]
    connections: int
    ndjson: bool = False
    retry: bool = False
    deadline_s: float = 600.0
    acked_events: int = 0
    acked_batches: list[int] = field(default_factory=list)
    accepted: int = 0
    duplicates: int = 0
    retries: int = 0

    @property
    def content_type(self) -> str:
        """The body's media type."""
        return "application/x-ndjson" if self.ndjson else "application/json"

    async def send_all(self, bodies: Iterable[tuple[Batch, bytes]]) -> float:
        """Post every batch; seconds from the first request to the last answer."""
        pending: Iterator[tuple[Batch, bytes]] = iter(bodies)
        headers = {"Authorization": f"Bearer {BENCH_API_KEY}", "Content-Type": self.content_type}
        limits = httpx.Limits(max_connections=self.connections, max_keepalive_connections=self.connections)
        clients = [
            httpx.AsyncClient(base_url=url, headers=headers, limits=limits, timeout=REQUEST_TIMEOUT_S)
            for url in self.urls
        ]
        stop_at = time.monotonic() + self.deadline_s
        started = time.perf_counter()
        try:
            async with asyncio.TaskGroup() as group:
                for client in clients:
                    for _ in range(self.connections):
                        group.create_task(self._worker(client, pending, stop_at))
        finally:
            for client in clients:
                await client.aclose()
        return time.perf_counter() - started

    async def _worker(
        self, client: httpx.AsyncClient, pending: Iterator[tuple[Batch, bytes]], stop_at: float
    ) -> None:
        for batch, body in pending:
            while True:
                try:
                    response = await client.post(USAGE_PATH, content=body)
                except httpx.TransportError as exc:
                    if not self.retry or time.monotonic() > stop_at:
                        raise BenchFailure(f"batch {batch.number}: {type(exc).__name__}: {exc}") from exc
                    self.retries += 1
                    await asyncio.sleep(RETRY_PAUSE_S)
                    continue
                if response.status_code >= 500 and self.retry and time.monotonic() < stop_at:
                    self.retries += 1
                    await asyncio.sleep(RETRY_PAUSE_S)
                    continue
                break
            if not 200 <= response.status_code < 300:
                raise BenchFailure(
                    f"POST {USAGE_PATH} (batch {batch.number}) answered {response.status_code}: "
                    f"{response.text[:2000]}"
                )
            self._count(batch, response.content)

    def _count(self, batch: Batch, answer: bytes) -> None:
        summary = parse_summary(answer)
        rejected = summary.get("rejected")
        if isinstance(rejected, list) and rejected:
            raise BenchFailure(f"batch {batch.number}: {len(rejected)} events refused, e.g. {rejected[:3]}")
        for name in ("accepted", "duplicates"):
            value = summary.get(name)
            if isinstance(value, int):
                setattr(self, name, getattr(self, name) + value)
        self.acked_events += len(batch.events)
        self.acked_batches.append(batch.number)


def producer(bootstrap_servers: str) -> AIOKafkaProducer:
    """A producer as a mediation system would run one (acks from all replicas, large messages)."""
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap_servers,
        client_id="bench-mediation",
        acks="all",
        linger_ms=5,
        max_batch_size=1_048_576,
        max_request_size=MAX_MESSAGE_BYTES,
        request_timeout_ms=60_000,
    )


async def send_to_topic(
    bootstrap_servers: str, messages: Iterable[Message], *, topic: str = USAGE_RAW
) -> float:
    """Produce every message and wait for every acknowledgement; seconds it took."""
    sender = producer(bootstrap_servers)
    await sender.start()
    try:
        started = time.perf_counter()
        futures = [
            await sender.send(topic, value=value, key=key, headers=list(headers))
            for key, value, headers in messages
        ]
        await asyncio.gather(*futures)
        return time.perf_counter() - started
    finally:
        await sender.stop()


async def wait_counted(
    probe: StoreProbe, meters: Sequence[str], expected: int, *, timeout_s: float, started: float | None = None
) -> float:
    """Poll the aggregates until `expected` events are counted on `meters`; perf_counter time then."""
    deadline = time.monotonic() + timeout_s
    counted = 0
    while time.monotonic() < deadline:
        counted = await probe.counted_events(meters)
        if counted >= expected:
            return time.perf_counter()
        await asyncio.sleep(POLL_S)
    waited = "" if started is None else f" ({time.perf_counter() - started:.0f}s after the first send)"
    raise TimeoutError(f"{counted:,} of {expected:,} events counted within {timeout_s:.0f}s{waited}")


@dataclass(frozen=True)
class RawRate:
    """The bare broker's rate on the benchmark's messages."""

    seconds: float
    produce_seconds: float
    messages: int
    events: int


async def raw_broker_rate(
    bootstrap_servers: str, messages: Sequence[Message], events: int, *, partitions: int
) -> RawRate:
    """Seconds to produce `messages` and have a bare consumer read them all back, overlapped."""
    topic = f"bench.usage.raw.{uuid.uuid4().hex[:8]}"
    await ensure_topics(bootstrap_servers, [topic], partitions=partitions)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap_servers,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        fetch_max_bytes=64 * 1024 * 1024,
        max_partition_fetch_bytes=MAX_MESSAGE_BYTES,
    )
    consumer.assign([TopicPartition(topic, p) for p in range(partitions)])
    await consumer.start()
    try:

        async def read_all() -> float:
            seen = 0
            while seen < len(messages):
                batches = await consumer.getmany(timeout_ms=200)
                seen += sum(len(records) for records in batches.values())
            return time.perf_counter()

        started = time.perf_counter()
        reading = asyncio.create_task(read_all())
        produce_s = await send_to_topic(bootstrap_servers, messages, topic=topic)
        finished = await reading
    finally:
        await consumer.stop()
    return RawRate(finished - started, produce_s, len(messages), events)


async def warm_up_topic(
    bootstrap_servers: str, probe: StoreProbe, warm_up: UsageWorkload, *, partitions: int, timeout_s: float
) -> None:
    """One one-event message of `warm_up` (its own meter) on every partition, waited for until counted.

    Whoever consumes each partition has fetched, applied and committed once before the clock
    starts (the group's join and the first use of every code path are left out of the figure).
    """
    sender = producer(bootstrap_servers)
    await sender.start()
    try:
        futures = []
        for partition in range(partitions):
            key, value, headers = warm_up.topic_message(Batch(partition, [partition]))
            futures.append(
                await sender.send(USAGE_RAW, value=value, key=key, partition=partition, headers=list(headers))
            )
        await asyncio.gather(*futures)
    finally:
        await sender.stop()
    await wait_counted(probe, warm_up.meters, partitions, timeout_s=timeout_s)


@dataclass(frozen=True)
class Verified:
    """What the store holds after a run, checked exactly against the workload."""

    rows: int
    distinct: int
    quantity: Decimal
    counted: int


async def verify(probe: StoreProbe, workload: UsageWorkload) -> Verified:
    """Distinct events stored == events; per subscription and meter, quantity and count exact."""
    rows, distinct = await probe.stored_events(workload.meters)
    series = await probe.series(workload.meters)
    expected = workload.expected_by_series()
    problems = []
    if rows != workload.events or distinct != workload.events:
        problems.append(
            f"usage_events holds {rows:,} rows ({distinct:,} distinct), expected {workload.events:,}"
        )
    wrong = [(key, series.get(key), want) for key, want in expected.items() if series.get(key) != want]
    extra = sorted(set(series) - set(expected))
    if wrong:
        problems.append(f"{len(wrong):,} series differ, e.g. (series, stored, expected) {wrong[:3]}")
    if extra:
        problems.append(f"{len(extra):,} unexpected series, e.g. {extra[:3]}")
    quantity = sum((q for q, _ in series.values()), Decimal(0))
    counted = sum(n for _, n in series.values())
    if quantity != workload.expected_quantity():
        problems.append(f"aggregates sum to {quantity}, expected {workload.expected_quantity()}")
    if problems:
        raise BenchFailure("; ".join(problems))
    # PostgreSQL's NUMERIC sums carry its scale (499996.000000000000): shown as the workload's.
    return Verified(rows, distinct, quantity.normalize() + 0, counted)
