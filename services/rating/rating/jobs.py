"""What the rating service does on a timer (`libs.platform.service.PeriodicJob`): close ended
billing periods into rated usage, and book balances' expiries and period ends.

Each job runs in units of work of its own; the runtime logs (never raises) a failure and runs it
again an interval later. Several replicas may run the same job: the bookings are exactly once by
the tables' unique keys, the period close claims each aggregate once.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import TYPE_CHECKING

from libs.platform.logging import get_logger
from libs.platform.service import PeriodicJob
from rating.config import RatingSettings
from rating.handlers.balances_settlement import settle_balances
from rating.handlers.usage_loads import sweep_spool

if TYPE_CHECKING:
    from rating.bootstrap import RatingRuntime

log = get_logger("rating.jobs")


def periodic_jobs(runtime: RatingRuntime) -> list[PeriodicJob]:
    """The jobs of the rating service, bound to its runtime (a zero interval turns one off)."""
    settings = runtime.settings
    assert isinstance(settings, RatingSettings)

    async def settle() -> object:
        async with runtime.rating_unit_of_work() as uow:
            settlement = await settle_balances(uow, as_of=None, delay_days=settings.balance_settle_delay_days)
        if settlement.transactions:
            log.info(
                "balances.settled", changed=settlement.balances_changed, transactions=settlement.transactions
            )
        return settlement

    next_sweep = 0.0

    async def load_files() -> object:
        # Files whose upload never committed its load are deleted once a day old (hourly check).
        nonlocal next_sweep
        if time.monotonic() >= next_sweep:
            next_sweep = time.monotonic() + 3600
            await sweep_spool(
                units_of_work=runtime.rating_unit_of_work,
                files=runtime.usage_file_store(),
                older_than=timedelta(days=1),
            )
        return await runtime.load_usage_files()

    return [
        PeriodicJob("period-close", settings.period_close_interval_s, runtime.close_periods),
        PeriodicJob("balances.settle", settings.balance_settle_interval_s, settle),
        PeriodicJob("usage-loads", settings.usage_load_poll_s, load_files),
    ]
