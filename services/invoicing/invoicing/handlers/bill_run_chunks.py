"""The work of a bill run: page its accounts into chunks, bill each chunk once, complete the run.

- **Enumeration** (`enumerate_runs`, a periodic job of every invoicing process): a worker takes a
  pending run — or one whose worker stopped renewing its lease — and pages its accounts from the
  cursor (`BillableAccounts.accounts_page`, or the run's own list); a cycle run pages only the
  accounts not marked billed through its bill date (the watermark, `billing_watermarks`), so a
  rerun reads no account. Each transaction takes up to
  `chunks_per_transaction` chunks of `chunk_accounts` accounts, writes one
  `bill_run.chunk_requested` per chunk to the outbox (keyed by the chunk's first account, so the
  consumer group spreads chunks over partitions and replicas) and moves the run's cursor, all
  together: after a crash enumeration goes on from the last committed page, emitting nothing
  twice. Without a bus (one process alone) the same transaction bills the chunk itself.
- **A chunk** (`apply_chunk`, the `invoicing.bill_runs` consumer; or inline as above) is claimed
  by inserting its row — the primary key (run, chunk) makes a chunk count once, whoever gets it
  and however often — then billed and counted in the same transaction as the claim.
- **Preparation** (`prepare_chunk`, on SQLite with `BILL_RUN_PREPARED_CHUNKS`): the consumer
  reads a chunk's billing inputs and drafts its invoices on a read-only unit of work before its
  write turn (`libs.platform.write_turns`), so that two processes on one database file overlap
  that work with each other's writes; the transaction then checks that what was read still
  holds, drafts again the accounts that moved, and numbers and stores the invoices
  (`account_billing.PreparedChunk`).
- **Failure isolation**: the chunk is billed by one `bill_chunk` call inside a savepoint (the
  fast path: one round of set-based work for the whole chunk). Accounts the biller cannot bill
  for a reason of their own it reports as failures without raising. Only when the call raises
  is its savepoint rolled back and the chunk billed again one account per savepoint, so the
  failing account is recorded with its reason and the others are billed. A database outage or
  a deadlock is not an account's failure: it is raised, and the consumer redoes the chunk.
- A dry run's billing is always rolled back (its savepoint), whatever the biller wrote.
- **Completion**: the transaction that counts the last chunk completes the run when it sees it
  is the last; two replicas counting the last two chunks at once may each miss it, so the same
  job that enumerates also completes any run whose chunks are all counted (`complete_runs`).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from invoicing.domain.bill_runs import (
    AccountFailure,
    AccountOutcome,
    BillRun,
    BillRunChunk,
    BillRunKind,
    ChunkResult,
    ChunkTally,
    cut_into_chunks,
    tally,
)
from invoicing.handlers.bill_runs_port import AccountBilling, AccountsOf, ChunkPreparation, PreparedBilling
from libs.contracts.bill_runs import BillRunChunkRequested, BillRunCompleted, CurrencyAmount
from libs.platform.db import is_retryable_conflict
from libs.platform.deliveries import is_infrastructure
from libs.platform.errors import DomainError, NotFound
from libs.platform.logging import get_logger
from libs.platform.memory import gc_paused

if TYPE_CHECKING:
    from invoicing.handlers.unit_of_work import InvoicingUnitOfWork

log = get_logger("invoicing.bill_runs")


@dataclass(frozen=True)
class BillRunSettings:
    """How this process does the work of runs (from InvoicingSettings)."""

    chunk_accounts: int = 500
    chunks_per_transaction: int = 10
    lease: timedelta = timedelta(seconds=60)


class RunTakenOver(Exception):
    """Another worker took the run's enumeration over (this one was too slow): this one stops."""


class _DryRunRollback(Exception):
    """Raised inside a dry run's savepoint so that whatever the biller wrote is undone."""


# --- one chunk -----------------------------------------------------------------------------------


def _reason(exc: BaseException) -> str:
    if isinstance(exc, DomainError):
        return exc.detail
    return f"{type(exc).__name__}: {exc}"


def _must_raise(exc: BaseException) -> bool:
    """A failure of the database, not of an account: the whole chunk is redone later."""
    return is_infrastructure(exc) or is_retryable_conflict(exc)


async def _bill_in_savepoint(
    uow: InvoicingUnitOfWork,
    billing: AccountBilling,
    run: BillRun,
    account_ids: Sequence[str],
    prepared: PreparedBilling | None = None,
) -> ChunkResult:
    result: ChunkResult | None = None
    try:
        async with uow.savepoint():
            if prepared is not None:
                result = await prepared.bill_in(uow)
            else:
                result = await billing.bill_chunk(uow, run, account_ids)
            if run.dry_run:
                raise _DryRunRollback
    except _DryRunRollback:
        pass
    assert result is not None
    return result


def _in_order(result: ChunkResult, account_ids: Sequence[str]) -> list[AccountOutcome]:
    """One outcome per account of the chunk; an account the biller said nothing of is a failure."""
    by_account = {o.account_id: o for o in result.outcomes}
    return [
        by_account.get(a) or AccountFailure(a, "the biller reported no outcome for this account")
        for a in account_ids
    ]


