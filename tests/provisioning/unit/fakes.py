"""In-memory adapters for provisioning's handlers: fake repositories and unit of work (no database).

Each fake repository keeps copies of the domain objects it was given, so a change a handler
forgets to save is lost here as it is in the database.
"""

from __future__ import annotations

import copy
from collections.abc import Collection, Sequence
from datetime import date
from typing import TypeVar

from libs.platform.clock import SYSTEM_CLOCK, Clock
from libs.platform.db import utcnow
from libs.platform.errors import NotFound
from libs.platform.pagination import Page, PageRequest
from provisioning.domain.accounts import Account, AccountHierarchy, Customer
from provisioning.domain.deals import DealRegistration, DealStatus, Partner
from provisioning.domain.fulfillments import Fulfillment, FulfillmentStatus
from provisioning.domain.orders import OrderStatus
from provisioning.domain.subscriptions import SubscriptionState
from provisioning.domain.workflows import TaskState, WorkflowStatus, WorkflowTask
from provisioning.handlers.records import (
    NamedUserAssignment,
    RecordedChange,
    StoredFulfillment,
    StoredOrder,
    StoredPool,
    StoredSubscription,
    StoredWorkflow,
    TaskFilter,
)
from provisioning.handlers.unit_of_work import (
    CustomerRepository,
    DealRepository,
    FulfillmentRepository,
    NamedUserRepository,
    OrderRepository,
    ProvisioningUnitOfWork,
    SubscriptionRepository,
    WorkflowRepository,
)
from tests.support.fake_pages import page_of
from tests.support.fake_unit_of_work import FakeUnitOfWorkBase

T = TypeVar("T")


def _stored_copy(value: T) -> T:
    """A copy as the database would keep it: the state, not the events recorded on the way."""
    kept = copy.deepcopy(value)
    for holder in (kept, *vars(kept).values()):
        if isinstance(getattr(holder, "events", None), list):
            holder.events.clear()
    return kept


def _get(table: dict[str, T], entity: str, key: str) -> T:
    if key not in table:
        raise NotFound(entity, key)
    return copy.deepcopy(table[key])


class FakeCustomerRepository(CustomerRepository):
    """Customers and accounts in dicts."""

    def __init__(self) -> None:
        super().__init__()
        self.customers: dict[str, Customer] = {}
        self.accounts: dict[str, Account] = {}

    async def add_customer(self, customer: Customer) -> Customer:
        customer.created_at = utcnow()
        self.customers[customer.id] = _stored_copy(customer)
        self._staged(customer)
        return customer

    async def get_customer(self, customer_id: str) -> Customer:
        return _get(self.customers, "customer", customer_id)

    async def customers_page(self, page: PageRequest, *, partner_id: str | None) -> Page[Customer]:
        found = [c for c in self.customers.values() if not partner_id or c.partner_id == partner_id]
        return page_of(found, lambda c: c.id, page)

    async def save_account(self, account: Account) -> Account:
        now = utcnow()
        account.created_at = account.created_at or now
        account.updated_at = now
        self.accounts[account.id] = _stored_copy(account)
        self._staged(account)
        return account

    async def find_account(self, account_id: str, *, for_update: bool = False) -> Account | None:
        found = self.accounts.get(account_id)
        return copy.deepcopy(found) if found else None

    async def time_zones(self, account_ids: Collection[str]) -> dict[str, str]:
        return {i: self.accounts[i].billing_profile.time_zone for i in account_ids if i in self.accounts}

    async def children_billing_to(self, account_id: str) -> list[Account]:
        return [
            copy.deepcopy(a)
            for a in self.accounts.values()
            if a.parent_account_id == account_id and a.bills_to_parent
        ]

    async def hierarchy_of(self, customer_ids: set[str]) -> AccountHierarchy:
        return AccountHierarchy(
            {a.id: a.parent_account_id for a in self.accounts.values() if a.customer_id in customer_ids}
        )

    async def accounts_page(
        self, page: PageRequest, *, customer_id: str | None, parent_account_id: str | None
    ) -> Page[Account]:
        found = [
            a
            for a in self.accounts.values()
            if (not customer_id or a.customer_id == customer_id)
            and (not parent_account_id or a.parent_account_id == parent_account_id)
        ]
        return page_of(found, lambda a: a.id, page)


