"""What the invoicing service does on a timer (`libs.platform.service.PeriodicJob`).

- `bill-runs` (every BILL_RUN_POLL_S): enumerate the runs waiting — chunks to the outbox, or
  billed here when the process has no bus — then complete the runs whose chunks are all counted.
  Several replicas may run it: a run is enumerated by the one worker holding its lease.
- `bill-runs.schedule` (BILL_RUN_SCHEDULE_ENABLED): start the day's scheduled run once its hour
  has come (one per bill date: a unique key, whichever replica is first).
- `payments.retry-declined` (every PAYMENT_RETRY_INTERVAL_S): charge again the declined payments
  whose retry is due today (UTC; after 1, 3 and 7 days). A payment tried on its day is not due
  again that day, so every run after the first of a day does nothing (as
  `POST /v1/payments/retry-declined` run on demand).
- `collections.schedule` (COLLECTIONS_SCHEDULE_ENABLED): run the day's collections (UTC date) once
  its hour has come; each process runs a date once, and several replicas running it change
  nothing more than one (each step is taken once per case, a unique constraint says so).

The bill-run jobs do nothing while no account billing is wired (`bootstrap.InvoicingRuntime.bill_runs_wired`).
"""

from __future__ import annotations

from datetime import UTC
from typing import TYPE_CHECKING

from invoicing.config import InvoicingSettings
from invoicing.domain.bill_runs import scheduled_bill_date
from invoicing.handlers.bill_run_chunks import complete_runs, enumerate_runs
from invoicing.handlers.bill_runs import start_scheduled_run
from invoicing.handlers.collections import run_collections
from invoicing.handlers.payments import retry_declined
from libs.platform.logging import get_logger
from libs.platform.service import PeriodicJob

if TYPE_CHECKING:
    from invoicing.bootstrap import InvoicingRuntime

log = get_logger("invoicing.jobs")


def periodic_jobs(runtime: InvoicingRuntime) -> list[PeriodicJob]:
    """The jobs of the invoicing service, bound to its runtime (a zero interval turns one off)."""
    settings = runtime.settings
    assert isinstance(settings, InvoicingSettings)

    async def work_bill_runs() -> object:
        if runtime.account_billing is None or runtime.billable_accounts is None:
            return None
        runs = await enumerate_runs(
            units_of_work=runtime.system_unit_of_work,
            accounts_of=runtime.billable_accounts,
            billing=runtime.account_billing,
            worker=runtime.worker_name,
            settings=runtime.bill_run_settings(),
            local=not settings.bus_enabled,
        )
        completed = await complete_runs(runtime.system_unit_of_work)
        return len(runs), completed

    async def schedule() -> object:
        if not runtime.bill_runs_wired:
            return None
        bill_date = scheduled_bill_date(
            runtime.clock.now(), start_hour_utc=settings.bill_run_schedule_hour_utc
        )
        if bill_date is None:
            return None
        async with runtime.system_unit_of_work() as uow:
            return await start_scheduled_run(uow, bill_date=bill_date)

    async def retry_payments() -> object:
        async with runtime.system_unit_of_work() as uow:
            return await retry_declined(
                uow=uow, gateway=runtime.payment_gateway, on=runtime.clock.now().date()
            )

    collected: set[object] = set()

    async def collections() -> object:
        now = runtime.clock.now().astimezone(UTC)
        on = now.date()
        if now.hour < settings.collections_schedule_hour_utc or on in collected:
            return None
        tally = await run_collections(runtime.system_unit_of_work, on=on)
        collected.add(on)
        return tally

    jobs = [
        PeriodicJob("bill-runs", settings.bill_run_poll_s, work_bill_runs),
        PeriodicJob("payments.retry-declined", settings.payment_retry_interval_s, retry_payments),
    ]
    if settings.bill_run_schedule_enabled:
        jobs.append(PeriodicJob("bill-runs.schedule", settings.bill_run_schedule_interval_s, schedule))
    if settings.collections_schedule_enabled:
        jobs.append(
            PeriodicJob("collections.schedule", settings.collections_schedule_interval_s, collections)
        )
    return jobs