async def bill_accounts(
    uow: InvoicingUnitOfWork,
    billing: AccountBilling,
    run: BillRun,
    account_ids: Sequence[str],
    prepared: PreparedBilling | None = None,
) -> ChunkResult:
    """Bill a chunk: all at once (from what was `prepared`, if given), or — when that raises —
    one account per savepoint, each read in this transaction (see the module)."""
    try:
        return ChunkResult(
            tuple(_in_order(await _bill_in_savepoint(uow, billing, run, account_ids, prepared), account_ids))
        )
    except Exception as exc:
        if _must_raise(exc):
            raise
        log.warning("bill_run.chunk_isolating", run_id=run.id, accounts=len(account_ids), error=_reason(exc))
    outcomes: list[AccountOutcome] = []
    for account_id in account_ids:
        try:
            one = await _bill_in_savepoint(uow, billing, run, [account_id])
            outcomes += _in_order(one, [account_id])
        except Exception as exc:
            if _must_raise(exc):
                raise
            outcomes.append(AccountFailure(account_id, _reason(exc)))
    return ChunkResult(tuple(outcomes))


async def bill_chunk_once(
    uow: InvoicingUnitOfWork,
    billing: AccountBilling,
    run: BillRun,
    chunk: BillRunChunk,
    prepared: PreparedBilling | None = None,
) -> ChunkTally | None:
    """Claim, bill and count a chunk in the caller's transaction; None when it was counted before."""
    if not await uow.bill_runs.claim_chunk(run.id, chunk.chunk_id, now=uow.clock.now()):
        log.info("bill_run.chunk_duplicate", run_id=run.id, chunk_id=chunk.chunk_id)
        return None
    with gc_paused():  # the chunk's objects die by reference counting (libs/platform/memory.py)
        result = await bill_accounts(uow, billing, run, chunk.account_ids, prepared)
    counted = tally(result)
    await uow.bill_runs.count_chunk(run.id, chunk.chunk_id, counted, result.failures)
    return counted


async def prepare_chunk(
    uow: InvoicingUnitOfWork, *, billing: AccountBilling, request: BillRunChunkRequested
) -> PreparedBilling | None:
    """A `bill_run.chunk_requested` read and drafted on a read-only `uow`, before its write turn
    (`ChunkPreparation`); None when the billing cannot prepare it, or the chunk needs no billing."""
    if not isinstance(billing, ChunkPreparation):
        return None
    run = await uow.bill_runs.get(request.run_id)
    if run is None or run.is_finished:
        return None
    with gc_paused():
        return await billing.prepare_chunk(uow, run, request.account_ids)


async def apply_chunk(
    uow: InvoicingUnitOfWork,
    *,
    billing: AccountBilling,
    request: BillRunChunkRequested,
    prepared: PreparedBilling | None = None,
) -> None:
    """Bill one `bill_run.chunk_requested` (the consumer's transaction) — from what `prepare_chunk`
    read and drafted, if given, checked again here — and complete its run if it was the last chunk."""
    run = await uow.bill_runs.get(request.run_id)
    if run is None:
        raise NotFound("bill run", request.run_id)
    chunk = BillRunChunk(run.id, request.chunk_id, request.bill_date, tuple(request.account_ids))
    if await bill_chunk_once(uow, billing, run, chunk, prepared) is not None:
        fresh = await uow.bill_runs.get(run.id)
        if fresh is not None:
            await _complete_if_done(uow, fresh)
    await uow.commit()


# --- completion ----------------------------------------------------------------------------------


async def _complete_if_done(uow: InvoicingUnitOfWork, run: BillRun) -> bool:
    """Complete `run` (in the caller's transaction) when every chunk it emitted is counted."""
    chunks_done, progress = await uow.bill_runs.progress(run.id)
    if not run.is_complete(chunks_done):
        return False
    run.complete(progress, uow.clock.now())
    if not await uow.bill_runs.complete(run):
        return False
    uow.emit(
        BillRunCompleted(
            run_id=run.id,
            bill_date=run.bill_date,
            kind=run.kind.value,
            state=run.state.value,
            dry_run=run.dry_run,
            accounts_total=run.accounts_total,
            invoices_created=progress.invoices_created,
            failures=progress.failures,
            amounts=[
                CurrencyAmount(currency=t.currency, invoices=t.invoices, amount=t.amount)
                for t in progress.amounts
            ],
            fulfillment_id=run.fulfillment_id,
        ),
        key=run.id,
    )
    uow.audit(
        "bill_run.completed",
        "bill_run",
        run.id,
        {
            "state": run.state.value,
            "accounts": progress.accounts,
            "invoices_created": progress.invoices_created,
            "failures": progress.failures,
        },
    )
    log.info(
        "bill_run.completed",
        run_id=run.id,
        state=run.state.value,
        accounts=progress.accounts,
        invoices=progress.invoices_created,
        failures=progress.failures,
    )
    return True


