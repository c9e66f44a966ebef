"""The port of the overage service's handlers: a unit of work holding one repository per concept.

Handlers see only `OverageUnitOfWork` — its repositories, the actor, `audit`, `emit` and
`commit`. `bootstrap` builds the SQL one (`overage.repository.unit_of_work`); unit tests give
handlers an in-memory fake. Each concept adds its repository here, typed by its port.
"""

from __future__ import annotations

from libs.platform.unit_of_work_port import UnitOfWorkPort
from overage.handlers.customer_billing_port import CustomerBilling
from overage.handlers.resold_subscriptions_port import ResaleReadModel
from overage.handlers.vendor_payables_port import VendorCommitmentRepository, VendorInvoiceRepository


class OverageUnitOfWork(UnitOfWorkPort):
    """One transaction of an overage use case: its repositories, audit records and events."""

    # Vendor payables and margin (issue 11).
    resale: ResaleReadModel
    """The payables read model: products, prices, cost books, subscriptions."""
    customer_billing: CustomerBilling
    vendor_commitments: VendorCommitmentRepository
    vendor_invoices: VendorInvoiceRepository
