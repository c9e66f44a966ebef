"""The vendor webhook: signed overage notices a second into a real `python -m overage` process.

One overage process (uvicorn, SQLite in a temporary directory; PostgreSQL on the server of
`WEBHOOK_BENCH_DATABASE_URL`, a database made for the run and dropped after), bus off, its notice
worker on as deployed (it works the stored notices into cases beside the load). A vendor and one
mapped tenant are created over the API; then `notices` signed notices with distinct notice ids,
plus `duplicates` re-sent ids (answered 200 "duplicate"), are posted by `concurrency` workers
(closed loop, httpx, one keep-alive pool), each signed when sent. `GET /healthz` runs the same
number of requests at the same concurrency from the same client, before and after the notices:
the baseline is the service's floor (routing, middleware, the event loop, the client), so the
ratio notices/s ÷ healthz/s is what to read on a shared machine.

Checked: every distinct notice answered 202, every re-sent one 200, and the store holds exactly
as many notices as distinct ids were sent (none lost, none twice).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import httpx

from bench.http_load import percentile
from bench.rating_runs import machine_load
from bench.rating_stack import BENCH_API_KEY, ROOT, Databases, RatingProcess, StoreProbe
from bench.report import Figure, Section
from overage.domain.signatures import sign

POSTGRES_ENV: Final = "WEBHOOK_BENCH_DATABASE_URL"
DEFAULT_NOTICES = 3_000
DEFAULT_DUPLICATES = 300
DEFAULT_CONCURRENCY = 16
GOAL_PER_S = 500
TENANT = "bench-tenant-1"
ADMIN = {"Authorization": f"Bearer {BENCH_API_KEY}"}


@dataclass(frozen=True)
class WebhookOptions:
    """What `make bench-webhook` runs."""

    notices: int = DEFAULT_NOTICES
    duplicates: int = DEFAULT_DUPLICATES
    concurrency: int = DEFAULT_CONCURRENCY


@dataclass
class Run:
    """Latencies (s, in the order answered) and statuses (by request) of one closed-loop run, and how
    long it took."""

    seconds: list[float] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    elapsed: float = 0.0

    @property
    def rate(self) -> float:
        """Requests answered per second."""
        return len(self.seconds) / max(self.elapsed, 1e-9)

    def ms(self, p: float) -> float:
        """The p-th percentile latency in ms."""
        return percentile(self.seconds, p) * 1000


class OverageProcess(RatingProcess):
    """One `python -m overage` process (the rating process's life cycle, another module)."""

    def start(self) -> OverageProcess:
        """Spawn the process (its output appended to its log file)."""
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "overage"],
                cwd=ROOT,
                env=self.environment(),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        return self


def notice_body(notice_id: str, month: int) -> bytes:
    """A vendor's monthly notice: 262 users on 250 licenses at the vendor's 10.00."""
    return json.dumps(
        {
            "notice_id": notice_id,
            "tenant_id": TENANT,
            "period": f"2026-{month:02d}",
            "licensed_count": 250,
            "actual_user_count": 262,
            "overage_count": 12,
            "vendor_unit_cost": "10.00",
        }
    ).encode()


async def closed_loop(count: int, concurrency: int, send: Callable[[int], Awaitable[int]]) -> Run:
    """`count` requests by `concurrency` workers, each sending its next as soon as one is answered."""
    run = Run(statuses=[0] * count)
    next_index = iter(range(count))

    async def worker() -> None:
        for i in next_index:
            began = time.perf_counter()
            status = await send(i)
            run.seconds.append(time.perf_counter() - began)
            run.statuses[i] = status

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    run.elapsed = time.perf_counter() - started
    return run


async def _setup(client: httpx.AsyncClient) -> tuple[str, str]:
    vendor = await client.post(
        "/v1/vendors", json={"name": "Bench vendor", "cost_book_id": "cb_bench"}, headers=ADMIN
    )
    vendor.raise_for_status()
    vendor_id, secret = vendor.json()["id"], vendor.json()["webhook_secret"]["secret"]
    tenant = await client.post(
        "/v1/vendor-tenants",
        json={
            "vendor_id": vendor_id,
            "tenant_id": TENANT,
            "account_id": "acct_bench",
            "subscription_id": "sub_bench",
        },
        headers=ADMIN,
    )
    tenant.raise_for_status()
    return vendor_id, secret


