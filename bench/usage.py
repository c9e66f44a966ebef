"""Usage ingestion end to end: events/s through `POST /v1/usage` and through `usage.raw`.

The rating service runs as it is deployed: `python -m rating` processes on a local Tansu broker,
with a SQLite file (or, with `RATING_BENCH_DATABASE_URL=postgresql://…`, a fresh PostgreSQL
database). The read model (10,000 accounts with one subscription each, two usage prices) is
seeded through the catalog's and provisioning's events and the meters through `POST /v1/meters`
(see `bench.rating_seed`). Then, each on a fresh stack from the same seeded state:

- `usage.topic.<n>p` — the workload's batches (1,000,000 distinct events by default, 1 % of them
  sent twice, in batches of 10,000) as `usage.recorded` batch messages on `usage.raw`, consumed
  by `n` rating processes in one consumer group; from the first send until the aggregates count
  every event;
- `usage.rest.<n>p` — the same batches posted to `POST /v1/usage` over 4 connections (shared
  between the `n` processes); from the first request until the last 2xx (a 2xx means stored).

Each run is checked exactly afterwards: distinct events stored = events, and per subscription
and meter the aggregated quantity and count equal the workload's own arithmetic (nothing lost,
nothing twice). The baseline, measured in the same session on a broker of the same kind: the
same messages produced and consumed by a bare aiokafka producer and consumer (no group, no
parsing, no database) — the most any consumer of this broker could do with these batches.

Where the time goes: CPU seconds of each rating process, the broker and the bench over each
run (a service at ~100 % of a core is CPU-bound: it is its own code, not the pipes); whatever
per-stage timings the service exposes in `/metrics` (any metric about usage or stages); and
floors measured in the bench process on the same batches: parsing a REST body into
`UsageRecord`s, decoding a batch message into `UsageRecorded`s, and inserting a batch of rows
as wide as a usage event into a table with a text primary key and two indexes, through the
driver in one transaction (the least a process pays per event before any rule of its own).

Peak RSS (`VmHWM`) of a rating process is printed against its peak before the events arrive;
with `--usage-rss-events 5000000` each door is run again at that count on one process and its
peak printed beside the peak at the default count (flat = it does not grow with the stream).
"""

from __future__ import annotations

import asyncio
import gc
import tempfile
import time
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench.rating_runs import PARTITIONS, RatingSession, Stack, machine_load, stage_timings
from bench.rating_seed import WARM_UP_METER
from bench.rating_stack import Databases, postgres_server_url
from bench.report import Figure, Section, per_second
from bench.usage_doors import (
    RawRate,
    RestSender,
    Verified,
    raw_broker_rate,
    rest_bodies,
    send_to_topic,
    topic_messages,
    verify,
    wait_counted,
    warm_up_topic,
)
from bench.usage_floors import parse_floors, service_stages, storage_floor
from bench.usage_workload import DEFAULT_BATCH_SIZE, DEFAULT_SUBSCRIPTIONS, UsageWorkload

DEFAULT_EVENTS = 1_000_000
DEFAULT_CONNECTIONS = 4
# Up to this many events the bodies and messages are built before the clock starts; above it
# (the RSS runs) they are built as they are sent, so the bench's own memory stays flat.
EAGER_LIMIT = 2_000_000

Midway = Callable[[Stack, "DoorRun"], Coroutine[Any, Any, None]]


@dataclass(frozen=True)
class UsageOptions:
    """What `make bench-usage` runs (all settable from the command line)."""

    events: int = DEFAULT_EVENTS
    subscriptions: int = DEFAULT_SUBSCRIPTIONS
    batch_size: int = DEFAULT_BATCH_SIZE
    connections: int = DEFAULT_CONNECTIONS
    process_counts: tuple[int, ...] = (1, 2)
    rss_events: int = 0
    ndjson: bool = False
    timeout_s: float = 0.0
    """Deadline of each wait; 0 = 120 s + 1 s per 2,000 events."""

    def deadline_s(self, events: int) -> float:
        """How long a run of `events` may take before it is declared failed."""
        return self.timeout_s or 120.0 + events / 2_000


