"""The vendor webhook: signed overage notices a second into a real `python -m overage` process.

One overage process (uvicorn, SQLite in a temporary directory; PostgreSQL on the server of
`WEBHOOK_BENCH_DATABASE_URL`, a database made for the run and dropped after), bus off, its notice
worker on as deployed (it works the stored notices into cases beside the load). A vendor and one
mapped tenant are created over the API; then `notices` signed notices with distinct notice ids,
plus `duplicates` re-sent ids (answered 200 "duplicate"), all signed and built into raw requests
before the timed window, are posted over `concurrency` keep-alive connections (closed loop) by a
minimal asyncio HTTP/1.1 client (`bench.closed_loop`, a few tens of µs a request where httpx costs
several hundred), from `clients` processes. `GET /healthz` runs the same number of requests the
same way, before and after the notices: the baseline is the service's floor (routing,
middleware, the event loop, the client), so the ratio notices/s ÷ healthz/s is what to read on a
shared machine. Where the time goes: the service's CPU per request of each run, the client's,
and the group commit's counters (`/metrics`: calls per transaction, time per transaction).

Checked: every distinct notice answered 202 exactly once (a re-sent id that races its original
may be the one answered 202), every other send 200, and the store holds exactly as many notices
as distinct ids were sent (none lost, none twice).
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
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import httpx

from bench.closed_loop import Run, closed_loop, raw_request
from bench.rating_runs import machine_load
from bench.rating_stack import BENCH_API_KEY, ROOT, Databases, RatingProcess, StoreProbe
from bench.report import Figure, Section
from overage.domain.signatures import sign

POSTGRES_ENV: Final = "WEBHOOK_BENCH_DATABASE_URL"
DEFAULT_NOTICES = 3_000
DEFAULT_DUPLICATES = 300
DEFAULT_CONCURRENCY = 16
DEFAULT_CLIENTS = 1
GOAL_PER_S = 500
TENANT = "bench-tenant-1"
PROCESS_ENV: Final = {"BUS_ENABLED": "false", "WEBHOOK_SECRET_KEY": "bench-webhook-master-key-0123456789ab"}
ADMIN = {"Authorization": f"Bearer {BENCH_API_KEY}"}


@dataclass(frozen=True)
class WebhookOptions:
    """What `make bench-webhook` runs."""

    notices: int = DEFAULT_NOTICES
    duplicates: int = DEFAULT_DUPLICATES
    concurrency: int = DEFAULT_CONCURRENCY
    clients: int = DEFAULT_CLIENTS


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


async def setup_vendor(client: httpx.AsyncClient) -> tuple[str, str]:
    """A vendor (its id and webhook secret) and its tenant, mapped, over the API."""
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


@dataclass
class Phases:
    """The three timed runs, the service's CPU in each, and its group commit's counters."""

    notices: Run
    before: Run
    after: Run
    cpu: dict[str, float]
    group_commit: dict[str, float]
    notices_ended_at: float = 0.0
    worked_after_s: float | None = None


async def _metrics(client: httpx.AsyncClient) -> dict[str, float]:
    text = (await client.get("/metrics")).text
    found: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith("group_commit_") and 'name="overage-webhook"' in line:
            found[line.split("{", 1)[0]] = float(line.rsplit(" ", 1)[1])
    return found


def signed_requests(host: str, path: str, secret: str, bodies: list[bytes]) -> list[bytes]:
    """Every notice's raw request, signed now — before the timed window (the replay window is 5
    minutes: the run must fit in it)."""
    timestamp = str(int(time.time()))
    return [
        raw_request(
            host,
            "POST",
            path,
            {
                "Content-Type": "application/json",
                "X-Signature-Timestamp": timestamp,
                "X-Signature": sign(secret, timestamp, body),
            },
            body,
        )
        for body in bodies
    ]


async def _drive(process: OverageProcess, options: WebhookOptions) -> Phases:
    async with httpx.AsyncClient(base_url=process.url, timeout=60.0) as client:
        vendor_id, secret = await setup_vendor(client)
        path = f"/v1/webhooks/vendors/{vendor_id}/overage"
        ids = [f"n-{i:07d}" for i in range(options.notices)]
        resent = random.Random(11).sample(range(options.notices), options.duplicates)
        # Each duplicate follows its original by some distance, so it mostly meets a stored notice.
        order = list(range(options.notices)) + resent
        host = process.url.removeprefix("http://")
        notices = signed_requests(host, path, secret, [notice_body(ids[i], 1 + i % 12) for i in order])
        health = [raw_request(host, "GET", "/healthz", {})] * len(order)
        cpu: dict[str, float] = {}

        async def timed(name: str, requests: list[bytes]) -> Run:
            spent = process.cpu_seconds()
            result = await closed_loop(process.url, requests, options.concurrency, options.clients)
            cpu[name] = process.cpu_seconds() - spent
            return result

        await closed_loop(process.url, health[:200], options.concurrency)  # warm-up
        before = await timed("before", health)
        counters = await _metrics(client)
        notice_run = await timed("notices", notices)
        notices_ended_at = time.monotonic()
        after_counters = await _metrics(client)
        after = await timed("after", health)
    group_commit = {k: after_counters.get(k, 0.0) - counters.get(k, 0.0) for k in after_counters}
    return Phases(notice_run, before, after, cpu, group_commit, notices_ended_at)


async def _worked_after(probe: StoreProbe, since: float, timeout_s: float = 300) -> float | None:
    """Seconds from the last acknowledgement until the worker had worked every notice (polled)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        waiting = await probe.scalar("SELECT count(*) FROM overage_notices WHERE status = 'received'")
        if not waiting:
            return time.monotonic() - since
        await asyncio.sleep(0.05)
    return None


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
            extra_env=PROCESS_ENV,
        ).start()
        try:
            await process.wait_ready()
            phases = await _drive(process, options)
            probe = StoreProbe(url)
            try:
                phases.worked_after_s = await _worked_after(probe, phases.notices_ended_at)
                stored = await probe.table_count("overage_notices")
            finally:
                await probe.close()
        finally:
            process.stop()
            await databases.drop_all()
    return _report(options, databases.engine, phases, stored)


