"""The invoicing service's SQL unit of work: the platform's transaction plus a repository per concept."""

from __future__ import annotations

from collections.abc import Callable

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
from libs.platform.unit_of_work import UnitOfWork


class SqlInvoicingUnitOfWork(UnitOfWork, InvoicingUnitOfWork):
    """The platform unit of work plus the SQL repositories of each concept."""

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Call `callback` when the session's transaction commits (the consumer's, or a request's)."""
        event.listen(self.session.sync_session, "after_commit", lambda _session: callback(), once=True)

    def bind_repositories(self) -> None:
        """The SQL repositories of each concept, on this unit of work's session."""
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
