"""Bill runs: start one (on demand, scheduled, for a completed fulfillment, again for the failed
accounts of another), report its progress and failures, preview an account's next invoices.

Starting a run only records it (`pending`); the work happens in the background
(`invoicing.handlers.bill_run_chunks`): a worker pages the run's accounts into chunks sent
through the outbox to the `invoicing.bill_runs` consumer group, which bills each chunk once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING

from invoicing.domain.bill_runs import (
    AccountFailure,
    BillRun,
    BillRunKind,
    BillRunState,
    schedule_key,
)
from invoicing.handlers.bill_runs_port import AccountBilling
from invoicing.schemas.bill_runs import (
    FAILURE_SAMPLE,
    AccountFailurePublic,
    BillRunCreate,
    BillRunPublic,
    InvoicePreviewPublic,
    bill_run_public,
    failure_public,
    invoice_preview,
)
from libs.platform.errors import Conflict, NotFound, ValidationFailed
from libs.platform.ids import new_id
from libs.platform.logging import get_logger
from libs.platform.pagination import Page, PageRequest, encode_cursor

if TYPE_CHECKING:
    from invoicing.handlers.unit_of_work import InvoicingUnitOfWork

log = get_logger("invoicing.bill_runs")
RUN_PREFIX = "brun"


def _new_run(
    uow: InvoicingUnitOfWork,
    *,
    bill_date: date,
    kind: BillRunKind,
    dry_run: bool = False,
    account_ids: Sequence[str] | None = None,
    **extra: str | None,
) -> BillRun:
    now = uow.clock.now()
    return BillRun(
        id=new_id(RUN_PREFIX),
        bill_date=bill_date,
        kind=kind,
        created_at=now,
        updated_at=now,
        actor=uow.actor,
        dry_run=dry_run,
        account_ids=tuple(sorted(account_ids)) if account_ids is not None else None,
        **extra,  # type: ignore[arg-type]
    )


def _audit_started(uow: InvoicingUnitOfWork, run: BillRun) -> None:
    uow.audit(
        "bill_run.started",
        "bill_run",
        run.id,
        {
            "kind": run.kind.value,
            "bill_date": run.bill_date.isoformat(),
            "dry_run": run.dry_run,
            "accounts_listed": len(run.account_ids) if run.account_ids is not None else None,
            "fulfillment_id": run.fulfillment_id,
            "retry_of": run.retry_of,
        },
    )


async def report(uow: InvoicingUnitOfWork, run: BillRun) -> BillRunPublic:
    """A run's progress report: counts summed from its chunks and the first failed accounts."""
    chunks_done, progress = await uow.bill_runs.progress(run.id)
    sample = (
        await uow.bill_runs.failures(run.id, after_account_id=None, limit=FAILURE_SAMPLE)
        if progress.failures
        else []
    )
    return bill_run_public(
        run, chunks_done=chunks_done, progress=progress, now=uow.clock.now(), sample=sample
    )


async def start_bill_run(uow: InvoicingUnitOfWork, *, command: BillRunCreate) -> BillRunPublic:
    """Record an on-demand run (`pending`) for every account or the listed ones; commits."""
    run = _new_run(
        uow,
        bill_date=command.bill_date,
        kind=BillRunKind.ON_DEMAND,
        dry_run=command.dry_run,
        account_ids=command.account_ids,
    )
    await uow.bill_runs.add(run)
    _audit_started(uow, run)
    await uow.commit()
    log.info("bill_run.started", run_id=run.id, bill_date=run.bill_date.isoformat(), dry_run=run.dry_run)
    return await report(uow, run)


async def start_scheduled_run(uow: InvoicingUnitOfWork, *, bill_date: date) -> BillRun | None:
    """Record the scheduled run of `bill_date` unless there is one (any replica may try); commits."""
    key = schedule_key(bill_date)
    if await uow.bill_runs.by_schedule_key(key) is not None:
        return None
    run = _new_run(uow, bill_date=bill_date, kind=BillRunKind.SCHEDULED, schedule_key=key)
    if not await uow.bill_runs.add(run):
        return None  # another replica recorded it first
    _audit_started(uow, run)
    await uow.commit()
    log.info("bill_run.scheduled", run_id=run.id, bill_date=bill_date.isoformat())
    return run