async def _drive(process: OverageProcess, options: WebhookOptions) -> tuple[Run, Run, Run]:
    limits = httpx.Limits(max_connections=options.concurrency, max_keepalive_connections=options.concurrency)
    async with httpx.AsyncClient(base_url=process.url, limits=limits, timeout=60.0) as client:
        vendor_id, secret = await _setup(client)
        path = f"/v1/webhooks/vendors/{vendor_id}/overage"
        ids = [f"n-{i:07d}" for i in range(options.notices)]
        resent = random.Random(11).sample(range(options.notices), options.duplicates)
        # Each duplicate follows its original by some distance, so it meets a stored notice.
        order = list(range(options.notices)) + resent
        bodies = [notice_body(ids[i], 1 + i % 12) for i in order]

        async def post_notice(i: int) -> int:
            timestamp = str(int(time.time()))
            headers = {
                "Content-Type": "application/json",
                "X-Signature-Timestamp": timestamp,
                "X-Signature": sign(secret, timestamp, bodies[i]),
            }
            return (await client.post(path, content=bodies[i], headers=headers)).status_code

        async def healthz(_: int) -> int:
            return (await client.get("/healthz")).status_code

        await closed_loop(200, options.concurrency, healthz)  # warm-up: connections, code paths
        before = await closed_loop(len(order), options.concurrency, healthz)
        notices = await closed_loop(len(order), options.concurrency, post_notice)
        after = await closed_loop(len(order), options.concurrency, healthz)
    return notices, before, after


def run(options: WebhookOptions) -> list[Figure | Section]:
    """Start overage, post the notices beside `/healthz`, check the store, report."""
    return asyncio.run(_run(options))


async def _run(options: WebhookOptions) -> list[Figure | Section]:
    with tempfile.TemporaryDirectory(prefix="bench-webhook-") as tmp:
        databases = Databases(Path(tmp), os.environ.get(POSTGRES_ENV) or None)
        url = await databases.fresh("overage")
        process = OverageProcess(
            "overage",
            url,
            "127.0.0.1:1",
            Path(tmp) / "overage.log",
            extra_env={"BUS_ENABLED": "false", "WEBHOOK_SECRET_KEY": "bench-webhook-master-key-0123456789ab"},
        ).start()
        try:
            await process.wait_ready()
            cpu_before = process.cpu_seconds()
            notices, before, after = await _drive(process, options)
            cpu = process.cpu_seconds() - cpu_before
            probe = StoreProbe(url)
            try:
                stored = await probe.table_count("overage_notices")
            finally:
                await probe.close()
        finally:
            process.stop()
            await databases.drop_all()
    return _report(options, databases.engine, notices, before, after, stored, cpu)


def _report(
    options: WebhookOptions,
    engine: str,
    notices: Run,
    before: Run,
    after: Run,
    stored: int | None,
    cpu: float,
) -> list[Figure | Section]:
    accepted = notices.statuses[: options.notices]
    repeated = notices.statuses[options.notices :]
    if any(s != 202 for s in accepted) or any(s != 200 for s in repeated):
        wrong = sorted({s for s in accepted if s != 202} | {s for s in repeated if s != 200})
        raise RuntimeError(f"notices answered {wrong}: expected 202 for new ids, 200 for re-sent ones")
    if any(s != 200 for s in before.statuses + after.statuses):
        raise RuntimeError("GET /healthz answered something other than 200")
    if stored != options.notices:
        raise RuntimeError(f"{stored} notices stored, {options.notices} distinct sent")
    health_rate = (len(before.seconds) + len(after.seconds)) / (before.elapsed + after.elapsed)
    health = Run(before.seconds + after.seconds, [], before.elapsed + after.elapsed)
    label = f"GET /healthz, same concurrency and process ({engine})"
    rate = notices.rate
    return [
        Figure("webhook.notices", rate, "notices/s", health_rate, "req/s", label),
        Figure("webhook.notice.p50", notices.ms(50), "ms", health.ms(50), "ms", label),
        Figure("webhook.notice.p99", notices.ms(99), "ms", health.ms(99), "ms", label),
        Section(
            f"webhook ({engine})",
            [
                f"{len(notices.seconds):,} signed notices ({options.notices:,} distinct, "
                f"{options.duplicates:,} re-sent) at concurrency {options.concurrency}: "
                f"{rate:,.0f}/s, p50 {notices.ms(50):.2f} ms, p99 {notices.ms(99):.2f} ms",
                f"/healthz: {health_rate:,.0f}/s (before {before.rate:,.0f}/s, after {after.rate:,.0f}/s), "
                f"p50 {health.ms(50):.2f} ms, p99 {health.ms(99):.2f} ms; ratio {rate / health_rate:.2f}",
                f"none lost: {stored:,} stored = {options.notices:,} distinct sent; every new id 202, "
                "every re-sent id 200",
                f"service CPU over the three runs: {cpu:.1f} s",
                f"goal >= {GOAL_PER_S} notices/s: {'met' if rate >= GOAL_PER_S else 'NOT met'}",
                machine_load(),
            ],
        ),
    ]