class FakeDealRepository(DealRepository):
    """Partners and registrations in dicts."""

    def __init__(self) -> None:
        super().__init__()
        self.partners: dict[str, Partner] = {}
        self.deals: dict[str, DealRegistration] = {}

    async def add_partner(self, partner: Partner) -> Partner:
        partner.created_at = utcnow()
        self.partners[partner.id] = _stored_copy(partner)
        self._staged(partner)
        return partner

    async def get_partner(self, partner_id: str) -> Partner:
        return _get(self.partners, "partner", partner_id)

    async def partners_page(self, page: PageRequest) -> Page[Partner]:
        return page_of(self.partners.values(), lambda p: p.id, page)

    async def get_deal(self, deal_id: str, *, for_update: bool = False) -> DealRegistration:
        return _get(self.deals, "deal registration", deal_id)

    async def find_deals(self, deal_ids: Collection[str]) -> dict[str, DealRegistration]:
        return {i: copy.deepcopy(self.deals[i]) for i in deal_ids if i in self.deals}

    async def save_deal(self, deal: DealRegistration) -> DealRegistration:
        now = utcnow()
        deal.created_at = deal.created_at or now
        deal.updated_at = now
        self.deals[deal.id] = _stored_copy(deal)
        self._staged(deal)
        return deal

    async def deals_page(
        self, page: PageRequest, *, partner_id: str | None, status: DealStatus | None
    ) -> Page[DealRegistration]:
        found = [
            d
            for d in self.deals.values()
            if (not partner_id or d.partner_id == partner_id) and (status is None or d.status is status)
        ]
        return page_of(found, lambda d: d.id, page)


class FakeOrderRepository(OrderRepository):
    """Orders (with their pricing snapshots) in a dict."""

    def __init__(self) -> None:
        super().__init__()
        self.orders: dict[str, StoredOrder] = {}

    async def get(self, order_id: str, *, for_update: bool = False) -> StoredOrder:
        return _get(self.orders, "order", order_id)

    async def save(self, stored: StoredOrder) -> None:
        now = utcnow()
        stored.created_at = stored.created_at or now
        stored.updated_at = now
        self.orders[stored.order.id] = _stored_copy(stored)
        self._staged(stored)

    async def page(
        self, page: PageRequest, *, account_id: str | None, status: OrderStatus | None
    ) -> Page[StoredOrder]:
        found = [
            s
            for s in self.orders.values()
            if (not account_id or s.order.account_id == account_id)
            and (status is None or s.order.status is status)
        ]
        return page_of(found, lambda s: s.order.id, page)


class FakeSubscriptionRepository(SubscriptionRepository):
    """Subscriptions (with their billing facts and history) in a dict."""

    def __init__(self) -> None:
        super().__init__()
        self.subscriptions: dict[str, StoredSubscription] = {}

    async def find(self, subscription_id: str, *, for_update: bool = False) -> StoredSubscription | None:
        found = self.subscriptions.get(subscription_id)
        return copy.deepcopy(found) if found else None

    async def of_account(
        self, account_id: str, states: Collection[SubscriptionState]
    ) -> list[StoredSubscription]:
        return [
            copy.deepcopy(s)
            for _, s in sorted(self.subscriptions.items())
            if s.subscription.account_id == account_id and s.subscription.state in states
        ]

    async def at_term_end(self, as_of: date, *, after: str, limit: int) -> list[StoredSubscription]:
        due = [
            copy.deepcopy(s)
            for i, s in sorted(self.subscriptions.items())
            if i > after
            and s.subscription.state is SubscriptionState.ACTIVE
            and s.subscription.term_end <= as_of
        ]
        return due[:limit]

    async def save(self, stored: StoredSubscription) -> None:
        await self.save_many([stored])

    async def save_many(self, stored: Sequence[StoredSubscription]) -> None:
        now = utcnow()
        for one in stored:
            one.created_at = one.created_at or now
            one.updated_at = now
            one.history_saved = len(one.subscription.history)
            self.subscriptions[one.subscription.id] = _stored_copy(one)
            self._staged(one)

    async def page(
        self,
        page: PageRequest,
        *,
        account_id: str | None,
        state: SubscriptionState | None,
        order_id: str | None,
    ) -> Page[StoredSubscription]:
        found = [
            s
            for s in self.subscriptions.values()
            if (not account_id or s.subscription.account_id == account_id)
            and (state is None or s.subscription.state is state)
            and (not order_id or s.subscription.order_id == order_id)
        ]
        return page_of(found, lambda s: s.subscription.id, page)

    async def history_page(self, subscription_id: str, page: PageRequest) -> Page[RecordedChange]:
        history = self.subscriptions[subscription_id].subscription.history
        entries = [RecordedChange(n, change, utcnow()) for n, change in enumerate(history, start=1)]
        return page_of(entries, lambda e: f"{e.sequence:09d}", page)


