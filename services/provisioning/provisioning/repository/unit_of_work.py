"""The SQL unit of work of provisioning: the platform's transaction (outbox, audit) plus one
repository per concept on its session."""

from __future__ import annotations

from libs.platform.unit_of_work import UnitOfWork
from provisioning.handlers.unit_of_work import ProvisioningUnitOfWork
from provisioning.repository.customers import SqlCustomerRepository
from provisioning.repository.deals import SqlDealRepository
from provisioning.repository.fulfillments import SqlFulfillmentRepository
from provisioning.repository.named_users import SqlNamedUserRepository
from provisioning.repository.orders import SqlOrderRepository
from provisioning.repository.subscriptions import SqlSubscriptionRepository
from provisioning.repository.workflows import SqlWorkflowRepository


class SqlProvisioningUnitOfWork(UnitOfWork, ProvisioningUnitOfWork):
    """One transaction on the service's database with the repositories handlers use."""

    async def commit(self) -> None:
        """Commit the change with its audit records and the contracts of its recorded events."""
        self.stage_recorded_events()
        await super().commit()

    def bind_repositories(self) -> None:
        """The SQL repositories of each concept, on this unit of work's session."""
        session = self.session
        self.customers = SqlCustomerRepository(session)
        self.deals = SqlDealRepository(session)
        self.orders = SqlOrderRepository(session)
        self.subscriptions = SqlSubscriptionRepository(session)
        self.workflows = SqlWorkflowRepository(session)
        self.fulfillments = SqlFulfillmentRepository(session)
        self.named_users = SqlNamedUserRepository(session)
