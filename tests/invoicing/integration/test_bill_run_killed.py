"""A bill run killed with SIGKILL at random moments, then run again to completion: exactly one
invoice per account and period, invoice numbers 1..N without a gap or a duplicate.

Each round is a real process, `python -m invoicing.cli bill-run --local` (the run's work done in
that process, chunk by chunk, each chunk one transaction), killed with SIGKILL as soon as it has
stored invoices and a random moment more. The next process starts a run of its own and first
takes over the killed one (its lease is short here). The last one is left to finish. What is
checked is in the database, with SQL. `BILL_RUN_KILL_LONG=1` runs a longer version (more
accounts, more kills).
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import text

from bench.billrun_seed import seed_read_model
from libs.platform.db import Database
from libs.platform.migrations import upgrade_async

ROOT = Path(__file__).resolve().parents[3]
MIGRATIONS = ROOT / "services" / "invoicing" / "migrations"
LONG = os.environ.get("BILL_RUN_KILL_LONG") == "1"
ACCOUNTS = 3_000 if LONG else 1_500
KILLS = 6 if LONG else 3
# Small chunks, each its own transaction: a chunk is billed in milliseconds, so the kill must come
# soon after the first invoices are seen for the run to be cut in its middle.
CHUNK = 25 if LONG else 5


def _bill_run(database_url: str, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "BILL_RUN_CHUNK_ACCOUNTS": str(CHUNK),
        "BILL_RUN_LEASE_S": "1",
        "MIGRATE_ON_START": "false",
        "LOG_LEVEL": "WARNING",
    }
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "invoicing.cli", "bill-run", "--date", "2026-08-01", "--local"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


async def _invoices(db: Database) -> int:
    async with db.engine.connect() as connection:
        return int((await connection.execute(text("SELECT count(*) FROM invoices"))).scalar_one())


async def _kill_once_billing(
    db: Database, process: subprocess.Popen[bytes], rng: random.Random
) -> int | None:
    """SIGKILL `process` once it has stored invoices, a random moment later: the invoices there
    then; None when it ended first."""
    before = await _invoices(db)
    deadline = time.monotonic() + 120
    while process.poll() is None and time.monotonic() < deadline:
        if await _invoices(db) > before:
            await asyncio.sleep(rng.uniform(0.0, 0.1))
            if process.poll() is not None:
                return None
            process.send_signal(signal.SIGKILL)
            process.wait(10)
            return await _invoices(db)
        await asyncio.sleep(0.05)
    assert process.poll() is not None, "the bill run stored no invoice within 120 s"
    return None


async def test_a_run_killed_at_random_moments_and_rerun_bills_each_account_once(
    database_url: str, tmp_path: Path
) -> None:
    await upgrade_async(MIGRATIONS, database_url)
    db = Database(database_url)
    try:
        async with db.engine.begin() as connection:
            await seed_read_model(connection, ACCOUNTS)
        rng = random.Random()
        log = tmp_path / "bill-run.log"
        killed_at: list[int] = []
        for _ in range(KILLS):
            if await _invoices(db) >= ACCOUNTS:
                break
            process = _bill_run(database_url, log)
            try:
                stored = await _kill_once_billing(db, process, rng)
            finally:
                if process.poll() is None:
                    process.kill()
                    process.wait(10)
            if stored is not None:
                killed_at.append(stored)
        # At least one process was killed in the middle of the run (with accounts left to bill).
        assert any(0 < stored < ACCOUNTS for stored in killed_at), (killed_at, log.read_text()[-3000:])
        await asyncio.sleep(1.2)  # the killed runs' leases run out: the last process takes them over
        last = _bill_run(database_url, log)
        assert last.wait(240) == 0, log.read_text(errors="replace")[-3000:]

        async with db.engine.connect() as connection:
            invoices, keys, numbers, first, highest = (
                await connection.execute(
                    text(
                        "SELECT count(*), "
                        "count(DISTINCT account_id || ':' || currency || ':' || period_start), "
                        "count(DISTINCT sequence_number), min(sequence_number), max(sequence_number) "
                        "FROM invoices WHERE state <> 'void'"
                    )
                )
            ).one()
            unnumbered = (
                await connection.execute(
                    text(
                        "SELECT count(*) FROM invoices WHERE sequence_number IS NULL OR series <> 'INV-2026'"
                    )
                )
            ).scalar_one()
            lines_twice = (
                await connection.execute(
                    text(
                        "SELECT count(*) FROM (SELECT charge_key FROM invoice_lines "
                        "GROUP BY charge_key HAVING count(*) > 1) AS repeated"
                    )
                )
            ).scalar_one()
            counter = (
                await connection.execute(
                    text("SELECT last_number FROM invoice_number_series WHERE series = 'INV-2026'")
                )
            ).scalar_one()
    finally:
        await db.dispose()

    # One invoice per account (each has charges due), and its period; numbers 1..N, none twice,
    # none skipped: a killed transaction gave its numbers back.
    assert (invoices, keys) == (ACCOUNTS, ACCOUNTS)
    assert (numbers, first, highest, counter, unnumbered) == (ACCOUNTS, 1, ACCOUNTS, ACCOUNTS, 0)
    assert lines_twice == 0