class FakeWorkflowRepository(WorkflowRepository):
    """Workflows and their tasks in a dict."""

    def __init__(self) -> None:
        super().__init__()
        self.workflows: dict[str, StoredWorkflow] = {}

    async def get(self, workflow_id: str, *, for_update: bool = False) -> StoredWorkflow:
        return _get(self.workflows, "workflow", workflow_id)

    async def save(self, stored: StoredWorkflow) -> None:
        self.workflows[stored.workflow.id] = _stored_copy(stored)
        self._staged(stored)

    async def get_task(self, task_id: str) -> tuple[str, WorkflowTask]:
        for stored in self.workflows.values():
            for task in stored.workflow.tasks:
                if task.id == task_id:
                    return stored.workflow.id, copy.deepcopy(task)
        raise NotFound("task", task_id)

    async def statuses_of_order(self, order_id: str) -> list[WorkflowStatus]:
        return [s.workflow.status for s in self.workflows.values() if s.workflow.order_id == order_id]

    async def page(
        self,
        page: PageRequest,
        *,
        order_id: str | None,
        account_id: str | None,
        status: WorkflowStatus | None,
    ) -> Page[StoredWorkflow]:
        found = [
            s
            for s in self.workflows.values()
            if (not order_id or s.workflow.order_id == order_id)
            and (not account_id or s.workflow.account_id == account_id)
            and (status is None or s.workflow.status is status)
        ]
        return page_of(found, lambda s: s.workflow.id, page)

    async def tasks_page(self, page: PageRequest, where: TaskFilter) -> Page[tuple[str, WorkflowTask]]:
        def shown(task: WorkflowTask) -> bool:
            late = (
                where.as_of is not None
                and task.state is not TaskState.DONE
                and task.due_date is not None
                and task.due_date < where.as_of
            )
            return (
                (not where.owner_team or task.owner_team == where.owner_team)
                and (where.state is None or task.state is where.state)
                and (not where.assignee or task.assignee == where.assignee)
                and (where.overdue is None or late == where.overdue)
            )

        found = [
            (s.workflow.id, t)
            for s in self.workflows.values()
            if not where.workflow_id or s.workflow.id == where.workflow_id
            for t in s.workflow.tasks
            if shown(t)
        ]
        return page_of(found, lambda found: found[1].id, page)


class FakeFulfillmentRepository(FulfillmentRepository):
    """Fulfillments in a dict."""

    def __init__(self) -> None:
        super().__init__()
        self.fulfillments: dict[str, StoredFulfillment] = {}

    async def get(self, fulfillment_id: str, *, for_update: bool = False) -> StoredFulfillment:
        return _get(self.fulfillments, "fulfillment", fulfillment_id)

    async def of_order(self, order_id: str) -> list[Fulfillment]:
        return [
            copy.deepcopy(s.fulfillment)
            for _, s in sorted(self.fulfillments.items())
            if s.fulfillment.order_id == order_id
        ]

    async def save(self, stored: StoredFulfillment) -> None:
        now = utcnow()
        stored.created_at = stored.created_at or now
        stored.updated_at = now
        self.fulfillments[stored.fulfillment.id] = _stored_copy(stored)
        self._staged(stored)

    async def page(
        self, page: PageRequest, *, order_id: str | None, status: FulfillmentStatus | None
    ) -> Page[StoredFulfillment]:
        found = [
            s
            for s in self.fulfillments.values()
            if (not order_id or s.fulfillment.order_id == order_id)
            and (status is None or s.fulfillment.status is status)
        ]
        return page_of(found, lambda s: s.fulfillment.id, page)


class FakeNamedUserRepository(NamedUserRepository):
    """Named-user pools in a dict."""

    def __init__(self) -> None:
        super().__init__()
        self.pools: dict[str, StoredPool] = {}

    async def get(self, pool_id: str, *, for_update: bool = False) -> StoredPool:
        return _get(self.pools, "named-user pool", pool_id)

    async def save(self, stored: StoredPool, *, changed_users: set[str] | None = None) -> None:
        stored.created_at = stored.created_at or utcnow()
        stored.transfers_saved = len(stored.pool.transfers)
        self.pools[stored.pool.id] = _stored_copy(stored)
        self._staged(stored)

    async def page(self, page: PageRequest, *, account_id: str | None) -> Page[StoredPool]:
        found = [s for s in self.pools.values() if not account_id or s.pool.account_id == account_id]
        return page_of(found, lambda s: s.pool.id, page)

    async def assignments_page(self, pool_id: str, page: PageRequest) -> Page[NamedUserAssignment]:
        pool = self.pools[pool_id].pool
        found = [NamedUserAssignment(pool_id, user, programs) for user, programs in pool.assignments.items()]
        return page_of(found, lambda a: a.user_id, page)


class FakeProvisioningUnitOfWork(FakeUnitOfWorkBase, ProvisioningUnitOfWork):
    producer = "provisioning"

    """A unit of work on fake repositories: audit records and events count once committed."""

    def __init__(self, *, actor: str = "key:test", clock: Clock = SYSTEM_CLOCK) -> None:
        self.customers = FakeCustomerRepository()
        self.deals = FakeDealRepository()
        self.orders = FakeOrderRepository()
        self.subscriptions = FakeSubscriptionRepository()
        self.workflows = FakeWorkflowRepository()
        self.fulfillments = FakeFulfillmentRepository()
        self.named_users = FakeNamedUserRepository()
        self.start_fake(actor, clock)
