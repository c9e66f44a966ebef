"""The port of the invoicing service's handlers: a unit of work holding one repository per concept.

Handlers see only `InvoicingUnitOfWork` — its repositories, the actor, `audit`, `emit` and
`commit`. `bootstrap` builds the SQL one (`invoicing.repository.unit_of_work`); unit tests give
handlers an in-memory fake (`tests/invoicing/unit/fakes.py`). Each concept adds its repository
here as an attribute typed by its port (an abstract class in `invoicing/handlers/<concept>.py`).
"""

from __future__ import annotations

import abc
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING

from invoicing.handlers.bill_runs_port import BillRunRepository
from invoicing.handlers.billing_inputs import BillingInputsReadModel
from invoicing.handlers.tax_rates import TaxRateRepository
from libs.platform.unit_of_work_port import UnitOfWorkPort

if TYPE_CHECKING:
    from invoicing.handlers.adjustments_port import AdjustmentRepository
    from invoicing.handlers.collections_port import CollectionsCaseRepository
    from invoicing.handlers.credit_notes_port import CreditNoteRepository
    from invoicing.handlers.disputes_port import DisputeRepository
    from invoicing.handlers.dunning_port import DunningPolicyRepository
    from invoicing.handlers.invoices_port import InvoiceRepository
    from invoicing.handlers.ledger_port import LedgerRepository
    from invoicing.handlers.lockbox_port import LockboxRepository
    from invoicing.handlers.metrics_port import MetricsRepository
    from invoicing.handlers.payments_port import PaymentRepository
    from invoicing.handlers.receivables_port import ReceivablesRepository
    from invoicing.handlers.revenue_port import RevenueRepository
    from invoicing.handlers.statements import AccountLedger


class InvoicingUnitOfWork(UnitOfWorkPort):
    """One transaction of an invoicing use case: its repositories, audit records and events."""

    billing_inputs: BillingInputsReadModel
    """The read model of billing inputs, kept from other services' events."""
    tax_rates: TaxRateRepository
    invoices: InvoiceRepository
    account_ledger: AccountLedger
    """The account activity statements are read from (every concept's documents)."""
    adjustments: AdjustmentRepository
    credit_notes: CreditNoteRepository
    disputes: DisputeRepository
    bill_runs: BillRunRepository
    revenue: RevenueRepository
    """Revenue schedules and recognition postings."""
    ledger: LedgerRepository
    metrics: MetricsRepository
    """Finance metrics: sums per month."""
    """The general ledger's journal."""
    payments: PaymentRepository
    """Payment methods, payments, their allocations and refunds."""
    lockbox: LockboxRepository
    receivables: ReceivablesRepository
    """Issued invoices read as receivables (aging, balances, what is past due)."""
    dunning_policies: DunningPolicyRepository
    collections_cases: CollectionsCaseRepository
    commit_steps: list[Callable[[], Awaitable[None]]]
    """What `before_commit` staged, run by `commit` first (each implementation starts it empty)."""

    def before_commit(self, step: Callable[[], Awaitable[None]]) -> None:
        """Run `step` when this unit of work commits, before its events and audit records are
        written, in the order staged; a step staged inside a savepoint that rolls back is dropped
        with it. A bill run's chunk numbers its invoices so: last, to hold its series' counter for
        as short a time as it can (`invoicing.handlers.invoices.stage_issued`)."""
        self.commit_steps.append(step)

    async def run_commit_steps(self) -> None:
        """Run the staged steps (and any they stage) once each; `commit` calls it first."""
        while self.commit_steps:
            await self.commit_steps.pop(0)()

    @abc.abstractmethod
    def savepoint(self) -> AbstractAsyncContextManager[object]:
        """A nested transaction: what is done inside is undone alone when the block raises."""

    @abc.abstractmethod
    def after_commit(self, callback: Callable[[], None]) -> None:
        """Call `callback` once this unit of work's transaction has committed (never if it does not)."""

    def stage_recorded_events(self) -> None:
        """Nothing: invoicing's handlers emit their events themselves before committing."""
