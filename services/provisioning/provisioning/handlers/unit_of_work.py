"""The port of provisioning's handlers: a unit of work holding one repository per concept.

Handlers see only `ProvisioningUnitOfWork` — its repositories (domain objects in, domain objects
out), `audit` and `commit`; the events the saved aggregates recorded leave through
`provisioning.events` on commit. `bootstrap` builds the SQL one
(`provisioning.repository.unit_of_work`); unit tests give handlers an in-memory fake
(`tests/provisioning/unit/fakes.py`). What a repository keeps beside an aggregate (the
catalog's pricing snapshot, the billing facts of a subscription, timestamps) is in
`handlers/records.py`.
"""

from __future__ import annotations

import abc
import itertools
from collections.abc import Collection, Sequence
from datetime import date
from typing import Any

from libs.platform.errors import NotFound
from libs.platform.pagination import Page, PageRequest
from libs.platform.unit_of_work_port import UnitOfWorkPort
from provisioning.domain.accounts import Account, AccountHierarchy, Customer
from provisioning.domain.deals import DealRegistration, DealStatus, Partner
from provisioning.domain.fulfillments import Fulfillment, FulfillmentStatus
from provisioning.domain.orders import OrderStatus
from provisioning.domain.subscriptions import SubscriptionState
from provisioning.domain.workflows import WorkflowStatus, WorkflowTask
from provisioning.events import customers as customer_events
from provisioning.events import deals as deal_events
from provisioning.events import fulfillments as fulfillment_events
from provisioning.events import named_users as named_user_events
from provisioning.events import orders as order_events
from provisioning.events import subscriptions as subscription_events
from provisioning.events import workflows as workflow_events
from provisioning.events.common import Outgoing
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

# ----- repositories -------------------------------------------------------------------------


_STAGING_ORDER = itertools.count()
"""Saves in the order they happened, across repositories (their events leave in that order)."""


class Repository:
    """A concept's repository; remembers what it saved in this unit of work, for its events."""

    def __init__(self) -> None:
        self.staged: dict[int, tuple[int, Any]] = {}

    def _staged(self, record: Any) -> None:
        # Saved again later, a record's events leave after those of what was saved in between.
        self.staged[id(record)] = (next(_STAGING_ORDER), record)

    def contracts_of(self, record: Any) -> list[Outgoing]:
        """The contract payloads (and keys) of what a saved record recorded, taken from it."""
        return []


class CustomerRepository(Repository):
    """Customers and their billing accounts."""

    def contracts_of(self, record: Any) -> list[Outgoing]:
        """`customer.registered`, `account.opened` or `account.changed`."""
        return customer_events.contracts_of(record)

    @abc.abstractmethod
    async def add_customer(self, customer: Customer) -> Customer:
        """Stage a new customer (its registration time set)."""

    @abc.abstractmethod
    async def get_customer(self, customer_id: str) -> Customer:
        """The customer, or NotFound."""

    @abc.abstractmethod
    async def customers_page(self, page: PageRequest, *, partner_id: str | None) -> Page[Customer]:
        """A page of customers by id, optionally of one partner."""

    @abc.abstractmethod
    async def save_account(self, account: Account) -> Account:
        """Stage a new or changed account (its timestamps set)."""

    @abc.abstractmethod
    async def find_account(self, account_id: str, *, for_update: bool = False) -> Account | None:
        """The account, or None."""

    async def get_account(self, account_id: str, *, for_update: bool = False) -> Account:
        """The account, or NotFound."""
        account = await self.find_account(account_id, for_update=for_update)
        if account is None:
            raise NotFound("account", account_id)
        return account

    @abc.abstractmethod
    async def time_zones(self, account_ids: Collection[str]) -> dict[str, str]:
        """The billing profile's IANA time zone of each of these accounts that exists (one query)."""

    @abc.abstractmethod
    async def children_billing_to(self, account_id: str) -> list[Account]:
        """Accounts directly under `account_id` that bill to it."""

    @abc.abstractmethod
    async def hierarchy_of(self, customer_ids: set[str]) -> AccountHierarchy:
        """Parent links of the accounts of the given customers (a hierarchy never crosses more)."""

    @abc.abstractmethod
    async def accounts_page(
        self, page: PageRequest, *, customer_id: str | None, parent_account_id: str | None
    ) -> Page[Account]:
        """A page of accounts by id, optionally of one customer or under one parent."""


