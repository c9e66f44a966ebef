"""`python -m bench.billrun_profile [ACCOUNTS] [--profile]`: one bill run in-process, no broker.

Seeds the bench's read model (`bench.billrun_seed`) into a fresh SQLite file (or the PostgreSQL
server of BILLRUN_BENCH_DATABASE_URL, in a scratch database), starts a run of every account and
bills it with `enumerate_runs(local=True)` — the real `InvoiceEngineBilling`, one transaction a
chunk — then the same run again (a no-op). Prints CPU and wall seconds of each, invoices per CPU
second, the peak RSS of the runs (counted again once the seeding is done: the seeding's own peak
was most of the figure before), and checks the invoices against an independent sum (the bench's
`invoice_total` times the accounts). With `--profile` the first run is under cProfile and the
functions taking the most time are printed: where an invoice's time goes.
"""

from __future__ import annotations

import asyncio
import cProfile
import gc
import io
import os
import pstats
import resource
import sys
import time
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func, select

from bench.billrun import BILL_DATE, MIGRATIONS, POSTGRES_ENV
from bench.billrun_seed import invoice_total, seed_read_model
from bench.scratch_db import scratch_database
from invoicing.bootstrap import bootstrap
from invoicing.config import InvoicingSettings
from invoicing.handlers.bill_run_chunks import enumerate_runs
from invoicing.handlers.bill_runs import start_bill_run
from invoicing.models.invoices import InvoiceLineRow, InvoiceRow
from invoicing.schemas.bill_runs import BillRunCreate
from libs.platform.clock import FixedClock
from libs.platform.db import Database
from libs.platform.migrations import upgrade_async

CHUNK = int(os.environ.get("BILLRUN_CHUNK", "250"))


def _peak_rss_kib() -> int:
    """This process's peak resident set size so far (`VmHWM`; ru_maxrss where there is no /proc)."""
    try:
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _reset_peak_rss() -> int:
    """Start counting the peak RSS again (Linux: `clear_refs` 5); the peak until now, KiB."""
    peak = _peak_rss_kib()
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
    except OSError:
        pass  # elsewhere the peak printed includes the seeding's
    return peak


async def _one_run(runtime: Any, profile: cProfile.Profile | None) -> tuple[float, float, float]:
    """(process CPU, wall, CPU of this thread: the event loop's Python work; the rest of the
    process's CPU is the database driver's thread — aiosqlite runs SQLite there)."""
    async with runtime.system_unit_of_work() as uow:
        await start_bill_run(uow, command=BillRunCreate(bill_date=date.fromisoformat(BILL_DATE)))
    cpu, wall, loop = time.process_time(), time.perf_counter(), time.thread_time()
    if profile is not None:
        profile.enable()
    await enumerate_runs(
        units_of_work=runtime.system_unit_of_work,
        accounts_of=runtime.billable_accounts,
        billing=runtime.require_account_billing(),
        worker="profile",
        settings=runtime.bill_run_settings(),
        local=True,
    )
    if profile is not None:
        profile.disable()
    return time.process_time() - cpu, time.perf_counter() - wall, time.thread_time() - loop


async def _check(url: str) -> tuple[int, Any, int]:
    db = Database(url)
    try:
        async with db.engine.connect() as connection:
            invoices: Any = InvoiceRow.__table__
            lines: Any = InvoiceLineRow.__table__
            count, total = (await connection.execute(select(func.count(), func.sum(invoices.c.total)))).one()
            line_count = (await connection.execute(select(func.count()).select_from(lines))).scalar_one()
    finally:
        await db.dispose()
    return count, total, line_count


async def main(accounts: int, profile: bool) -> None:
    server = os.environ.get(POSTGRES_ENV)
    if True:
        async with scratch_database(server) as url:
            await upgrade_async(MIGRATIONS, url)
            db = Database(url)
            async with db.engine.begin() as connection:
                await seed_read_model(connection, accounts)
            await db.dispose()
            settings = InvoicingSettings(
                database_url=url,
                kafka_bootstrap_servers="",
                bill_run_chunk_accounts=CHUNK,
                bill_run_schedule_enabled=False,
            )
            runtime = bootstrap(settings, clock=FixedClock(datetime(2026, 8, 1, 6, tzinfo=UTC)))
            # The seeding's own peak (the whole read model built in this process: 192 MiB at
            # 50,000 accounts) is not the run's: the peak is counted again from here.
            seeding_peak = _reset_peak_rss()
            # As a service does once started (`libs.platform.service`): what start-up built is
            # kept out of the collector's full scans (without it they are ~10% of the run here).
            gc.freeze()
            profiler = cProfile.Profile() if profile else None
            try:
                cpu, wall, loop = await _one_run(runtime, profiler)
                cpu_again, wall_again, _ = await _one_run(runtime, None)
            finally:
                await runtime.db.dispose()
            count, total, line_count = await _check(url)
    expected = invoice_total() * accounts
    rss = _peak_rss_kib() / 1024
    print(
        f"{'postgresql' if server else 'sqlite'}: {accounts:,} accounts, chunks of {CHUNK}: "
        f"run {cpu:.2f}s CPU / {wall:.2f}s wall ({accounts / cpu:,.0f} invoices per CPU s, "
        f"{1000 * cpu / accounts:.3f} ms an invoice: {1000 * loop / accounts:.3f} ms in the event loop's "
        f"thread, {1000 * (cpu - loop) / accounts:.3f} ms in the driver's); "
        f"no-op rerun {cpu_again:.2f}s CPU / {wall_again:.2f}s wall "
        f"({100 * wall_again / wall:.1f}% of the run); peak RSS of the runs {rss:.0f} MiB "
        f"(seeding's {seeding_peak / 1024:.0f} MiB)"
    )
    ok = count == accounts and total == expected and line_count == 3 * accounts
    print(
        f"invoices {count:,}, lines {line_count:,}, total {total} (independent sum {expected}): "
        f"{'ok' if ok else 'WRONG'}"
    )
    if profiler is not None:
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats("tottime").print_stats(35)
        stats.sort_stats("cumulative").print_stats(60)
        stats.print_callers("format|enum.py.*__call__|validate_python|init_pydantic_private")
        stats.print_callees("bill_accounts|bill_chunk_once|_issue_chunk|stage_issued|_read_chunk")
        print(out.getvalue())
    if not ok:
        sys.exit(1)


if __name__ == "__main__":
    arguments = [a for a in sys.argv[1:] if not a.startswith("--")]
    asyncio.run(main(int(arguments[0]) if arguments else 2000, "--profile" in sys.argv))
