"""Operator commands of the invoicing service: `python -m invoicing.cli <command>`.

- `bill-run --date YYYY-MM-DD [--account ID ...] [--dry-run] [--watch] [--local]` — start a bill
  run through the handlers on the service's database (as `POST /v1/bill-runs` does) and, with
  `--watch`, print its progress until it finishes: accounts done of the total, invoices created
  (and found existing), failures, amounts per currency, accounts per second; then the first
  failed accounts with their reasons. The running invoicing replicas do the work; `--local` does
  it in this process instead (no broker: each chunk is billed as it is enumerated). Exit status:
  0 started (or completed, with `--watch`), 1 completed with failures or failed, 2 bill runs are
  not wired in this process.
- `collections-run --date YYYY-MM-DD` — run collections for a date in this process, a page of
  accounts per transaction (as the daily job does; `POST /v1/collections/runs` in one request),
  and print what it did. Repeating it, or running an earlier date, changes nothing. Exit status 0.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from datetime import date
from typing import TextIO

from invoicing.bootstrap import InvoicingRuntime, bootstrap
from invoicing.domain.bill_runs import BillRunState
from invoicing.handlers import bill_runs
from invoicing.handlers.bill_run_chunks import enumerate_runs
from invoicing.handlers.collections import CollectionsRunTally, run_collections
from invoicing.schemas.bill_runs import BillRunCreate, BillRunPublic
from libs.platform.logging import configure_logging
from libs.platform.migrations import upgrade_async


def progress_text(run: BillRunPublic) -> str:
    """One line of a run's progress."""
    total = f"{run.accounts_total:,}" + ("" if run.enumerated else "+")
    percent = f" ({run.percent:.1f}%)" if run.percent is not None else ""
    amounts = "  ".join(f"{a.currency} {a.amount:,}" for a in run.amounts)
    speed = f"  {run.accounts_per_second:,} accounts/s" if run.accounts_per_second else ""
    return (
        f"{run.id} {run.state.value:<23} {run.accounts_done:,}/{total} accounts{percent}  "
        f"invoices {run.invoices_created:,} (existing {run.invoices_existing:,})  "
        f"failures {run.failures:,}" + (f"  {amounts}" if amounts else "") + speed
    )


def summary_text(run: BillRunPublic) -> str:
    """What a finished run did, with its first failed accounts."""
    lines = [progress_text(run)]
    if run.failure_reason:
        lines.append(f"  failed: {run.failure_reason}")
    for failure in run.failures_sample:
        lines.append(f"  {failure.account_id}: {failure.reason}")
    if run.failures > len(run.failures_sample):
        lines.append(f"  (all of them: GET /v1/bill-runs/{run.id}/failures)")
    return "\n".join(lines)


async def _report(runtime: InvoicingRuntime, run_id: str) -> BillRunPublic:
    async with runtime.system_unit_of_work() as uow:
        return await bill_runs.get_bill_run(uow, run_id=run_id)


async def watch(runtime: InvoicingRuntime, run_id: str, *, out: TextIO, poll_s: float) -> BillRunPublic:
    """Print a line each time the run's progress moves, until it has finished."""
    last = ""
    while True:
        run = await _report(runtime, run_id)
        line = progress_text(run)
        if line != last:
            out.write(line + "\n")
            out.flush()
            last = line
        if run.state in {BillRunState.COMPLETED, BillRunState.COMPLETED_WITH_FAILURES, BillRunState.FAILED}:
            return run
        await asyncio.sleep(poll_s)


