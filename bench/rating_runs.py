"""One rating-benchmark session: the seeded database, and a fresh stack for every measured run.

The read model is seeded once (`seed`: a broker and one rating process, the catalog's and
provisioning's events published, the meters created over REST, then the process stopped).
Every run (`stack`) then gets its own broker, its own copy of the seeded database and its own
rating processes, so no run sees another's messages, offsets or events, and the figures of the
REST and topic doors, of one and two processes, start from the same state.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from bench.rating_seed import catalog_events, create_meters, provisioning_events, publish, wait_for_read_model
from bench.rating_stack import BENCH_API_KEY, Databases, RatingProcess, StoreProbe, process_cpu_seconds
from libs.contracts.topics import ALL_TOPICS
from libs.platform.broker import LocalBroker, ensure_topics, free_port

PARTITIONS = 6


@dataclass
class Stack:
    """A broker, the rating processes on one database, and a probe of that database."""

    broker: LocalBroker
    processes: list[RatingProcess]
    probe: StoreProbe
    database_url: str

    @property
    def bootstrap_servers(self) -> str:
        """The broker's address."""
        return self.broker.bootstrap_servers

    @property
    def urls(self) -> list[str]:
        """Base URLs of the rating processes."""
        return [p.url for p in self.processes]

    def cpu_seconds(self) -> dict[str, float]:
        """CPU seconds so far of each rating process, the broker and this (bench) process."""
        seconds = {p.name: p.cpu_seconds() for p in self.processes}
        if self.broker.process is not None:
            seconds["broker"] = process_cpu_seconds(self.broker.process.pid)
        seconds["bench"] = time.process_time()
        return seconds

    async def restart(self, index: int, *, kill: bool = True) -> None:
        """SIGKILL (or stop) rating process `index` and start it again on its port and database."""
        process = self.processes[index]
        process.kill() if kill else process.stop()
        process.start()
        await process.wait_ready()

    def kill_broker(self) -> None:
        """SIGKILL the broker (it keeps messages in memory: they are gone) and start an empty one
        on the same port, as an operator restarting it would."""
        assert self.broker.process is not None
        self.broker.process.kill()
        self.broker.process.wait(timeout=10)
        self.broker.start()

    async def metrics(self) -> list[str]:
        """The `/metrics` text of each process (empty when one does not answer)."""
        texts = []
        async with httpx.AsyncClient(
            timeout=10, headers={"Authorization": f"Bearer {BENCH_API_KEY}"}
        ) as client:
            for url in self.urls:
                try:
                    response = await client.get(f"{url}/metrics")
                    texts.append(response.text if response.status_code == 200 else "")
                except httpx.HTTPError:
                    texts.append("")
        return texts


def stage_timings(before: Sequence[str], after: Sequence[str]) -> list[str]:
    """What the service's own metrics say about usage between two scrapes (summed over processes).

    Every sample whose name mentions usage or a stage: a histogram's count and seconds give the
    mean per observation, a counter its increase. Nothing is assumed about the names beyond that,
    so whatever per-stage timings the service exposes are printed as they are.
    """
    deltas: dict[str, float] = {}
    for texts, sign in ((before, -1.0), (after, 1.0)):
        for text in texts:
            for family in text_string_to_metric_families(text):
                if "usage" not in family.name and "stage" not in family.name:
                    continue
                for sample in family.samples:
                    if sample.name.endswith(("_bucket", "_created")):
                        continue
                    labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()) if k != "service")
                    key = f"{sample.name}{{{labels}}}" if labels else sample.name
                    deltas[key] = deltas.get(key, 0.0) + sign * sample.value
    lines = []
    for key, value in sorted(deltas.items()):
        if not value:
            continue
        if "_sum" in key:
            count = deltas.get(key.replace("_sum", "_count"), 0.0)
            mean = f", {value / count * 1000:.2f} ms each" if count else ""
            lines.append(f"{key}: {value:.2f} s over {count:,.0f}{mean}")
        elif "_count" not in key:
            lines.append(f"{key}: +{value:,.0f}")
    return lines


@dataclass
class RatingSession:
    """Where the runs of one benchmark session live, and the database they all start from."""

    workdir: Path
    databases: Databases
    subscriptions: int
    partitions: int = PARTITIONS
    extra_env: dict[str, str] = field(default_factory=dict)
    seeded_url: str = ""
    seed_seconds: float = 0.0
    _runs: int = 0

    async def seed(self) -> None:
        """Seed the read model and the meters once, through a rating process, then stop it."""
        started = time.monotonic()
        self.seeded_url = await self.databases.fresh("seed")
        broker = LocalBroker(port=free_port()).start()
        process = RatingProcess(
            "rating-seed",
            self.seeded_url,
            broker.bootstrap_servers,
            self.workdir / "rating-seed.log",
            self.extra_env,
        )
        probe = StoreProbe(self.seeded_url)
        try:
            await ensure_topics(broker.bootstrap_servers, ALL_TOPICS, partitions=self.partitions)
            process.start()
            await process.wait_ready()
            await publish(
                broker.bootstrap_servers, [*catalog_events(), *provisioning_events(self.subscriptions)]
            )
            async with httpx.AsyncClient(
                base_url=process.url, headers={"Authorization": f"Bearer {BENCH_API_KEY}"}, timeout=30
            ) as client:
                await create_meters(client)
            await wait_for_read_model(probe, self.subscriptions)
        finally:
            await probe.close()
            process.stop()
            broker.stop()
        self.seed_seconds = time.monotonic() - started

    @asynccontextmanager
    async def stack(self, processes: int = 1) -> AsyncIterator[Stack]:
        """A fresh broker, a copy of the seeded database and `processes` rating processes, ready."""
        self._runs += 1
        label = f"run{self._runs}"
        database_url = await self.databases.copy(self.seeded_url, label)
        broker = LocalBroker(port=free_port()).start()
        probe = StoreProbe(database_url)
        members = [
            RatingProcess(
                f"rating-{label}-{i}",
                database_url,
                broker.bootstrap_servers,
                self.workdir / f"rating-{label}-{i}.log",
                self.extra_env,
            )
            for i in range(processes)
        ]
        try:
            await ensure_topics(broker.bootstrap_servers, ALL_TOPICS, partitions=self.partitions)
            for member in members:
                member.start()
            await asyncio.gather(*(member.wait_ready() for member in members))
            yield Stack(broker, members, probe, database_url)
        except BaseException:
            # The temporary directory goes with the session: show what the service said first.
            for member in members:
                print(
                    f"--- {member.name} ({member.log}), last lines ---\n{member.log_tail()}", file=sys.stderr
                )
            raise
        finally:
            await probe.close()
            for member in members:
                member.stop()
            broker.stop()


def machine_load() -> str:
    """The 1, 5 and 15-minute load averages and the CPU count, for the report."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} / {five:.2f} / {fifteen:.2f} on {os.cpu_count()} CPUs"
