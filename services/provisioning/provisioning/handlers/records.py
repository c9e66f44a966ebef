"""What provisioning's repositories keep beside the aggregates, as plain records: the catalog's
pricing snapshot of an order line, the billing facts of a subscription, what is already stored
of an append-only history, timestamps. Part of the handlers' port (`handlers/unit_of_work.py`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from libs.contracts.vocabulary import BillingFrequency, BillingTiming, ChargeType, ProductKind
from provisioning.domain.fulfillments import Fulfillment
from provisioning.domain.named_users import NamedUserPool
from provisioning.domain.orders import LineDiscount, SalesOrder
from provisioning.domain.subscriptions import Subscription, SubscriptionChange
from provisioning.domain.workflows import TaskState, Workflow


@dataclass(frozen=True)
class QuotedLineDiscount:
    """A discount on a line as the catalog quoted it."""

    discount_id: str
    name: str
    amount: Decimal
    approval_threshold_percent: Decimal | None
    kind: str
    value: Decimal

    def as_line_discount(self) -> LineDiscount:
        """The domain discount: a percent, or the amount the catalog took off."""
        if self.kind == "percent":
            return LineDiscount(self.discount_id, self.approval_threshold_percent, percent=self.value)
        return LineDiscount(self.discount_id, self.approval_threshold_percent, amount=self.amount)


@dataclass(frozen=True)
class LinePricing:
    """The catalog facts snapshotted on a line beside the domain's OrderLine."""

    product_sku: str | None = None
    product_name: str | None = None
    product_kind: ProductKind | None = None
    product_vendor_id: str | None = None
    charge_type: ChargeType | None = None
    billing_period: BillingFrequency | None = None
    billing_timing: BillingTiming | None = None
    list_amount: Decimal = Decimal(0)
    discount_amount: Decimal = Decimal(0)
    net_amount: Decimal = Decimal(0)
    effective_percent_off: Decimal = Decimal(0)
    discounts: tuple[QuotedLineDiscount, ...] = ()


@dataclass
class StoredOrder:
    """An order in its account's currency, with the pricing snapshot of its lines and timestamps."""

    order: SalesOrder
    currency: str
    pricing: dict[str, LinePricing] = field(default_factory=dict)
    quote_id: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    def pricing_of(self, line_id: str) -> LinePricing:
        """The catalog's snapshot of one line (an empty one if none was taken)."""
        return self.pricing.get(line_id) or LinePricing()


@dataclass
class StoredSubscription:
    """A subscription with the billing facts kept beside it."""

    subscription: Subscription
    currency: str
    unit_price: Decimal
    discount_percent: Decimal
    charge_type: ChargeType | None
    billing_period: BillingFrequency | None
    billing_timing: BillingTiming | None
    order_line_id: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    history_saved: int = 0


@dataclass(frozen=True)
class RecordedChange:
    """One stored entry of a subscription's history."""

    sequence: int
    change: SubscriptionChange
    recorded_at: datetime


@dataclass
class StoredWorkflow:
    """A workflow and the order line it provisions."""

    workflow: Workflow
    order_line_id: str | None = None


@dataclass
class StoredFulfillment:
    """A fulfillment and its timestamps."""

    fulfillment: Fulfillment
    created_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass
class StoredPool:
    """A named-user pool and how much of its history is already stored."""

    pool: NamedUserPool
    created_at: datetime | None = None
    transfers_saved: int = 0


@dataclass(frozen=True)
class NamedUserAssignment:
    """The programs one named user of a pool holds."""

    pool_id: str
    user_id: str
    programs: frozenset[str]


@dataclass(frozen=True)
class TaskFilter:
    """Which tasks a task list shows (None: any)."""

    owner_team: str | None = None
    state: TaskState | None = None
    assignee: str | None = None
    workflow_id: str | None = None
    overdue: bool | None = None
    as_of: date | None = None
