"""Entitlement checks: p50 / p99 latency of `POST /v1/entitlements/check` at 1,000 requests/s.

One rating process, seeded like the usage benchmark (10,000 subscriptions to a price of "10
free, then 0.50 each", meters over REST) and given some usage first (100,000 events through
`POST /v1/usage`, so a check finds included units used up for most subscriptions and has a
price to apply). Then, open loop (`bench.http_load`: each request due at a fixed time, its
latency counted from then), rounds of one second of checks and one second of `GET /healthz` at
the same rate against the same process, alternating so both see the same machine: the
baseline is the service's floor (routing, middleware, the event loop, the client) for a request
that does no work. Each check names a random subscription and meter and a quantity of 1 to 5.

Before the rounds each distinct check is sent once (the process keeps the subscriptions it was
asked about in memory, per read-model generation: the rounds measure the steady state), then
1,000 `/healthz`. Every answer must be a 200; the figures are the checks' p50 and p99 beside
`/healthz`'s. The goal of issue 8 is a p99 under 5 ms.
"""

from __future__ import annotations

import collections
import contextlib
import json
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import uvloop

from bench.http_load import Answer, HttpPool, Latencies, open_loop, percentile
from bench.rating_runs import RatingSession, Stack, machine_load
from bench.rating_stack import BENCH_API_KEY, Databases, postgres_server_url
from bench.report import Figure, Section
from bench.usage_doors import RestSender, rest_bodies, verify
from bench.usage_workload import DEFAULT_SUBSCRIPTIONS, METERS, UsageWorkload, subscription_id

DEFAULT_RATE = 1_000
DEFAULT_SECONDS = 10
DEFAULT_USAGE_EVENTS = 100_000
CHECK_PATH = "/v1/entitlements/check"
WARM_UP_REQUESTS = 1_000
DISTINCT_BODIES = 5_000
SEED = 8


@dataclass(frozen=True)
class EntitlementOptions:
    """What `make bench-entitlements` runs."""

    rate: int = DEFAULT_RATE
    seconds: int = DEFAULT_SECONDS
    """Rounds: each is one second of checks then one second of `/healthz`."""
    subscriptions: int = DEFAULT_SUBSCRIPTIONS
    usage_events: int = DEFAULT_USAGE_EVENTS
    profile: str | None = None
    """Write py-spy's samples of the service during the rounds here (collapsed stacks), if set."""


@dataclass
class RoundCpu:
    """CPU seconds of the service (its processes) and of the bench, summed over the check rounds
    and over the `/healthz` rounds: what one request of each kind costs, whatever the load."""

    service: dict[str, float] = field(default_factory=dict)
    bench: dict[str, float] = field(default_factory=dict)

    def add(self, kind: str, before: dict[str, float], after: dict[str, float]) -> None:
        """Add one round's CPU (`Stack.cpu_seconds()` before and after it)."""
        for name, spent in ((k, after[k] - v) for k, v in before.items()):
            target = self.bench if name == "bench" else self.service if name.startswith("rating") else None
            if target is not None:
                target[kind] = target.get(kind, 0.0) + spent

    def per_request_ms(self, kind: str, requests: int) -> tuple[float, float]:
        """CPU (ms) a request of `kind` cost the service and the bench."""
        if not requests:
            return 0.0, 0.0
        return self.service.get(kind, 0.0) * 1000 / requests, self.bench.get(kind, 0.0) * 1000 / requests