async def bill_fulfillment(
    uow: InvoicingUnitOfWork, *, fulfillment_id: str, account_id: str, bill_date: date | None = None
) -> BillRun:
    """Start the run that invoices a completed fulfillment at once: its account alone.

    Called by the read model's consumer when `fulfillment.completed` arrives, on the consumer's
    transaction. One run per fulfillment (a unique key): a redelivered event gets the same run.
    `bill_date` defaults to today (UTC) by the unit of work's clock.
    """
    existing = await uow.bill_runs.by_fulfillment(fulfillment_id)
    if existing is not None:
        return existing
    run = _new_run(
        uow,
        bill_date=bill_date or uow.business_date("UTC"),
        kind=BillRunKind.FULFILLMENT,
        account_ids=[account_id],
        fulfillment_id=fulfillment_id,
    )
    if not await uow.bill_runs.add(run):
        found = await uow.bill_runs.by_fulfillment(fulfillment_id)
        assert found is not None
        return found
    _audit_started(uow, run)
    await uow.commit()
    return run


async def retry_failures(uow: InvoicingUnitOfWork, *, run_id: str) -> BillRunPublic:
    """Start a run of the failed accounts of a finished run (409 while it runs or when none failed)."""
    run = await uow.bill_runs.get(run_id)
    if run is None:
        raise NotFound("bill run", run_id)
    if not run.is_finished:
        raise Conflict(f"bill run {run_id} is {run.state.value}: retry its failures once it has finished")
    failed: list[str] = []
    after: str | None = None
    while page := await uow.bill_runs.failures(run_id, after_account_id=after, limit=1000):
        failed += [f.account_id for f in page]
        after = page[-1].account_id
    if not failed:
        raise Conflict(f"bill run {run_id} has no failed accounts")
    retry = _new_run(
        uow,
        bill_date=run.bill_date,
        kind=BillRunKind.ON_DEMAND,
        dry_run=run.dry_run,
        account_ids=failed,
        retry_of=run.id,
    )
    await uow.bill_runs.add(retry)
    _audit_started(uow, retry)
    await uow.commit()
    return await report(uow, retry)


async def get_bill_run(uow: InvoicingUnitOfWork, *, run_id: str) -> BillRunPublic:
    """A run's progress report (404 when unknown)."""
    run = await uow.bill_runs.get(run_id)
    if run is None:
        raise NotFound("bill run", run_id)
    return await report(uow, run)


async def list_bill_runs(
    uow: InvoicingUnitOfWork, *, page: PageRequest, state: BillRunState | None
) -> Page[BillRunPublic]:
    """A page of runs, oldest first, each with its progress."""
    found = await uow.bill_runs.page(after=page.after, limit=page.limit + 1, state=state)
    has_more = len(found) > page.limit
    shown = found[: page.limit]
    return Page[BillRunPublic](
        data=[await report(uow, run) for run in shown],
        next_cursor=encode_cursor(shown[-1].id) if has_more and shown else None,
        has_more=has_more,
    )


async def list_failures(
    uow: InvoicingUnitOfWork, *, run_id: str, page: PageRequest
) -> Page[AccountFailurePublic]:
    """A page of a run's failed accounts with their reasons, by account id (404 when unknown)."""
    if await uow.bill_runs.get(run_id) is None:
        raise NotFound("bill run", run_id)
    found = await uow.bill_runs.failures(run_id, after_account_id=page.after, limit=page.limit + 1)
    has_more = len(found) > page.limit
    shown = found[: page.limit]
    return Page[AccountFailurePublic](
        data=[failure_public(f) for f in shown],
        next_cursor=encode_cursor(shown[-1].account_id) if has_more and shown else None,
        has_more=has_more,
    )


async def preview_invoice(
    uow: InvoicingUnitOfWork, *, billing: AccountBilling, account_id: str, bill_date: date
) -> InvoicePreviewPublic:
    """An account's next invoices for `bill_date`, by the calculation a run uses, as a dry run.

    Nothing is stored: the run is never saved, the biller writes nothing in a dry run, and the
    unit of work is never committed. An account the biller cannot bill is a 422 with its reason.
    """
    run = _new_run(
        uow, bill_date=bill_date, kind=BillRunKind.ON_DEMAND, dry_run=True, account_ids=[account_id]
    )
    result = await billing.bill_chunk(uow, run, [account_id])
    outcome = next((o for o in result.outcomes if o.account_id == account_id), None)
    if outcome is None:
        raise NotFound("account", account_id)
    if isinstance(outcome, AccountFailure):
        raise ValidationFailed.single("account_id", outcome.reason, "not_billable")
    return InvoicePreviewPublic(
        account_id=account_id, bill_date=bill_date, invoices=[invoice_preview(i) for i in outcome.invoices]
    )
