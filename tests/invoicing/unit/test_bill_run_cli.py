"""`python -m invoicing.cli bill-run`: starts a run through the handlers and prints its progress
until it finishes (here doing the work in-process, `--local`, on the fake unit of work)."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

from invoicing.bootstrap import InvoicingRuntime, bootstrap
from invoicing.cli import bill_run
from invoicing.config import InvoicingSettings
from invoicing.schemas.bill_runs import BillRunCreate
from tests.invoicing.unit.fakes import (
    FakeAccountBilling,
    FakeAccountsDirectory,
    FakeInvoicingUnitOfWork,
    InvoicingStore,
)


def runtime_on(
    store: InvoicingStore, tmp_path: Path, billing: FakeAccountBilling | None = None
) -> InvoicingRuntime:
    directory = FakeAccountsDirectory([f"acct_{n:04d}" for n in range(1200)])
    return bootstrap(
        InvoicingSettings(database_url=f"sqlite+aiosqlite:///{tmp_path}/cli.db", bill_run_chunk_accounts=100),
        unit_of_work=lambda _principal: FakeInvoicingUnitOfWork(store, actor="cli"),
        account_billing=billing,
        billable_accounts=(lambda _uow: directory) if billing is not None else None,
    )


async def test_a_local_run_prints_its_progress_until_it_completes(tmp_path: Path) -> None:
    store = InvoicingStore()
    billing = FakeAccountBilling(refused={"acct_0005": "no price for product prd_1"})
    runtime = runtime_on(store, tmp_path, billing)
    out = io.StringIO()
    status = await bill_run(
        runtime,
        BillRunCreate(bill_date=date(2026, 8, 1)),
        out=out,
        follow=True,
        local=True,
        poll_s=0.01,
    )
    lines = out.getvalue().splitlines()
    assert status == 1  # completed with a failure
    assert lines[0].endswith("started for 2026-08-01: GET /v1/bill-runs/" + lines[0].split()[0])
    assert "completed_with_failures 1,200/1,200 accounts (100.0%)" in lines[-2]
    assert "invoices 1,199 (existing 0)  failures 1  USD 119,900.00" in lines[-2]
    assert lines[-1] == "  acct_0005: no price for product prd_1"
    assert len(store.fake_billed) == 1199


async def test_without_account_billing_wired_nothing_starts(tmp_path: Path) -> None:
    store = InvoicingStore()
    out = io.StringIO()
    status = await bill_run(
        runtime_on(store, tmp_path),
        BillRunCreate(bill_date=date(2026, 8, 1)),
        out=out,
        follow=True,
        local=False,
    )
    assert status == 2
    assert out.getvalue() == "bill runs are not wired in this process: no account billing is configured\n"
    assert store.bill_runs == {}
