"""The bill-run jobs of an invoicing process: the day's scheduled run starts once its hour has come
(and only once), the work job enumerates and bills a pending run, and both wait for billing to be
wired."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from invoicing.bootstrap import InvoicingRuntime, bootstrap
from invoicing.config import InvoicingSettings
from invoicing.domain.bill_runs import BillRunKind, BillRunState
from libs.platform.clock import FixedClock
from tests.invoicing.unit.fakes import (
    FakeAccountBilling,
    FakeAccountsDirectory,
    FakeInvoicingUnitOfWork,
    InvoicingStore,
)


def runtime_at(store: InvoicingStore, tmp_path: Path, hour: int, *, wired: bool = True) -> InvoicingRuntime:
    clock = FixedClock(datetime(2026, 8, 1, hour, tzinfo=UTC))
    directory = FakeAccountsDirectory([f"acct_{n:03d}" for n in range(30)])
    return bootstrap(
        InvoicingSettings(
            database_url=f"sqlite+aiosqlite:///{tmp_path}/jobs.db",
            bus_enabled=False,
            bill_run_chunk_accounts=7,
        ),
        unit_of_work=lambda _principal: FakeInvoicingUnitOfWork(store, clock=clock),
        clock=clock,
        account_billing=FakeAccountBilling() if wired else None,
        billable_accounts=(lambda _uow: directory) if wired else None,
    )


def job(runtime: InvoicingRuntime, name: str) -> Callable[[], Awaitable[Any]]:
    return next(j for j in runtime.periodic_jobs if j.name == name).run


async def test_the_days_run_is_scheduled_once_from_its_hour_and_then_billed(tmp_path: Path) -> None:
    store = InvoicingStore()
    assert await job(runtime_at(store, tmp_path, 11), "bill-runs.schedule")() is None
    runtime = runtime_at(store, tmp_path, 12)
    scheduled = await job(runtime, "bill-runs.schedule")()
    assert await job(runtime, "bill-runs.schedule")() is None
    assert [(r.kind, r.bill_date.isoformat(), r.schedule_key) for r in store.bill_runs.values()] == [
        (BillRunKind.SCHEDULED, "2026-08-01", "scheduled:2026-08-01")
    ]
    await job(runtime, "bill-runs")()  # no bus: this process bills the chunks
    run = store.bill_runs[scheduled.id]
    assert (run.state, run.accounts_total, run.chunks_total) == (BillRunState.COMPLETED, 30, 5)
    assert len(store.fake_billed) == 30


async def test_nothing_is_scheduled_or_worked_before_billing_is_wired(tmp_path: Path) -> None:
    store = InvoicingStore()
    runtime = runtime_at(store, tmp_path, 13, wired=False)
    assert await job(runtime, "bill-runs.schedule")() is None
    assert await job(runtime, "bill-runs")() is None
    assert store.bill_runs == {}


def test_tests_and_operators_can_turn_the_schedule_off(tmp_path: Path) -> None:
    settings = InvoicingSettings(
        database_url=f"sqlite+aiosqlite:///{tmp_path}/off.db",
        bill_run_schedule_enabled=False,
        collections_schedule_enabled=False,
    )
    assert [j.name for j in bootstrap(settings).periodic_jobs] == ["bill-runs", "payments.retry-declined"]