async def complete_runs(units_of_work: Callable[[], InvoicingUnitOfWork], *, limit: int = 50) -> int:
    """Complete every running run whose chunks are all counted; how many were completed."""
    completed = 0
    async with units_of_work() as uow:
        for run in await uow.bill_runs.running(limit=limit):
            completed += await _complete_if_done(uow, run)
        if completed:
            await uow.commit()
    return completed


# --- enumeration ---------------------------------------------------------------------------------


async def take_next_run(
    units_of_work: Callable[[], InvoicingUnitOfWork], *, worker: str, lease: timedelta
) -> BillRun | None:
    """Take the oldest run to enumerate (pending, or abandoned by its worker); commits."""
    async with units_of_work() as uow:
        now = uow.clock.now()
        for run in await uow.bill_runs.to_enumerate(worker=worker, now=now, limit=5):
            run.start_enumerating(worker=worker, lease_until=now + lease, now=now)
            if await uow.bill_runs.take(run, now=now):
                await uow.commit()
                log.info("bill_run.enumerating", run_id=run.id, worker=worker, after=run.cursor)
                return run
    return None


async def _accounts_after(
    uow: InvoicingUnitOfWork, accounts_of: AccountsOf, run: BillRun, limit: int
) -> list[str]:
    """The next accounts of a run after its cursor: from its own list, or the read model."""
    if run.account_ids is not None:
        start = bisect.bisect_right(run.account_ids, run.cursor) if run.cursor is not None else 0
        return list(run.account_ids[start : start + limit])
    due_on = None if run.kind is BillRunKind.FULFILLMENT else run.bill_date
    return await accounts_of(uow).accounts_page(run.cursor, limit, due_on=due_on)


def chunk_requested(chunk: BillRunChunk) -> BillRunChunkRequested:
    """The message of a chunk."""
    return BillRunChunkRequested(
        run_id=chunk.run_id,
        chunk_id=chunk.chunk_id,
        bill_date=chunk.bill_date,
        account_ids=list(chunk.account_ids),
    )


async def enumerate_run(
    *,
    units_of_work: Callable[[], InvoicingUnitOfWork],
    accounts_of: AccountsOf,
    billing: AccountBilling,
    run: BillRun,
    settings: BillRunSettings,
    local: bool,
) -> BillRun:
    """Page a taken run's accounts into chunks until every account is in one (see the module).

    `local`: bill each chunk in the page's transaction (no bus); else emit it to the outbox.
    """
    size = settings.chunk_accounts
    want = size if local else size * settings.chunks_per_transaction
    while not run.is_finished and run.enumerated_at is None:
        async with units_of_work() as uow:
            now = uow.clock.now()
            if not await uow.bill_runs.hold(run.id, worker=run.worker or "", until=now + settings.lease):
                raise RunTakenOver(run.id)
            page = await _accounts_after(uow, accounts_of, run, want)
            chunks = cut_into_chunks(
                run.id, run.bill_date, page, size=size, first_chunk_id=run.chunks_total + 1
            )
            for chunk in chunks:
                if local:
                    await bill_chunk_once(uow, billing, run, chunk)
                else:
                    uow.emit(chunk_requested(chunk), key=chunk.account_ids[0])
            run.add_chunks(chunks, now)
            run.lease_until = now + settings.lease
            if len(page) < want:
                run.finish_enumeration(now)
            await uow.bill_runs.save(run)
            if run.enumerated_at is not None:
                await _complete_if_done(uow, run)
            await uow.commit()
    log.info("bill_run.enumerated", run_id=run.id, accounts=run.accounts_total, chunks=run.chunks_total)
    return run


async def enumerate_runs(
    *,
    units_of_work: Callable[[], InvoicingUnitOfWork],
    accounts_of: AccountsOf,
    billing: AccountBilling,
    worker: str,
    settings: BillRunSettings,
    local: bool,
    max_runs: int | None = None,
) -> list[BillRun]:
    """Enumerate every run waiting (or abandoned by a dead worker), one after the other.

    A run whose accounts cannot be paged for a reason other than the database (the read model
    refusing, say) is `failed` with the reason; a database failure leaves it to be taken again.
    """
    done: list[BillRun] = []
    while max_runs is None or len(done) < max_runs:
        run = await take_next_run(units_of_work, worker=worker, lease=settings.lease)
        if run is None:
            break
        try:
            await enumerate_run(
                units_of_work=units_of_work,
                accounts_of=accounts_of,
                billing=billing,
                run=run,
                settings=settings,
                local=local,
            )
        except RunTakenOver:
            log.warning("bill_run.taken_over", run_id=run.id, worker=worker)
        except Exception as exc:
            if _must_raise(exc):
                raise
            log.exception("bill_run.failed", run_id=run.id, error=_reason(exc))
            await _fail(units_of_work, run, _reason(exc))
        done.append(run)
    return done


async def _fail(units_of_work: Callable[[], InvoicingUnitOfWork], run: BillRun, reason: str) -> None:
    async with units_of_work() as uow:
        current = await uow.bill_runs.get(run.id)
        if current is None or current.is_finished:
            return
        current.fail(reason, uow.clock.now())
        await uow.bill_runs.save(current)
        uow.audit("bill_run.failed", "bill_run", run.id, {"reason": current.failure_reason})
        await uow.commit()
