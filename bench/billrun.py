"""`python -m bench billrun` (`make bench-billrun`): one bill run over N accounts on SQLite (and on
PostgreSQL when BILLRUN_BENCH_DATABASE_URL names a server), with one and with two invoicing
processes (`bench.billrun_worker`) on a local broker; then the same run again (a no-op).

The read model is seeded in bulk (`bench.billrun_seed`: N accounts, two monthly subscriptions
each and a rated usage), then the processes bill it with the real engine: the read model's
accounts paged into chunks, each chunk billed by `InvoiceEngineBilling` (charge calculation, tax
per line, draft, gap-free number, `invoice.finalized` through the outbox).

Reported per configuration: invoices/s of the run (POST to `completed`), the time of the no-op
rerun and its share of the run, the peak RSS of each process; beside the baseline measured in the
same run and database: as many invoice rows inserted in bulk, one transaction per chunk. Checked
after each: one invoice per account, its total, numbers 1..N without a gap, a rerun that makes none.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import httpx
from sqlalchemy import text

from bench.billrun_seed import BASELINE_INVOICES, METADATA, baseline_rows, invoice_total, seed_read_model
from bench.rating_stack import BENCH_API_KEY, ROOT, RatingProcess
from bench.report import Figure, Section, per_second
from bench.scratch_db import scratch_database
from invoicing.config import InvoicingSettings
from libs.platform.broker import LocalBroker, free_port
from libs.platform.db import Database
from libs.platform.migrations import upgrade_async

POSTGRES_ENV: Final = "BILLRUN_BENCH_DATABASE_URL"
DEFAULT_ACCOUNTS: Final = 100_000
DEFAULT_CHUNK: Final = int(InvoicingSettings.model_fields["bill_run_chunk_accounts"].default)
"""The service's own chunk size (BILL_RUN_CHUNK_ACCOUNTS): the bench runs the service as configured.
Until stop 20 it ran chunks of 250 — 63.0 s for 100,000 accounts against 43.3 s at the default
500, back to back (docs/benchmarks.md, Stop 20)."""
LEDGER_TIMEOUT_S: Final = 300.0
INVOICE_ENTRIES: Final = text("SELECT count(*) FROM journal_entries WHERE kind = 'invoice'")
MIGRATIONS: Final = ROOT / "services" / "invoicing" / "migrations"
BILL_DATE: Final = "2026-08-01"


@dataclass(frozen=True)
class BillRunOptions:
    """What to run."""

    accounts: int = DEFAULT_ACCOUNTS
    chunk_accounts: int = DEFAULT_CHUNK
    process_counts: tuple[int, ...] = (1, 2)
    timeout_s: float = 900.0


@dataclass(frozen=True)
class RunFigures:
    """One configuration's measurements."""

    database: str
    processes: int
    run_s: float
    rerun_s: float
    baseline_s: float
    peak_rss_mib: tuple[float, ...]
    run_cpu_s: float
    """CPU seconds of all the processes during the run (the machine is shared: CPU per invoice is
    the figure that load does not skew)."""
    load: float
    """The 1-minute load average when the run ended."""
    report: dict[str, Any]
    rerun_report: dict[str, Any]
    rows: int
    seed_s: float
    checks: dict[str, Any]
    ledger_s: float | None
    """Seconds from the run's start until the ledger had booked every invoice it issued (the
    ledger consumer books each `invoice.finalized` in the same process, behind the run: its work
    finished after the run is not in the run's figure), None if not within LEDGER_TIMEOUT_S."""
    ledger_cpu_s: float
    """CPU seconds of all the processes from the run's start until then."""


class InvoicingWorker(RatingProcess):
    """`python -m bench.billrun_worker` instead of `python -m rating`."""

    def start(self) -> InvoicingWorker:
        """Spawn the worker (its output appended to its log file)."""
        import subprocess

        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bench.billrun_worker"],
                cwd=ROOT,
                env=self.environment(),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        return self


def _say(text: str) -> None:
    print(f"  {text}", file=sys.stderr, flush=True)


async def _prepare(url: str, accounts: int) -> float:
    """Migrate, create the baseline's table and seed the read model; seconds the seeding took."""
    await upgrade_async(MIGRATIONS, url)
    db = Database(url)
    try:
        async with db.engine.begin() as connection:
            await connection.run_sync(METADATA.create_all)
        started = time.perf_counter()
        async with db.engine.begin() as connection:
            await seed_read_model(connection, accounts)
        return time.perf_counter() - started
    finally:
        await db.dispose()


