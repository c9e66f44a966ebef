"""The overage service's SQL unit of work: the platform's transaction plus a repository per concept."""

from __future__ import annotations

from libs.platform.unit_of_work import UnitOfWork
from overage.handlers.unit_of_work import OverageUnitOfWork
from overage.repository.cases import SqlCaseRepository
from overage.repository.customer_billing import SqlCustomerBilling
from overage.repository.notices import SqlNoticeRepository
from overage.repository.resold_subscriptions import SqlResaleReadModel
from overage.repository.vendor_payables import SqlVendorCommitmentRepository, SqlVendorInvoiceRepository
from overage.repository.vendors import SqlReadModel, SqlVendorRepository


class SqlOverageUnitOfWork(UnitOfWork, OverageUnitOfWork):
    """The platform unit of work plus the SQL repositories of each concept."""

    def bind_repositories(self) -> None:
        """The SQL repositories of each concept, on this unit of work's session."""
        session = self.session
        self.vendors = SqlVendorRepository(session)
        self.read_model = SqlReadModel(session)
        self.notices = SqlNoticeRepository(session)
        self.cases = SqlCaseRepository(session)
        self.resale = SqlResaleReadModel(session)
        self.customer_billing = SqlCustomerBilling(session)
        self.vendor_commitments = SqlVendorCommitmentRepository(session)
        self.vendor_invoices = SqlVendorInvoiceRepository(session)
