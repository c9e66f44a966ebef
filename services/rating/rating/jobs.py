"""What the rating service does on a timer: book balances' expiries and period ends.

Each job waits its interval, runs in a unit of work of its own and logs (never raises) a
failure, until the runtime stops. Several replicas may run the same job: the bookings are
exactly once by the tables' unique keys and the balance row locks.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from libs.platform.logging import get_logger
from rating.config import RatingSettings
from rating.handlers.balances_settlement import settle_balances

if TYPE_CHECKING:
    from rating.bootstrap import RatingRuntime

log = get_logger("rating.jobs")


@dataclass(frozen=True)
class PeriodicJob:
    """A named piece of work run every `interval_s` seconds."""

    name: str
    interval_s: float
    run: Callable[[], Awaitable[object]]


async def run_periodically(job: PeriodicJob, stop: asyncio.Event) -> None:
    """Run `job` every interval until `stop` is set; a failure is logged and the next run comes."""
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=job.interval_s)
        if stop.is_set():
            return
        try:
            await job.run()
        except Exception as exc:
            log.exception("job.failed", job=job.name, error=str(exc))


def periodic_jobs(runtime: RatingRuntime) -> list[PeriodicJob]:
    """The jobs of the rating service, bound to its runtime (a zero interval turns one off)."""
    settings = runtime.settings
    assert isinstance(settings, RatingSettings)
    jobs = []
    if settings.balance_settle_interval_s > 0:

        async def settle() -> object:
            async with runtime.rating_unit_of_work() as uow:
                settlement = await settle_balances(
                    uow, as_of=None, delay_days=settings.balance_settle_delay_days
                )
            if settlement.transactions:
                log.info(
                    "balances.settled",
                    changed=settlement.balances_changed,
                    transactions=settlement.transactions,
                )
            return settlement

        jobs.append(PeriodicJob("balances.settle", settings.balance_settle_interval_s, settle))
    return jobs