@dataclass
class DoorRun:
    """One measured run through one door: its time, its checks and what each process used."""

    door: str
    processes: int
    workload: UsageWorkload
    seconds: float = 0.0
    verified: Verified | None = None
    cpu: dict[str, float] = field(default_factory=dict)
    rss_before_mib: list[float] = field(default_factory=list)
    rss_peak_mib: list[float] = field(default_factory=list)
    stages: list[str] = field(default_factory=list)
    sender: RestSender | None = None
    retries: int = 0

    @property
    def name(self) -> str:
        """`usage.rest.1p` and the like."""
        return f"usage.{self.door}.{self.processes}p"

    @property
    def rate(self) -> float:
        """Distinct events stored per second, end to end."""
        return per_second(self.workload.events, self.seconds)

    def summary(self) -> list[str]:
        """The run's lines of the where-the-time-goes section."""
        w = self.workload
        lines = [
            f"{self.name}: {w.events:,} events ({w.sends:,} sent, {w.duplicates:,} twice) in "
            f"{w.batch_count:,} batches of {w.batch_size:,}: {self.seconds:.1f} s, {self.rate:,.0f} events/s"
        ]
        if self.verified is not None:
            lines.append(
                f"  checked: {self.verified.distinct:,} distinct events stored, {self.verified.counted:,} "
                f"counted, aggregates sum to {_plain(self.verified.quantity)} "
                "(exact per subscription and meter)"
            )
        if self.sender is not None and (self.sender.accepted or self.sender.duplicates):
            lines.append(
                f"  the service answered: {self.sender.accepted:,} accepted, "
                f"{self.sender.duplicates:,} duplicates"
            )
        if self.retries:
            lines.append(f"  batches sent again after a failure: {self.retries}")
        cpu = ", ".join(f"{name} {s:.1f} s ({s / self.seconds:.0%})" for name, s in self.cpu.items())
        lines.append(f"  CPU over the run (share of the wall time): {cpu}")
        rating = sum(s for name, s in self.cpu.items() if name.startswith("rating"))
        if rating and w.events:
            # The figure a shared machine does not blur: CPU of the rating processes per event.
            lines.append(f"  rating CPU per event (all its processes): {rating / w.events * 1e6:.1f} µs")
        rss = ", ".join(
            f"{before:.0f} → {peak:.0f} MiB"
            for before, peak in zip(self.rss_before_mib, self.rss_peak_mib, strict=True)
        )
        lines.append(f"  peak RSS of each rating process, before → after: {rss}")
        lines.extend(
            f"  service metric {line}" for line in self.stages or ["(no usage or stage metrics exposed)"]
        )
        return lines