async def bill_run(
    runtime: InvoicingRuntime,
    command: BillRunCreate,
    *,
    out: TextIO,
    follow: bool,
    local: bool,
    poll_s: float = 1.0,
) -> int:
    """Start a run (and follow it); the exit status."""
    if not runtime.bill_runs_wired:
        out.write("bill runs are not wired in this process: no account billing is configured\n")
        return 2
    async with runtime.system_unit_of_work() as uow:
        started = await bill_runs.start_bill_run(uow, command=command)
    out.write(f"{started.id} started for {started.bill_date}: GET /v1/bill-runs/{started.id}\n")
    worker: asyncio.Task[object] | None = None
    if local:
        assert runtime.account_billing is not None and runtime.billable_accounts is not None
        worker = asyncio.create_task(
            enumerate_runs(
                units_of_work=runtime.system_unit_of_work,
                accounts_of=runtime.billable_accounts,
                billing=runtime.account_billing,
                worker=runtime.worker_name,
                settings=runtime.bill_run_settings(),
                local=True,
            )
        )
    if not follow and worker is None:
        return 0
    try:
        finished = await watch(runtime, started.id, out=out, poll_s=poll_s)
    finally:
        if worker is not None:
            if not worker.done():
                worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker
    out.write(summary_text(finished) + "\n")
    return 0 if finished.state is BillRunState.COMPLETED else 1


def collections_text(tally: CollectionsRunTally) -> str:
    """What a collections run did, on one line."""
    steps = "  ".join(f"{action} {count:,}" for action, count in sorted(tally.steps_taken.items()))
    return (
        f"collections {tally.on.isoformat()}: {tally.accounts:,} accounts"
        f"  cases opened {tally.cases_opened:,}  closed {tally.cases_closed:,}"
        f"  steps: {steps or 'none'}  written off {tally.invoices_written_off:,}"
        f"  resumes requested {tally.resumes_requested:,}  without a policy {tally.accounts_without_policy:,}"
    )


async def collections_run(runtime: InvoicingRuntime, on: date, *, out: TextIO) -> int:
    """Run collections for `on` here; the exit status."""
    tally = await run_collections(runtime.system_unit_of_work, on=on)
    out.write(collections_text(tally) + "\n")
    return 0


async def _run(runtime: InvoicingRuntime, command: BillRunCreate | date, args: argparse.Namespace) -> int:
    try:
        if runtime.settings.migrate_on_start:
            await upgrade_async(runtime.migrations_dir, runtime.db.url)
        if isinstance(command, date):
            return await collections_run(runtime, command, out=sys.stdout)
        return await bill_run(
            runtime,
            command,
            out=sys.stdout,
            follow=args.watch,
            local=args.local,
            poll_s=max(args.interval, 0.05),
        )
    finally:
        await runtime.db.dispose()


def main(argv: list[str] | None = None, runtime: InvoicingRuntime | None = None) -> int:
    """Parse the command line and run one command (on `runtime`, else the configured service's)."""
    parser = argparse.ArgumentParser(prog="python -m invoicing.cli")
    sub = parser.add_subparsers(dest="command", required=True)
    run_parser = sub.add_parser("bill-run", help="start a bill run and follow its progress")
    run_parser.add_argument(
        "--date", required=True, type=date.fromisoformat, help="the bill date, YYYY-MM-DD"
    )
    run_parser.add_argument("--account", action="append", default=None, help="only this account (repeatable)")
    run_parser.add_argument("--dry-run", action="store_true", help="compute the invoices, store nothing")
    run_parser.add_argument("--watch", action="store_true", help="print progress until the run has finished")
    run_parser.add_argument("--local", action="store_true", help="do the run's work in this process")
    run_parser.add_argument("--interval", type=float, default=1.0, help="seconds between progress polls")
    collections_parser = sub.add_parser("collections-run", help="run collections for a date")
    collections_parser.add_argument(
        "--date", required=True, type=date.fromisoformat, help="the run date, YYYY-MM-DD"
    )
    args = parser.parse_args(argv)
    if args.command == "collections-run":
        return asyncio.run(_run(runtime or bootstrap(), args.date, args))
    try:
        command = BillRunCreate(bill_date=args.date, account_ids=args.account, dry_run=args.dry_run)
    except ValueError as exc:
        parser.error(str(exc))
    return asyncio.run(_run(runtime or bootstrap(), command, args))


if __name__ == "__main__":
    configure_logging("WARNING")
    sys.exit(main())