class DealRepository(Repository):
    """Partners and their deal registrations."""

    def contracts_of(self, record: Any) -> list[Outgoing]:
        """Nothing: deals are not published."""
        return deal_events.contracts_of(record)

    @abc.abstractmethod
    async def add_partner(self, partner: Partner) -> Partner:
        """Stage a new partner."""

    @abc.abstractmethod
    async def get_partner(self, partner_id: str) -> Partner:
        """The partner, or NotFound."""

    @abc.abstractmethod
    async def partners_page(self, page: PageRequest) -> Page[Partner]:
        """A page of partners by id."""

    @abc.abstractmethod
    async def get_deal(self, deal_id: str, *, for_update: bool = False) -> DealRegistration:
        """The registration, or NotFound."""

    @abc.abstractmethod
    async def find_deals(self, deal_ids: Collection[str]) -> dict[str, DealRegistration]:
        """The registrations of these ids that exist, by id (one query)."""

    @abc.abstractmethod
    async def save_deal(self, deal: DealRegistration) -> DealRegistration:
        """Stage a new or changed registration (its timestamps set)."""

    @abc.abstractmethod
    async def deals_page(
        self, page: PageRequest, *, partner_id: str | None, status: DealStatus | None
    ) -> Page[DealRegistration]:
        """A page of registrations by id."""


class OrderRepository(Repository):
    """Sales orders with their priced lines."""

    def contracts_of(self, record: Any) -> list[Outgoing]:
        """`order.submitted`, `.approved`, `.cancelled`, `.fulfilled`."""
        return order_events.contracts_of(record)

    @abc.abstractmethod
    async def get(self, order_id: str, *, for_update: bool = False) -> StoredOrder:
        """The order with its lines, or NotFound."""

    @abc.abstractmethod
    async def save(self, stored: StoredOrder) -> None:
        """Stage a new or changed order and its lines."""

    @abc.abstractmethod
    async def page(
        self, page: PageRequest, *, account_id: str | None, status: OrderStatus | None
    ) -> Page[StoredOrder]:
        """A page of orders by id, with their lines (a set of queries per page, not per order)."""


class SubscriptionRepository(Repository):
    """Subscriptions, their billing facts and their change history."""

    def contracts_of(self, record: Any) -> list[Outgoing]:
        """`subscription.activated`, `.changed`, `.suspended`, … with the billing facts."""
        return subscription_events.contracts_of(record)

    @abc.abstractmethod
    async def find(self, subscription_id: str, *, for_update: bool = False) -> StoredSubscription | None:
        """The subscription with its history, or None."""

    async def get(self, subscription_id: str, *, for_update: bool = False) -> StoredSubscription:
        """The subscription with its history, or NotFound."""
        stored = await self.find(subscription_id, for_update=for_update)
        if stored is None:
            raise NotFound("subscription", subscription_id)
        return stored

    @abc.abstractmethod
    async def of_account(
        self, account_id: str, states: Collection[SubscriptionState]
    ) -> list[StoredSubscription]:
        """The account's subscriptions in the given states, locked for a change, oldest first."""

    @abc.abstractmethod
    async def at_term_end(self, as_of: date, *, after: str, limit: int) -> list[StoredSubscription]:
        """Up to `limit` active subscriptions whose term ended by `as_of`, ids after `after`, locked."""

    @abc.abstractmethod
    async def save(self, stored: StoredSubscription) -> None:
        """Stage a new or changed subscription and its new history entries."""

    @abc.abstractmethod
    async def save_many(self, stored: Sequence[StoredSubscription]) -> None:
        """Stage subscriptions and their new history entries in set statements."""

    @abc.abstractmethod
    async def page(
        self,
        page: PageRequest,
        *,
        account_id: str | None,
        state: SubscriptionState | None,
        order_id: str | None,
    ) -> Page[StoredSubscription]:
        """A page of subscriptions by id, with their histories."""

    @abc.abstractmethod
    async def history_page(self, subscription_id: str, page: PageRequest) -> Page[RecordedChange]:
        """A page of one subscription's history, oldest first."""