def _count_label(count: int) -> str:
    """5000000 → `5M`, 150000 → `150k`, 900 → `900`."""
    for size, suffix in ((1_000_000, "M"), (1_000, "k")):
        if count >= size and count % (size // 10) == 0:
            return f"{count / size:g}{suffix}"
    return str(count)


def _plain(value: Decimal) -> str:
    """A decimal without the trailing zeros of its storage (PostgreSQL NUMERIC keeps its scale)."""
    whole = value.to_integral_value()
    return f"{whole:,}" if value == whole else f"{value.normalize():,f}"


def _warm_up_workload(workload: UsageWorkload, size: int) -> UsageWorkload:
    return UsageWorkload(
        events=size,
        run=f"{workload.run}w",
        subscriptions=workload.subscriptions,
        batch_size=size,
        meters=(WARM_UP_METER,),
        base_time=workload.base_time,
    )


async def _timed(stack: Stack, run: DoorRun, work: Callable[[], Coroutine[Any, Any, float]]) -> DoorRun:
    """Run `work` (it returns its own seconds) with CPU, RSS and metrics taken around it."""
    run.rss_before_mib = [p.peak_rss_mib() for p in stack.processes]
    metrics_before = await stack.metrics()
    cpu_before = stack.cpu_seconds()
    run.seconds = await work()
    cpu_after = stack.cpu_seconds()
    run.cpu = {name: cpu_after.get(name, 0.0) - before for name, before in cpu_before.items()}
    run.rss_peak_mib = [p.peak_rss_mib() for p in stack.processes]
    run.stages = stage_timings(metrics_before, await stack.metrics())
    run.verified = await verify(stack.probe, run.workload)
    return run


async def run_rest(
    stack: Stack,
    workload: UsageWorkload,
    options: UsageOptions,
    *,
    midway: Midway | None = None,
) -> DoorRun:
    """Post every batch to the stack's processes and check what is stored."""
    run = DoorRun("rest", len(stack.processes), workload)
    warm = _warm_up_workload(workload, 10)
    await RestSender(stack.urls, 1, ndjson=options.ndjson).send_all(
        rest_bodies(warm, ndjson=options.ndjson, eager=True)
    )
    bodies = rest_bodies(workload, ndjson=options.ndjson, eager=workload.events <= EAGER_LIMIT)
    per_process = max(1, options.connections // len(stack.processes))
    sender = RestSender(
        stack.urls,
        per_process,
        ndjson=options.ndjson,
        retry=midway is not None,
        deadline_s=options.deadline_s(workload.events),
    )
    run.sender = sender

    async def work() -> float:
        if midway is None:
            return await sender.send_all(bodies)
        watcher = asyncio.create_task(midway(stack, run))
        seconds = await sender.send_all(bodies)
        await watcher
        return seconds

    await _timed(stack, run, work)
    run.retries = sender.retries
    return run


async def run_topic(
    stack: Stack,
    workload: UsageWorkload,
    options: UsageOptions,
    *,
    messages: Sequence[Any] | None = None,
    midway: Midway | None = None,
) -> DoorRun:
    """Produce every batch message on `usage.raw`, wait until all are counted, check what is stored."""
    run = DoorRun("topic", len(stack.processes), workload)
    deadline = options.deadline_s(workload.events)
    await warm_up_topic(
        stack.bootstrap_servers,
        stack.probe,
        _warm_up_workload(workload, PARTITIONS),
        partitions=PARTITIONS,
        timeout_s=120,
    )
    to_send = (
        messages if messages is not None else topic_messages(workload, eager=workload.events <= EAGER_LIMIT)
    )

    async def work() -> float:
        started = time.perf_counter()
        watcher = asyncio.create_task(midway(stack, run)) if midway is not None else None
        await send_to_topic(stack.bootstrap_servers, to_send)
        finished = await wait_counted(
            stack.probe, workload.meters, workload.events, timeout_s=deadline, started=started
        )
        if watcher is not None:
            await watcher
        return finished - started

    return await _timed(stack, run, work)


@dataclass
class UsageReport:
    """Every run of a session, and the figures and sections they make."""

    options: UsageOptions
    engine: str
    raw: RawRate | None = None
    runs: list[DoorRun] = field(default_factory=list)
    rss_runs: list[DoorRun] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    stages: list[str] = field(default_factory=list)

    def figures(self) -> list[Figure]:
        """Each door's rate beside the raw broker rate; peak RSS beside its baseline."""
        raw = per_second(self.raw.events, self.raw.seconds) if self.raw else 0.0
        label = f"raw aiokafka produce+consume, same batches ({self.engine})"
        figures = [Figure(r.name, r.rate, "events/s", raw, "events/s", label) for r in self.runs]
        for run in self.runs:
            if run.processes == 1:
                figures.append(
                    Figure(
                        f"usage.{run.door}.rss",
                        max(run.rss_peak_mib),
                        "MiB",
                        max(run.rss_before_mib),
                        "MiB",
                        "peak RSS before the events",
                    )
                )
        for big in self.rss_runs:
            small = next(r for r in self.runs if r.door == big.door and r.processes == 1)
            figures.append(
                Figure(
                    f"usage.{big.door}.rss.{_count_label(big.workload.events)}",
                    max(big.rss_peak_mib),
                    "MiB",
                    max(small.rss_peak_mib),
                    "MiB",
                    f"peak RSS at {small.workload.events:,} events",
                )
            )
        return figures

    def sections(self) -> list[Section]:
        """Where the time goes, run by run."""
        lines = list(self.notes)
        if self.raw is not None:
            lines.append(
                f"raw broker: {self.raw.messages:,} messages ({self.raw.events:,} events) produced in "
                f"{self.raw.produce_seconds:.2f} s and consumed by {self.raw.seconds:.2f} s (overlapped)"
            )
        for run in [*self.runs, *self.rss_runs]:
            lines.extend(run.summary())
        lines.extend(self.stages)
        return [Section(f"usage: where the time goes ({self.engine})", lines)]


async def measure(options: UsageOptions) -> UsageReport:
    """Seed once, then run every door with one and two processes (and the RSS runs if asked)."""
    with tempfile.TemporaryDirectory(prefix="bench-usage-") as tmp:
        databases = Databases(Path(tmp), postgres_server_url())
        report = UsageReport(options, databases.engine)
        session = RatingSession(Path(tmp), databases, options.subscriptions)
        try:
            report.notes.append(f"at the start: {machine_load()}")
            await session.seed()
            report.notes.append(
                f"seeded {options.subscriptions:,} accounts and subscriptions in {session.seed_seconds:.1f} s"
            )
            await _measure_runs(session, report)
            end = f"at the end of the runs: {machine_load()}"
            stages = await service_stages(options.batch_size, options.subscriptions, postgres_server_url())
            report.stages = [end, *stages]
        finally:
            await databases.drop_all()
    return report


def _workload(options: UsageOptions, run: str, events: int) -> UsageWorkload:
    return UsageWorkload(
        events=events, run=run, subscriptions=options.subscriptions, batch_size=options.batch_size
    )


async def _measure_runs(session: RatingSession, report: UsageReport) -> None:
    options = report.options
    for processes in options.process_counts:
        workload = _workload(options, f"t{processes}", options.events)
        messages = list(topic_messages(workload, eager=True)) if workload.events <= EAGER_LIMIT else None
        async with session.stack(processes) as stack:
            if report.raw is None and messages is not None:
                report.raw = await raw_broker_rate(
                    stack.bootstrap_servers, messages, workload.events, partitions=PARTITIONS
                )
                report.notes.extend(parse_floors(workload))
                report.notes.append(await storage_floor(session.databases, workload))
            report.runs.append(await run_topic(stack, workload, options, messages=messages))
        del messages
        gc.collect()
        async with session.stack(processes) as stack:
            report.runs.append(
                await run_rest(stack, _workload(options, f"r{processes}", options.events), options)
            )
    if options.rss_events:
        for door, run_door in (("topic", run_topic), ("rest", run_rest)):
            async with session.stack(1) as stack:
                report.rss_runs.append(
                    await run_door(stack, _workload(options, f"{door[0]}big", options.rss_events), options)
                )


def run(options: UsageOptions) -> list[Figure | Section]:
    """The usage benchmark, synchronously (its own event loop)."""
    report = asyncio.run(measure(options))
    return [*report.figures(), *report.sections()]
