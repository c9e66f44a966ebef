"""The port of the overage service's handlers: a unit of work holding one repository per concept.

Handlers see only `OverageUnitOfWork` — its repositories, the actor, `audit`, `emit` and
`commit`. `bootstrap` builds the SQL one (`overage.repository.unit_of_work`); unit tests give
handlers an in-memory fake. Each concept adds its repository here, typed by its port.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager

from libs.platform.unit_of_work_port import UnitOfWorkPort
from overage.handlers.cases_port import CaseRepository
from overage.handlers.customer_billing_port import CustomerBilling
from overage.handlers.notices_port import NoticeRepository
from overage.handlers.resold_subscriptions_port import ResaleReadModel
from overage.handlers.vendor_payables_port import VendorCommitmentRepository, VendorInvoiceRepository
from overage.handlers.vendors_port import ReadModel, VendorRepository


class OverageUnitOfWork(UnitOfWorkPort):
    """One transaction of an overage use case: its repositories, audit records and events."""

    vendors: VendorRepository
    read_model: ReadModel
    notices: NoticeRepository
    cases: CaseRepository

    # Vendor payables and margin (issue 11).
    resale: ResaleReadModel
    """The payables read model: products, prices, cost books, subscriptions."""
    customer_billing: CustomerBilling
    vendor_commitments: VendorCommitmentRepository
    vendor_invoices: VendorInvoiceRepository

    def savepoint(self) -> AbstractAsyncContextManager[object]:
        """A SAVEPOINT: what the block writes and emits is undone alone when it raises."""
        raise NotImplementedError