async def _baseline(url: str, accounts: int, chunk: int) -> float:
    """Seconds to insert `accounts` invoice rows in bulk, one transaction per chunk."""
    db = Database(url)
    try:
        start = _first_of_month()
        end = start.replace(month=start.month % 12 + 1, year=start.year + (start.month == 12))
        started = time.perf_counter()
        for first in range(0, accounts, chunk):
            rows = baseline_rows(first, min(first + chunk, accounts), period_start=start, period_end=end)
            async with db.engine.begin() as connection:
                await connection.execute(BASELINE_INVOICES.insert(), rows)
        return time.perf_counter() - started
    finally:
        await db.dispose()


def _first_of_month() -> Any:
    from datetime import date

    return date.fromisoformat(BILL_DATE).replace(day=1)


async def _check_invoices(url: str) -> dict[str, Any]:
    """What the runs left: invoices, distinct (account, period), totals, and the numbers' span."""
    from sqlalchemy import case, distinct, func, select

    from invoicing.models.invoices import InvoiceRow

    table: Any = InvoiceRow.__table__
    statement = select(
        func.count(),
        func.count(distinct(table.c.account_id + table.c.currency)),
        func.count(distinct(table.c.number)),
        func.min(table.c.number),
        func.max(table.c.number),
        func.sum(case((table.c.total == invoice_total(), 1), else_=0)),
    )
    db = Database(url)
    try:
        async with db.engine.connect() as connection:
            row = (await connection.execute(statement)).one()
    finally:
        await db.dispose()
    return dict(zip(("invoices", "accounts", "numbers", "first", "last", "right_total"), row, strict=True))


async def _run_once(client: httpx.AsyncClient, timeout_s: float) -> tuple[float, dict[str, Any]]:
    """Start a run and poll it to its end: (seconds, final report)."""
    started = time.perf_counter()
    response = await client.post("/v1/bill-runs", json={"bill_date": BILL_DATE})
    response.raise_for_status()
    run_id = response.json()["id"]
    last = ""
    while time.perf_counter() - started < timeout_s:
        polled = await client.get(f"/v1/bill-runs/{run_id}")
        if polled.status_code != 200:  # SQLite busy past its timeout on a loaded machine: poll again
            _say(f"{run_id} progress read failed ({polled.status_code}), polling again")
            await asyncio.sleep(0.25)
            continue
        report = polled.json()
        line = f"{report['state']} {report['accounts_done']:,}/{report['accounts_total']:,}"
        if line != last:
            _say(f"{run_id} {line}")
            last = line
        if report["state"] in {"completed", "completed_with_failures", "failed"}:
            return time.perf_counter() - started, report
        await asyncio.sleep(0.25)
    raise TimeoutError(f"bill run {run_id} did not finish within {timeout_s}s")


async def _ledger_caught_up(url: str, invoices: int, started: float) -> float | None:
    """Seconds since `started` when the ledger holds an entry for each of the run's invoices."""
    db = Database(url)
    try:
        while time.perf_counter() - started < LEDGER_TIMEOUT_S:
            async with db.engine.connect() as connection:
                booked = (
                    await connection.execute(
                        text("SELECT count(*) FROM journal_entries WHERE kind = 'invoice'")
                    )
                ).scalar_one()
            if booked >= invoices:
                return time.perf_counter() - started
            await asyncio.sleep(0.25)
        return None
    finally:
        await db.dispose()


