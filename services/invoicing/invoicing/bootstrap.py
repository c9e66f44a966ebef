"""Wires the invoicing service: settings, database, outbox relay, consumers, periodic jobs, and the
unit of work handlers get.

`bootstrap` is the seam: the app gets units of work on the SQL repositories; give it another
factory (an in-memory fake, say) and the routes run the same handlers on that.

Bill runs take two adapters more (`invoicing.handlers.bill_runs_port`): `account_billing`, the
per-account work of a run and of a preview (`invoicing.handlers.account_billing`: charges due,
tax, draft and finalize), and `billable_accounts`, the accounts a run pages through (the billing
read model's, on a unit of work). Both are wired by default; built without them, starting a run
or a preview answers 503 and the bill-run jobs do nothing.

Payments take one adapter more: `payment_gateway` (`invoicing.handlers.payment_gateway_port`),
where cards and ACH debits are charged — the built-in sandbox (`invoicing.sandbox_gateway`)
unless another is given.
"""

from __future__ import annotations

import contextlib
import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from invoicing.config import InvoicingSettings
from invoicing.consumers import BILL_RUNS_GROUP, consumer_specs
from invoicing.domain.ledger import DEFAULT_CHART_OF_ACCOUNTS, ChartOfAccounts
from invoicing.handlers.account_billing import InvoiceEngineBilling, ReadModelAccounts
from invoicing.handlers.bill_run_chunks import BillRunSettings
from invoicing.handlers.bill_runs_port import AccountBilling, AccountsOf
from invoicing.handlers.payment_gateway_port import PaymentGateway
from invoicing.handlers.unit_of_work import InvoicingUnitOfWork
from invoicing.jobs import periodic_jobs
from invoicing.repository.unit_of_work import SqlInvoicingUnitOfWork
from invoicing.sandbox_gateway import SandboxGateway
from libs.platform.auth import Principal
from libs.platform.clock import SYSTEM_CLOCK, Clock
from libs.platform.errors import RetryableError
from libs.platform.service import ServiceRuntime

MIGRATIONS_DIR = Path(__file__).resolve().parents[1] / "migrations"

UnitOfWorkFactory = Callable[[Principal | None], InvoicingUnitOfWork]
"""A new unit of work acting for a caller (or the system)."""


class BillRunsNotWired(RetryableError):
    """No per-account billing or accounts source is wired into this process (503)."""

    title = "Bill runs are not available"
    code = "bill_runs_not_wired"


@dataclass
class InvoicingRuntime(ServiceRuntime):
    """The shared runtime plus the factory of the invoicing service's units of work."""

    unit_of_work_factory: UnitOfWorkFactory | None = None
    account_billing: AccountBilling | None = None
    """Bills a chunk of accounts (or previews one): the charge calculation, tax and invoices."""
    billable_accounts: AccountsOf | None = None
    """The accounts a run of every account pages through, on a unit of work."""
    chart: ChartOfAccounts = DEFAULT_CHART_OF_ACCOUNTS
    """The general ledger's chart of accounts (settings: LEDGER_CHART_OF_ACCOUNTS[_FILE])."""
    payment_gateway: PaymentGateway = field(default_factory=SandboxGateway)
    """Where card and ACH payments are charged (the built-in sandbox unless another is given)."""
    worker_name: str = field(default_factory=lambda: _worker_name())
    """Names this process as the worker of the runs it enumerates."""

    def bill_run_write_turn(self) -> contextlib.AbstractAsyncContextManager[Any]:
        """Wait for this process's turn to write a bill-run chunk: on SQLite one at a time, behind
        the chunks of the other processes on the same file (`ServiceRuntime.write_turn`)."""
        return self.write_turn("bill-run")

    def invoicing_unit_of_work(self, principal: Principal | None = None) -> InvoicingUnitOfWork:
        """A unit of work for `principal`: the given factory's, or one on the service's database."""
        if self.unit_of_work_factory is not None:
            return self.unit_of_work_factory(principal)
        base = self.unit_of_work(principal)
        return SqlInvoicingUnitOfWork(
            base.db, producer=base.producer, actor=base.actor, on_commit=base.on_commit, clock=base.clock
        )

    @property
    def bill_runs_wired(self) -> bool:
        """True when both adapters bill runs need are wired."""
        return self.account_billing is not None and self.billable_accounts is not None

    def require_account_billing(self) -> AccountBilling:
        """The per-account billing (503 `bill_runs_not_wired` when none is wired)."""
        if self.account_billing is None or self.billable_accounts is None:
            raise BillRunsNotWired(
                "bill runs are not wired in this process: no account billing is configured"
            )
        return self.account_billing

    def bill_run_settings(self) -> BillRunSettings:
        """How this process does the work of runs."""
        settings = self.settings
        assert isinstance(settings, InvoicingSettings)
        return BillRunSettings(
            chunk_accounts=settings.bill_run_chunk_accounts,
            lease=timedelta(seconds=settings.bill_run_lease_s),
        )

    async def start(self) -> None:
        """Start as every service does; the bill-run group then polls a few chunks at a time.

        Each poll is one transaction: a poll of hundreds of chunks (CONSUMER_BATCH_SIZE, every
        group's default) would bill a whole run at once, its progress jumping from 0 to the end
        and a redo after a failure costing all of it. libs' consumers read `batch_size` at every
        poll (and when they restart), so setting it here holds.
        """
        await super().start()
        settings = self.settings
        assert isinstance(settings, InvoicingSettings)
        for consumer in self.consumers:
            if consumer.group_id == BILL_RUNS_GROUP:
                consumer.batch_size = settings.bill_run_chunks_per_poll

    def system_unit_of_work(self) -> InvoicingUnitOfWork:
        """A unit of work acting for the system (jobs and the CLI)."""
        return self.invoicing_unit_of_work(None)


def _worker_name() -> str:
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def bootstrap(
    settings: InvoicingSettings | None = None,
    *,
    unit_of_work: UnitOfWorkFactory | None = None,
    clock: Clock = SYSTEM_CLOCK,
    account_billing: AccountBilling | None = InvoiceEngineBilling(),
    billable_accounts: AccountsOf | None = ReadModelAccounts,
    payment_gateway: PaymentGateway | None = None,
) -> InvoicingRuntime:
    """Build the runtime of the invoicing service (SQL units of work unless a factory is given;
    bill runs on the invoice engine over the read model's accounts unless other adapters — or
    None, to run without bill runs — are given)."""
    settings = settings or InvoicingSettings()
    runtime = InvoicingRuntime(
        settings=settings,
        chart=settings.chart_of_accounts(),
        migrations_dir=MIGRATIONS_DIR,
        clock=clock,
        unit_of_work_factory=unit_of_work,
        account_billing=account_billing,
        billable_accounts=billable_accounts,
        payment_gateway=payment_gateway or SandboxGateway(),
    )
    runtime.consumer_specs = consumer_specs(runtime)
    runtime.periodic_jobs = periodic_jobs(runtime)
    return runtime
