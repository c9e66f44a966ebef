"""A bill run's memory does not grow with its accounts: the real invoice engine, in-process on
SQLite, bills a run of 60 accounts and one of 180 (chunks of 20) while tracemalloc counts the
Python memory left after each chunk and after each run. Anything kept per account or per invoice
for the whole run (a list of every invoice, a cache keyed by account, a session holding each
chunk's objects) grows the memory left after a chunk by its size times the accounts billed so
far. Only Python's allocations are counted: SQLite's own memory is bounded by its soft heap limit
(libs/platform/db.py; tests/platform/integration/test_sqlite_memory.py)."""

from __future__ import annotations

import gc
import tracemalloc
import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest

from invoicing.bootstrap import InvoicingRuntime, bootstrap
from invoicing.handlers import bill_run_chunks
from invoicing.handlers import billing_inputs as read_model
from invoicing.handlers.bill_runs import start_bill_run
from invoicing.schemas.bill_runs import BillRunCreate
from libs.contracts import provisioning
from libs.platform.clock import FixedClock
from tests.invoicing.integration.conftest import invoicing_settings
from tests.invoicing.upstream_events import account_opened, product_changed, subscription_event

AT = datetime(2026, 4, 16, 12, tzinfo=UTC)
BILL_DATE = date(2026, 5, 1)
CHUNK = 20
BOUND_PER_ACCOUNT = 384
"""Bytes the memory may grow by for each account billed more. Billing a chunk of 20 takes some
280 KB at its peak (14 KB an account); what outlives a chunk is the bounded caches' (periods,
plans, compiled statements), which rise and fall by a few KB a chunk: about 50 B an account over
the last 120 here. Keeping no more than each chunk's outcomes (`ChunkResult`: an id and a total an
account) for the run measured 720 B an account."""


async def _feed(runtime: InvoicingRuntime, account_ids: list[str]) -> None:
    """The accounts as provisioning announces them, one monthly subscription each."""
    for account_id in account_ids:
        async with runtime.invoicing_unit_of_work() as uow:
            await read_model.apply_account_event(uow=uow, profile=account_opened(account_id), occurred_at=AT)
            await read_model.apply_subscription_event(
                uow=uow,
                event=subscription_event(provisioning.SubscriptionActivated, f"sub_{account_id}", account_id),
                event_id=str(uuid.uuid4()),
                occurred_at=AT,
                event_kind="subscription.activated",
            )
            await uow.commit()


async def _bill(runtime: InvoicingRuntime) -> tuple[int, int]:
    """A bill run of every account not billed yet: (accounts, Python memory it left, bytes)."""
    async with runtime.system_unit_of_work() as uow:
        await start_bill_run(uow, command=BillRunCreate(bill_date=BILL_DATE))
    gc.collect()
    before = tracemalloc.get_traced_memory()[0]
    (run,) = await bill_run_chunks.enumerate_runs(
        units_of_work=runtime.system_unit_of_work,
        accounts_of=runtime.billable_accounts,
        billing=runtime.require_account_billing(),
        worker="test",
        settings=runtime.bill_run_settings(),
        local=True,
    )
    gc.collect()
    return run.accounts_total, tracemalloc.get_traced_memory()[0] - before


async def test_a_bill_runs_memory_does_not_grow_with_its_accounts(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    left_after_chunk: list[int] = []
    bill_chunk_once = bill_run_chunks.bill_chunk_once

    async def counted(*args: Any) -> Any:
        """The real chunk, then the Python memory left once its garbage is collected."""
        tally = await bill_chunk_once(*args)
        gc.collect()
        left_after_chunk.append(tracemalloc.get_traced_memory()[0])
        return tally

    monkeypatch.setattr(bill_run_chunks, "bill_chunk_once", counted)
    runtime = bootstrap(
        invoicing_settings(sqlite_url, bill_run_chunk_accounts=CHUNK),
        clock=FixedClock(datetime(2026, 5, 1, 16, tzinfo=UTC)),
    )
    try:
        async with runtime.invoicing_unit_of_work() as uow:
            await read_model.apply_product_changed(
                uow=uow, event=product_changed("prod_plan", tax_code="SW050000"), occurred_at=AT
            )
            await uow.commit()
        runs = []
        tracemalloc.start(1)
        try:
            for n, size in enumerate((CHUNK, 3 * CHUNK, 9 * CHUNK)):  # the first warms caches up
                await _feed(runtime, [f"acct_{n}_{i:04d}" for i in range(size)])
                left_after_chunk.clear()
                runs.append(await _bill(runtime))
        finally:
            tracemalloc.stop()
    finally:
        await runtime.db.dispose()

    (_, (small, small_left), (large, large_left)) = runs
    assert (small, large, len(left_after_chunk)) == (3 * CHUNK, 9 * CHUNK, 9)
    # Over the larger run: from its third chunk to its last, 120 accounts more billed.
    grown = max(left_after_chunk[2:]) - left_after_chunk[2]
    assert grown / (6 * CHUNK) < BOUND_PER_ACCOUNT, left_after_chunk
    assert (large_left - small_left) / (large - small) < BOUND_PER_ACCOUNT, runs