async def _configuration(
    database: str, server_url: str | None, processes: int, options: BillRunOptions, logs: Path
) -> RunFigures:
    async with scratch_database(server_url) as url:
        seed_s = await _prepare(url, options.accounts)
        _say(f"seeded {options.accounts:,} accounts in {seed_s:.1f}s")
        broker = LocalBroker(port=free_port()).start()
        env = {
            "BILL_RUN_CHUNK_ACCOUNTS": str(options.chunk_accounts),
            "BILL_RUN_SCHEDULE_ENABLED": "false",
            "BILL_RUN_POLL_S": "0.2",
            "BILL_RUN_CHUNKS_PER_POLL": "1",
            "KAFKA_TOPIC_PARTITIONS": "6",
            "LOG_LEVEL": "WARNING",
        }
        workers = [
            InvoicingWorker(
                f"invoicing-{n}", url, broker.bootstrap_servers, logs / f"{database}-{processes}-{n}.log", env
            )
            for n in range(processes)
        ]
        try:
            for worker in workers:
                worker.start()
            for worker in workers:
                await worker.wait_ready()
            await asyncio.sleep(3.0)  # let the consumer group settle on every member's partitions
            headers = {"Authorization": f"Bearer {BENCH_API_KEY}"}
            async with httpx.AsyncClient(base_url=workers[0].url, headers=headers, timeout=120) as client:
                cpu_before = sum(w.cpu_seconds() for w in workers)
                started = time.perf_counter()
                run_s, report = await _run_once(client, options.timeout_s)
                run_cpu_s = sum(w.cpu_seconds() for w in workers) - cpu_before
                load = os.getloadavg()[0]
                ledger_s = await _ledger_caught_up(url, report["invoices_created"], started)
                ledger_cpu_s = sum(w.cpu_seconds() for w in workers) - cpu_before
                rerun_s, rerun_report = await _run_once(client, options.timeout_s)
            peaks = tuple(w.peak_rss_mib() for w in workers)
        except BaseException:
            for worker in workers:
                tail = (
                    worker.log.read_text(errors="replace").splitlines()[-40:] if worker.log.exists() else []
                )
                _say(f"{worker.log.name}:\n" + "\n".join(tail))
            raise
        finally:
            for worker in workers:
                worker.stop()
            broker.stop()
        checks = await _check_invoices(url)
        baseline_s = await _baseline(url, options.accounts, options.chunk_accounts)
    return RunFigures(
        database,
        processes,
        run_s,
        rerun_s,
        baseline_s,
        peaks,
        run_cpu_s,
        load,
        report,
        rerun_report,
        checks["invoices"],
        seed_s,
        checks,
        ledger_s,
        ledger_cpu_s,
    )


def _figures(results: list[RunFigures], options: BillRunOptions) -> list[Figure | Section]:
    out: list[Figure | Section] = []
    lines = [
        "the invoice engine over a seeded read model: two monthly subscriptions and a rated usage each, "
        "tax per line, gap-free numbers, invoice.finalized through the outbox",
    ]
    for r in results:
        created = r.report["invoices_created"]
        out.append(
            Figure(
                f"bill run {r.database}, {r.processes} process{'es' if r.processes > 1 else ''}",
                per_second(created, r.run_s),
                "invoices/s",
                per_second(options.accounts, r.baseline_s),
                "rows/s",
                "bulk insert of as many invoice rows",
            )
        )
        c = r.checks
        checks = (
            created == options.accounts == r.rows == c["accounts"] == c["numbers"] == c["right_total"]
            and c["first"] == "INV-2026-000001"
            and c["last"] == f"INV-2026-{options.accounts:06d}"
            and r.rerun_report["invoices_created"] == 0
            and not r.report["failures"]
        )
        lines.append(
            f"{r.database} x{r.processes}: run {r.run_s:.1f}s ({created:,} invoices; "
            f"{r.run_cpu_s:.1f} CPU s, {1000 * r.run_cpu_s / max(created, 1):.2f} ms an invoice, "
            f"load {r.load:.1f}), "
            f"no-op rerun {r.rerun_s:.1f}s ({100 * r.rerun_s / r.run_s:.0f}% of the run), "
            f"baseline {r.baseline_s:.1f}s, peak RSS "
            + ", ".join(f"{p:.0f} MiB" for p in r.peak_rss_mib)
            + f"; seeding {r.seed_s:.1f}s; checks {'ok' if checks else 'FAILED'} ({c}); "
            + (
                f"the ledger had booked every invoice {r.ledger_s:.1f}s after the run's start "
                f"({r.ledger_cpu_s:.1f} CPU s, {1000 * r.ledger_cpu_s / max(created, 1):.2f} ms an invoice)"
                if r.ledger_s is not None
                else f"the ledger had not booked every invoice within {LEDGER_TIMEOUT_S:.0f}s"
            )
        )
    out.append(Section("bill runs", lines))
    return out


def run(options: BillRunOptions) -> list[Figure | Section]:
    """Every configuration: SQLite (and PostgreSQL when configured) x the process counts."""
    server_url = os.environ.get(POSTGRES_ENV)
    databases: list[tuple[str, str | None]] = [("sqlite", None)]
    if server_url:
        databases.append(("postgresql", server_url))
    results: list[RunFigures] = []
    with tempfile.TemporaryDirectory(prefix="billrun-bench-") as tmp:
        for database, url in databases:
            for processes in options.process_counts:
                _say(f"{database}, {processes} process(es), {options.accounts:,} accounts")
                results.append(asyncio.run(_configuration(database, url, processes, options, Path(tmp))))
    return _figures(results, options)
