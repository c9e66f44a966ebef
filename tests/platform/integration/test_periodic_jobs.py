"""Periodic jobs of a service runtime: run on their interval, bus or no bus, never two runs of one
job at once, a failing run logged and the next one coming anyway, nothing after stop."""

from __future__ import annotations

import asyncio

from libs.platform.service import PeriodicJob, ServiceRuntime
from rating.bootstrap import MIGRATIONS_DIR
from rating.config import RatingSettings
from tests.support.polling import eventually
from tests.support.services import service_settings


def _runtime(sqlite_url: str, *jobs: PeriodicJob) -> ServiceRuntime:
    settings = service_settings(RatingSettings, database_url=sqlite_url, bootstrap=None)
    return ServiceRuntime(settings=settings, migrations_dir=MIGRATIONS_DIR, periodic_jobs=jobs)


async def test_jobs_run_on_their_interval_one_run_at_a_time_and_survive_a_failing_run(
    sqlite_url: str,
) -> None:
    running = 0
    overlapped = False
    calls = 0

    async def slow() -> None:
        nonlocal running, overlapped
        running += 1
        overlapped = overlapped or running > 1
        await asyncio.sleep(0.03)  # longer than the interval: the next run waits for this one
        running -= 1

    async def failing() -> None:
        nonlocal calls
        calls += 1
        raise RuntimeError("database away")

    never = PeriodicJob("never", 0, failing)
    runtime = _runtime(
        sqlite_url,
        PeriodicJob("slow", 0.01, slow, first_run_after_s=0),
        PeriodicJob("failing", 0.01, failing),
        never,
    )
    await runtime.start()
    try:
        await eventually(
            lambda: asyncio.sleep(0, dict(runtime.job_runs)), until=lambda r: r.get("slow", 0) >= 3
        )
        await eventually(lambda: asyncio.sleep(0, calls), until=lambda n: n >= 3)
    finally:
        await runtime.stop()
    assert not overlapped
    assert "never" not in runtime.job_runs
    after_stop = dict(runtime.job_runs)
    await asyncio.sleep(0.05)  # were a job still scheduled, it would have run again by now
    assert runtime.job_runs == after_stop


async def test_the_first_run_waits_one_interval(sqlite_url: str) -> None:
    runs = 0

    async def job() -> None:
        nonlocal runs
        runs += 1

    runtime = _runtime(sqlite_url, PeriodicJob("hourly", 3600, job))
    await runtime.start()
    await asyncio.sleep(0.05)
    await runtime.stop()
    assert runs == 0
