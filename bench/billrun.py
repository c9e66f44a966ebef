"""`python -m bench billrun` (`make bench-billrun`): one bill run over N accounts on SQLite (and on
PostgreSQL when BILLRUN_BENCH_DATABASE_URL names a server), with one and with two invoicing
processes (`bench.billrun_worker`) on a local broker; then the same run again (a no-op).

Reported per configuration: invoices/s of the run (POST to `completed`), the time of the no-op
rerun and its share of the run, the peak RSS of each process; beside the baseline measured in the
same run and database: as many invoice rows inserted in bulk, one transaction per chunk.

HONEST LIMIT: until the real per-account billing (charge calculation, tax, draft and finalize) and
the billing read model are wired, the processes bill with `bench.billrun_standins.StandInBilling`:
one invoice row per account, no subscriptions, no rated usage. The figures are the cost of the
run's machinery (enumeration, outbox, Kafka, consumer group, chunk claims and counts) plus one
bulk insert per chunk, NOT the issue's figure; the integrator swaps the stand-ins for the real
adapters and seeds 100,000 accounts with two recurring subscriptions each and rated usage.
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

from bench.billrun_standins import BASELINE_INVOICES, BENCH_INVOICES, METADATA, account_id, invoice_rows
from bench.billrun_standins import insert_ignoring_duplicates as insert_rows
from bench.rating_stack import BENCH_API_KEY, ROOT, RatingProcess
from bench.report import Figure, Section, per_second
from bench.scratch_db import scratch_database
from libs.platform.broker import LocalBroker, free_port
from libs.platform.db import Database
from libs.platform.migrations import upgrade_async

POSTGRES_ENV: Final = "BILLRUN_BENCH_DATABASE_URL"
DEFAULT_ACCOUNTS: Final = 100_000
DEFAULT_CHUNK: Final = 500
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
    report: dict[str, Any]
    rerun_report: dict[str, Any]
    rows: int


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


async def _prepare(url: str) -> None:
    await upgrade_async(MIGRATIONS, url)
    db = Database(url)
    try:
        async with db.engine.begin() as connection:
            await connection.run_sync(METADATA.create_all)
    finally:
        await db.dispose()


async def _baseline(url: str, accounts: int, chunk: int) -> float:
    """Seconds to insert `accounts` invoice rows in bulk, one transaction per chunk."""
    db = Database(url)
    try:
        started = time.perf_counter()
        for first in range(0, accounts, chunk):
            ids = [account_id(n) for n in range(first, min(first + chunk, accounts))]
            async with db.engine.begin() as connection:
                rows = invoice_rows(ids, start=_first_of_month(), run_id="baseline")
                await connection.execute(insert_rows(connection, BASELINE_INVOICES), rows)
        return time.perf_counter() - started
    finally:
        await db.dispose()


def _first_of_month() -> Any:
    from datetime import date

    return date.fromisoformat(BILL_DATE).replace(day=1)


async def _count_rows(url: str) -> int:
    from sqlalchemy import func, select

    db = Database(url)
    try:
        async with db.engine.connect() as connection:
            return int(
                (await connection.execute(select(func.count()).select_from(BENCH_INVOICES))).scalar_one()
            )
    finally:
        await db.dispose()


async def _run_once(client: httpx.AsyncClient, timeout_s: float) -> tuple[float, dict[str, Any]]:
    """Start a run and poll it to its end: (seconds, final report)."""
    started = time.perf_counter()
    response = await client.post("/v1/bill-runs", json={"bill_date": BILL_DATE})
    response.raise_for_status()
    run_id = response.json()["id"]
    last = ""
    while time.perf_counter() - started < timeout_s:
        report = (await client.get(f"/v1/bill-runs/{run_id}")).json()
        line = f"{report['state']} {report['accounts_done']:,}/{report['accounts_total']:,}"
        if line != last:
            _say(f"{run_id} {line}")
            last = line
        if report["state"] in {"completed", "completed_with_failures", "failed"}:
            return time.perf_counter() - started, report
        await asyncio.sleep(0.25)
    raise TimeoutError(f"bill run {run_id} did not finish within {timeout_s}s")


async def _configuration(
    database: str, server_url: str | None, processes: int, options: BillRunOptions, logs: Path
) -> RunFigures:
    async with scratch_database(server_url) as url:
        await _prepare(url)
        broker = LocalBroker(port=free_port()).start()
        env = {
            "BENCH_ACCOUNTS": str(options.accounts),
            "BILL_RUN_CHUNK_ACCOUNTS": str(options.chunk_accounts),
            "BILL_RUN_SCHEDULE_ENABLED": "false",
            "BILL_RUN_POLL_S": "0.2",
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
            async with httpx.AsyncClient(base_url=workers[0].url, headers=headers, timeout=30) as client:
                run_s, report = await _run_once(client, options.timeout_s)
                rerun_s, rerun_report = await _run_once(client, options.timeout_s)
            peaks = tuple(w.peak_rss_mib() for w in workers)
        finally:
            for worker in workers:
                worker.stop()
            broker.stop()
        rows = await _count_rows(url)
        baseline_s = await _baseline(url, options.accounts, options.chunk_accounts)
    return RunFigures(database, processes, run_s, rerun_s, baseline_s, peaks, report, rerun_report, rows)


def _figures(results: list[RunFigures], options: BillRunOptions) -> list[Figure | Section]:
    out: list[Figure | Section] = []
    lines = [
        "stand-in biller (one invoice row per account, no charge calculation): the run's machinery, "
        "NOT the issue's figure (bench/billrun.py says why)",
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
        checks = (
            created == options.accounts == r.rows
            and r.rerun_report["invoices_created"] == 0
            and r.rerun_report["invoices_existing"] == options.accounts
        )
        lines.append(
            f"{r.database} x{r.processes}: run {r.run_s:.1f}s ({created:,} invoices), "
            f"no-op rerun {r.rerun_s:.1f}s ({100 * r.rerun_s / r.run_s:.0f}% of the run), "
            f"baseline {r.baseline_s:.1f}s, peak RSS "
            + ", ".join(f"{p:.0f} MiB" for p in r.peak_rss_mib)
            + f"; checks {'ok' if checks else 'FAILED'} (rows {r.rows:,}, rerun existing "
            f"{r.rerun_report['invoices_existing']:,})"
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