def _check(options: WebhookOptions, phases: Phases, stored: int | None) -> None:
    """None lost, none twice: each distinct id answered 202 exactly once, every other send 200."""
    accepted: dict[int, int] = {}
    order = list(range(options.notices)) + random.Random(11).sample(
        range(options.notices), options.duplicates
    )
    for sent, status in zip(order, phases.notices.statuses, strict=True):
        if status not in (200, 202):
            raise RuntimeError(f"notice {sent} answered {status}")
        accepted[sent] = accepted.get(sent, 0) + (status == 202)
    if any(count != 1 for count in accepted.values()) or len(accepted) != options.notices:
        raise RuntimeError("a distinct notice was not answered 202 exactly once")
    if any(s != 200 for s in phases.before.statuses + phases.after.statuses):
        raise RuntimeError("GET /healthz answered something other than 200")
    if stored != options.notices:
        raise RuntimeError(f"{stored} notices stored, {options.notices} distinct sent")


def _report(
    options: WebhookOptions, engine: str, phases: Phases, stored: int | None
) -> list[Figure | Section]:
    _check(options, phases, stored)
    notices, before, after = phases.notices, phases.before, phases.after
    health = Run(
        before.seconds + after.seconds,
        [],
        before.elapsed + after.elapsed,
        before.client_cpu + after.client_cpu,
    )
    health_rate = health.rate
    label = f"GET /healthz, same client, concurrency and process ({engine})"
    rate = notices.rate
    count, health_count = len(notices.seconds), len(health.seconds)
    notice_cpu_ms = phases.cpu["notices"] / count * 1000
    health_cpu_ms = (phases.cpu["before"] + phases.cpu["after"]) / health_count * 1000
    gc = phases.group_commit
    groups = gc.get("group_commit_groups_total", 0.0)
    entries = gc.get("group_commit_entries_total", 0.0)
    writing = gc.get("group_commit_write_seconds_total", 0.0)
    clients = f"{options.clients} client process{'es' if options.clients > 1 else ''}"
    return [
        Figure("webhook.notices", rate, "notices/s", health_rate, "req/s", label),
        Figure("webhook.notice.p50", notices.ms(50), "ms", health.ms(50), "ms", label),
        Figure("webhook.notice.p99", notices.ms(99), "ms", health.ms(99), "ms", label),
        Figure("webhook.notice.cpu", notice_cpu_ms, "ms/req", health_cpu_ms, "ms/req", label),
        Section(
            f"webhook ({engine})",
            [
                f"{count:,} signed notices ({options.notices:,} distinct, {options.duplicates:,} re-sent; "
                f"signed before the timed window) at concurrency {options.concurrency}, {clients} "
                f"(raw HTTP/1.1 keep-alive): {rate:,.0f}/s, p50 {notices.ms(50):.2f} ms, "
                f"p99 {notices.ms(99):.2f} ms",
                f"/healthz the same way: {health_rate:,.0f}/s (before {before.rate:,.0f}/s, after "
                f"{after.rate:,.0f}/s), p50 {health.ms(50):.2f} ms, p99 {health.ms(99):.2f} ms; "
                f"ratio {rate / health_rate:.2f}",
                f"where the time goes: the service spent {notice_cpu_ms:.2f} ms of CPU per notice "
                f"({health_cpu_ms:.2f} ms per /healthz); the client "
                f"{notices.client_cpu / count * 1000:.2f} ms per notice "
                f"({health.client_cpu / health_count * 1000:.2f} ms per /healthz)",
                f"group commit: {entries:,.0f} calls in {groups:,.0f} transactions "
                f"({entries / max(groups, 1):.1f} a group), {writing / max(groups, 1) * 1000:.2f} ms a group "
                f"(checks, insert, commit); the writer busy "
                f"{writing / max(notices.elapsed, 1e-9):.0%} of the run",
                "the worker (one transaction per 10 notices; while notices arrive, one chunk a second "
                "at least) had worked every notice "
                + (
                    f"{phases.worked_after_s:.1f} s after the last acknowledgement"
                    if phases.worked_after_s is not None
                    else "NOT within 300 s"
                ),
                f"none lost: {stored:,} stored = {options.notices:,} distinct sent; each distinct id "
                "answered 202 exactly once, every other send 200",
                f"goal >= {GOAL_PER_S} notices/s: {'met' if rate >= GOAL_PER_S else 'NOT met'}",
                machine_load(),
            ],
        ),
    ]