class WorkflowRepository(Repository):
    """Provisioning workflows and their tasks."""

    def contracts_of(self, record: Any) -> list[Outgoing]:
        """`workflow.started` and `workflow.completed` (task steps are audited, not published)."""
        return workflow_events.contracts_of(record)

    @abc.abstractmethod
    async def get(self, workflow_id: str, *, for_update: bool = False) -> StoredWorkflow:
        """The workflow with its tasks, or NotFound."""

    @abc.abstractmethod
    async def save(self, stored: StoredWorkflow) -> None:
        """Stage a new or changed workflow and its tasks."""

    @abc.abstractmethod
    async def get_task(self, task_id: str) -> tuple[str, WorkflowTask]:
        """A task and the id of its workflow, or NotFound."""

    @abc.abstractmethod
    async def statuses_of_order(self, order_id: str) -> list[WorkflowStatus]:
        """The status of every workflow started for an order."""

    @abc.abstractmethod
    async def page(
        self,
        page: PageRequest,
        *,
        order_id: str | None,
        account_id: str | None,
        status: WorkflowStatus | None,
    ) -> Page[StoredWorkflow]:
        """A page of workflows by id, with their tasks."""

    @abc.abstractmethod
    async def tasks_page(self, page: PageRequest, where: TaskFilter) -> Page[tuple[str, WorkflowTask]]:
        """A page of tasks by id (with their workflow's id)."""


class FulfillmentRepository(Repository):
    """License fulfillments recorded against orders."""

    def contracts_of(self, record: Any) -> list[Outgoing]:
        """`fulfillment.completed`."""
        return fulfillment_events.contracts_of(record)

    @abc.abstractmethod
    async def get(self, fulfillment_id: str, *, for_update: bool = False) -> StoredFulfillment:
        """The fulfillment with its lines, or NotFound."""

    @abc.abstractmethod
    async def of_order(self, order_id: str) -> list[Fulfillment]:
        """Every fulfillment recorded against an order."""

    @abc.abstractmethod
    async def save(self, stored: StoredFulfillment) -> None:
        """Stage a new or changed fulfillment and its lines."""

    @abc.abstractmethod
    async def page(
        self, page: PageRequest, *, order_id: str | None, status: FulfillmentStatus | None
    ) -> Page[StoredFulfillment]:
        """A page of fulfillments by id, with their lines."""


class NamedUserRepository(Repository):
    """Named-user pools, their assignments and seat transfers."""

    def contracts_of(self, record: Any) -> list[Outgoing]:
        """`named_user_pool.created`, `named_user.assigned`, `named_user.transferred`."""
        return named_user_events.contracts_of(record)

    @abc.abstractmethod
    async def get(self, pool_id: str, *, for_update: bool = False) -> StoredPool:
        """The pool with its assignments and transfers, or NotFound."""

    @abc.abstractmethod
    async def save(self, stored: StoredPool, *, changed_users: set[str] | None = None) -> None:
        """Stage a pool; rewrites the assignments of `changed_users` (all when None)."""

    @abc.abstractmethod
    async def page(self, page: PageRequest, *, account_id: str | None) -> Page[StoredPool]:
        """A page of pools by id, with their assignments and transfers."""

    @abc.abstractmethod
    async def assignments_page(self, pool_id: str, page: PageRequest) -> Page[NamedUserAssignment]:
        """A page of a pool's named users, by user id."""


# ----- the unit of work ---------------------------------------------------------------------


class ProvisioningUnitOfWork(UnitOfWorkPort):
    """What a handler may do in one use case: use the repositories, audit, commit.

    On commit the events the saved aggregates recorded become contract payloads
    (`provisioning.events`) in the outbox, in the same transaction as the change: the one path by
    which provisioning's changes leave it. Handlers never build a payload.
    """

    customers: CustomerRepository
    deals: DealRepository
    orders: OrderRepository
    subscriptions: SubscriptionRepository
    workflows: WorkflowRepository
    fulfillments: FulfillmentRepository
    named_users: NamedUserRepository

    def repositories(self) -> tuple[Repository, ...]:
        """Every repository of this unit of work."""
        return (
            self.customers,
            self.deals,
            self.orders,
            self.subscriptions,
            self.workflows,
            self.fulfillments,
            self.named_users,
        )

    def collect_new_events(self) -> list[Outgoing]:
        """The contracts of every record saved since the last commit, in the order of the saves."""
        saved = sorted(
            (
                (order, repository, record)
                for repository in self.repositories()
                for order, record in repository.staged.values()
            ),
            key=lambda entry: entry[0],
        )
        outgoing = [
            contract for _, repository, record in saved for contract in repository.contracts_of(record)
        ]
        for repository in self.repositories():
            repository.staged.clear()
        return outgoing

    def stage_recorded_events(self) -> None:
        """Put the recorded events of what was saved in the outbox, as contracts (called by commit)."""
        for payload, key in self.collect_new_events():
            self.emit(payload, key=key)