@dataclass
class EntitlementReport:
    """Latencies of the checks and of `/healthz`, and what was seen along the way."""

    options: EntitlementOptions
    engine: str
    checks: list[Latencies] = field(default_factory=list)
    health: list[Latencies] = field(default_factory=list)
    sample: str = ""
    notes: list[str] = field(default_factory=list)
    cpu: RoundCpu = field(default_factory=lambda: RoundCpu())

    @staticmethod
    def _merged(rounds: list[Latencies]) -> Latencies:
        return Latencies(
            [s for r in rounds for s in r.seconds],
            [s for r in rounds for s in r.statuses],
            sum(r.elapsed for r in rounds),
            [s for r in rounds for s in r.lags],
        )

    def figures(self) -> list[Figure]:
        """p50 and p99 of the checks beside those of `/healthz` (ms)."""
        checks, health = self._merged(self.checks), self._merged(self.health)
        label = f"GET /healthz, same rate and process ({self.engine})"
        return [
            Figure(
                f"entitlements.check.p{p}",
                checks.percentile(p) * 1000,
                "ms",
                health.percentile(p) * 1000,
                "ms",
                label,
            )
            for p in (50, 99)
        ]

    def sections(self) -> list[Section]:
        """The rates achieved, the goal, a sample answer and the machine's load."""
        checks, health = self._merged(self.checks), self._merged(self.health)
        ms = {
            name: (lat.percentile(50) * 1000, lat.percentile(99) * 1000)
            for name, lat in (("c", checks), ("h", health))
        }
        lines = [
            *self.notes,
            f"checks: {len(checks.seconds):,} at {checks.achieved_rate:,.0f}/s "
            f"(asked {self.options.rate:,}/s), p50 {ms['c'][0]:.2f} ms, p99 {ms['c'][1]:.2f} ms, "
            f"max {max(checks.seconds, default=0) * 1000:.1f} ms",
            f"/healthz: {len(health.seconds):,} at {health.achieved_rate:,.0f}/s, "
            f"p50 {ms['h'][0]:.2f} ms, p99 {ms['h'][1]:.2f} ms",
            "CPU a request (service, bench client): check {:.2f} ms, {:.2f} ms; /healthz {:.2f} ms, "
            "{:.2f} ms; a core answers about {:,.0f} checks/s".format(
                *self.cpu.per_request_ms("checks", len(checks.seconds)),
                *self.cpu.per_request_ms("health", len(health.seconds)),
                1000 / max(self.cpu.per_request_ms("checks", len(checks.seconds))[0], 1e-3),
            ),
            f"goal p99 < 5 ms: {'met' if ms['c'][1] < 5 else 'NOT met'}",
            *(
                [
                    f"saturated: the service answered {checks.achieved_rate:,.0f} checks/s of the "
                    f"{self.options.rate:,} asked, so the latencies above are mostly its queue"
                ]
                if checks.achieved_rate < 0.95 * self.options.rate
                else []
            ),
            f"schedule kept: requests left at most {max(checks.lags, default=0) * 1000:.1f} ms after their "
            f"due time (p99 {percentile(checks.lags, 99) * 1000:.2f} ms; the client's own lag, not counted)",
            f"a check's answer: {self.sample}",
        ]
        return [Section(f"entitlements ({self.engine})", lines)]


def check_bodies(pool: HttpPool, subscriptions: int, count: int) -> list[bytes]:
    """`count` raw check requests: random subscription, meter and quantity (reproducible)."""
    rng = random.Random(SEED)
    return [
        pool.request_bytes(
            "POST",
            CHECK_PATH,
            {
                "subscription_id": subscription_id(rng.randrange(subscriptions)),
                "meter": rng.choice(METERS),
                "quantity": rng.randint(1, 5),
            },
        )
        for _ in range(count)
    ]


def _require_ok(answers: list[Answer], what: str) -> None:
    wrong = [a for a in answers if a.status != 200]
    if wrong:
        raise RuntimeError(
            f"{len(wrong)} of {len(answers)} {what} answered {wrong[0].status}: {wrong[0].body[:500]!r}"
        )


async def _drive(stack: Stack, report: EntitlementReport) -> None:
    options = report.options
    pool = HttpPool(stack.urls[0], {"Authorization": f"Bearer {BENCH_API_KEY}"})
    try:
        # The rounds send rate x seconds checks, cycling through the distinct ones: more distinct
        # bodies than that would only lengthen the warm-up with checks the rounds never send.
        distinct = min(DISTINCT_BODIES, options.rate * options.seconds)
        checks = check_bodies(pool, options.subscriptions, distinct)
        health = pool.request_bytes("GET", "/healthz")
        # Warm-up: each distinct check once, so the rounds measure a process that has served these
        # subscriptions (kept in memory per read-model generation), not its first look at each.
        _, answers = await open_loop(pool, checks, options.rate)
        _require_ok(answers, CHECK_PATH)
        _, answers = await open_loop(pool, [health] * min(WARM_UP_REQUESTS, options.rate), options.rate)
        _require_ok(answers, "GET /healthz")
        cpu_before = stack.cpu_seconds()
        log_offset = stack.processes[0].log.stat().st_size
        profiler = _start_profiler(stack.processes[0].pid, options.profile) if options.profile else None
        started = time.perf_counter()
        for round_ in range(options.seconds):
            offset = (round_ * options.rate) % len(checks)
            batch = [checks[(offset + i) % len(checks)] for i in range(options.rate)]
            before = stack.cpu_seconds()
            latencies, answers = await open_loop(pool, batch, options.rate)
            report.cpu.add("checks", before, stack.cpu_seconds())
            _require_ok(answers, CHECK_PATH)
            report.checks.append(latencies)
            report.sample = report.sample or answers[0].body.decode(errors="replace")[:2000]
            before = stack.cpu_seconds()
            latencies, answers = await open_loop(pool, [health] * options.rate, options.rate)
            report.cpu.add("health", before, stack.cpu_seconds())
            _require_ok(answers, "GET /healthz")
            report.health.append(latencies)
        cpu_after = stack.cpu_seconds()
        wall = time.perf_counter() - started
        if profiler is not None:
            report.notes.append(_stop_profiler(profiler, options.profile or ""))
        report.notes.extend(_stalls(stack.processes[0].log, log_offset))
        report.notes.append(
            "CPU over the rounds (share of the wall time): "
            + ", ".join(
                f"{k} {cpu_after[k] - v:.1f} s ({(cpu_after[k] - v) / wall:.0%})"
                for k, v in cpu_before.items()
            )
            + f"; {pool.opened} connections opened"
        )
    finally:
        pool.close()


