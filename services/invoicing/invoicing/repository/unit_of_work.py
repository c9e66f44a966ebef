"""The invoicing service's SQL unit of work: the platform's transaction plus a repository per concept."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from sqlalchemy import event

from invoicing.handlers.unit_of_work import InvoicingUnitOfWork
from invoicing.repository.adjustments import SqlAdjustmentRepository
from invoicing.repository.bill_runs import SqlBillRunRepository
from invoicing.repository.billing_inputs import SqlBillingInputsReadModel
from invoicing.repository.collections import SqlCollectionsCaseRepository
from invoicing.repository.credit_notes import SqlCreditNoteRepository
from invoicing.repository.disputes import SqlDisputeRepository
from invoicing.repository.dunning import SqlDunningPolicyRepository
from invoicing.repository.invoices import SqlInvoiceRepository
from invoicing.repository.ledger import SqlLedgerRepository
from invoicing.repository.lockbox import SqlLockboxRepository
from invoicing.repository.metrics import SqlMetricsRepository
from invoicing.repository.payments import SqlPaymentRepository
from invoicing.repository.receivables import SqlReceivablesRepository
from invoicing.repository.revenue import SqlRevenueRepository
from invoicing.repository.statements import SqlAccountLedger
from invoicing.repository.tax_rates import SqlTaxRateRepository
from libs.platform.outbox import add_to_outbox
from libs.platform.unit_of_work import UnitOfWork


class SqlInvoicingUnitOfWork(UnitOfWork, InvoicingUnitOfWork):
    """The platform unit of work plus the SQL repositories of each concept."""

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Call `callback` when the session's transaction commits (the consumer's, or a request's)."""
        event.listen(self.session.sync_session, "after_commit", lambda _session: callback(), once=True)

    async def commit(self) -> None:
        """The staged steps (`before_commit`), then the platform's commit: outbox, audit, COMMIT.

        The events emitted before the steps go to the outbox first, so that a step holding a lock
        until the commit (a chunk's invoice numbers) does not hold it while they are written."""
        if self.commit_steps:
            await add_to_outbox(self.session, self.envelopes)
            self.envelopes = []
            await self.run_commit_steps()
        await super().commit()

    @asynccontextmanager
    async def savepoint(self) -> AsyncIterator[object]:
        """The platform's SAVEPOINT; the commit steps staged inside are dropped when it rolls back."""
        staged = len(self.commit_steps)
        try:
            async with super().savepoint() as nested:
                yield nested
        except BaseException:
            del self.commit_steps[staged:]
            raise

    def bind_repositories(self) -> None:
        """The SQL repositories of each concept, on this unit of work's session."""
        self.commit_steps = []
        self.billing_inputs = SqlBillingInputsReadModel(self.session)
        self.tax_rates = SqlTaxRateRepository(self.session)
        self.invoices = SqlInvoiceRepository(self.session)
        self.account_ledger = SqlAccountLedger(self.session)
        self.adjustments = SqlAdjustmentRepository(self.session)
        self.credit_notes = SqlCreditNoteRepository(self.session)
        self.disputes = SqlDisputeRepository(self.session)
        self.bill_runs = SqlBillRunRepository(self.session)
        self.revenue = SqlRevenueRepository(self.session)
        self.ledger = SqlLedgerRepository(self.session)
        self.metrics = SqlMetricsRepository(self.session)
        self.payments = SqlPaymentRepository(self.session)
        self.lockbox = SqlLockboxRepository(self.session)
        self.receivables = SqlReceivablesRepository(self.session)
        self.dunning_policies = SqlDunningPolicyRepository(self.session)
        self.collections_cases = SqlCollectionsCaseRepository(self.session)