def _stalls(log: Path, offset: int) -> list[str]:
    """What the service's stall watch logged during the rounds (LOOP_STALL_LOG_MS set), if anything."""
    with log.open("rb") as lines:
        lines.seek(offset)
        events = []
        for line in lines:
            with contextlib.suppress(ValueError):
                event = json.loads(line)
                if isinstance(event, dict) and str(event.get("event", "")).startswith("loop."):
                    events.append(event)
    resumed = [e for e in events if e["event"] == "loop.resumed"]
    if not events:
        return []
    where = collections.Counter(
        " <- ".join(_innermost_frames(str(e.get("stack", "")), 3))
        for e in events
        if e["event"] == "loop.stalled"
    )

    def total(name: str) -> float:
        return float(sum(e[name] for e in resumed))

    def longest(name: str) -> float:
        return float(max((e[name] for e in resumed), default=0))

    return [
        f"loop stalls: {len(resumed)}, longest {longest('stalled_ms'):.0f} ms, "
        f"{total('stalled_ms'):.0f} ms in all, {total('collections'):.0f} collector runs in them "
        f"({total('collection_ms'):.0f} ms; {total('full_collections'):.0f} full, "
        f"the longest {longest('longest_collection_ms'):.0f} ms)",
        *(f"  {n} stalled at: {frame}" for frame, n in where.most_common(8)),
    ]


def _innermost_frames(stack: str, count: int) -> list[str]:
    """`file:line func` of the innermost `count` frames of a formatted stack, innermost first."""
    frames = []
    for line in stack.splitlines():
        text = line.strip()
        if text.startswith("File "):
            path, _, rest = text[len("File ") :].partition(", line ")
            number, _, function = rest.partition(", in ")
            frames.append(f"{Path(path.strip(chr(34))).name}:{number} {function}")
    return frames[::-1][:count]


def _start_profiler(pid: int, path: str) -> subprocess.Popen[bytes]:
    """py-spy sampling the service (without pausing it) until stopped."""
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    command = [py_spy, "record", "--pid", str(pid), "--rate", "250", "--nonblocking", "--format", "raw"]
    return subprocess.Popen([*command, "--output", path], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _stop_profiler(profiler: subprocess.Popen[bytes], path: str) -> str:
    """Stop py-spy (it writes its samples on SIGINT); a note saying where they went."""
    profiler.send_signal(signal.SIGINT)
    try:
        _, errors = profiler.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        profiler.kill()
        return "py-spy did not stop: no profile"
    if not Path(path).exists():
        return f"py-spy wrote no profile: {errors.decode(errors='replace')[-300:]}"
    return f"py-spy samples of the service during the rounds (collapsed stacks): {path}"


async def measure(options: EntitlementOptions) -> EntitlementReport:
    """Seed, ingest some usage, then measure checks and `/healthz` in alternating rounds."""
    with tempfile.TemporaryDirectory(prefix="bench-entitlements-") as tmp:
        databases = Databases(Path(tmp), postgres_server_url())
        report = EntitlementReport(options, databases.engine)
        session = RatingSession(Path(tmp), databases, options.subscriptions)
        try:
            report.notes.append(f"at the start: {machine_load()}")
            await session.seed()
            async with session.stack(1) as stack:
                if options.usage_events:
                    usage = UsageWorkload(
                        events=options.usage_events, run="e", subscriptions=options.subscriptions
                    )
                    await RestSender(stack.urls, 2).send_all(rest_bodies(usage, ndjson=False, eager=False))
                    checked = await verify(stack.probe, usage)
                    report.notes.append(
                        f"usage before the checks: {checked.distinct:,} events, quantity {checked.quantity:,}"
                    )
                await _drive(stack, report)
            report.notes.append(f"at the end of the rounds: {machine_load()}")
        finally:
            await databases.drop_all()
    return report


def run(options: EntitlementOptions) -> list[Figure | Section]:
    """The entitlement benchmark, synchronously (its own event loop: uvloop's, as the service's
    uvicorn runs on, so the client costs the shared cores as little as it can)."""
    report = uvloop.run(measure(options))
    return [*report.figures(), *report.sections()]
