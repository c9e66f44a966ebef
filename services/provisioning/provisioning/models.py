"""Tables of the provisioning service (its own database; the platform tables come from libs).

Rows are the storage shape of the domain aggregates; `repository.py` maps between the two.
Money and quantities are `ExactDecimal`, timestamps `UtcDateTime`; small value lists that are
always read with their owner (contacts, task notes, line discounts) are JSON text.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

import libs.platform.audit
import libs.platform.idempotency
import libs.platform.inbox
import libs.platform.outbox  # noqa: F401
from libs.platform.db import ExactDecimal, UtcDateTime


def _money(nullable: bool = False) -> sa.Column:
    return sa.Column(ExactDecimal(), nullable=nullable)


def _ts(nullable: bool = False) -> sa.Column:
    return sa.Column(UtcDateTime(), nullable=nullable)


def _text(nullable: bool = False) -> sa.Column:
    return sa.Column(sa.Text, nullable=nullable)


class PartnerRow(SQLModel, table=True):
    """A partner that registers deals."""

    __tablename__ = "partners"

    id: str = Field(primary_key=True, max_length=40)
    name: str = Field(max_length=200)
    contact_email: str | None = Field(default=None, max_length=254)
    active: bool = True
    created_at: datetime = Field(sa_column=_ts())


class DealRegistrationRow(SQLModel, table=True):
    """A partner's registered opportunity."""

    __tablename__ = "deal_registrations"

    id: str = Field(primary_key=True, max_length=40)
    partner_id: str = Field(foreign_key="partners.id", index=True, max_length=40)
    opportunity_name: str = Field(max_length=200)
    opportunity_details: str | None = Field(default=None, sa_column=_text(True))
    customer_company_name: str | None = Field(default=None, max_length=200)
    agreement_contact_name: str | None = Field(default=None, max_length=200)
    agreement_contact_email: str | None = Field(default=None, max_length=254)
    currency: str | None = Field(default=None, max_length=3)
    license_type: str | None = Field(default=None, max_length=20)
    start_date: date | None = None
    end_date: date | None = None
    discounts_requested: str = Field(default="[]", sa_column=_text())
    project_description: str | None = Field(default=None, sa_column=_text(True))
    status: str = Field(max_length=20)
    customer_id: str | None = Field(default=None, max_length=40)
    order_id: str | None = Field(default=None, max_length=40)
    created_at: datetime = Field(sa_column=_ts())
    updated_at: datetime = Field(sa_column=_ts())


class CustomerRow(SQLModel, table=True):
    """A company we sell to."""

    __tablename__ = "customers"

    id: str = Field(primary_key=True, max_length=40)
    name: str = Field(max_length=200)
    partner_id: str | None = Field(default=None, max_length=40)
    created_at: datetime = Field(sa_column=_ts())


class AccountRow(SQLModel, table=True):
    """A billing account and its billing profile."""

    __tablename__ = "accounts"

    id: str = Field(primary_key=True, max_length=40)
    customer_id: str = Field(foreign_key="customers.id", index=True, max_length=40)
    name: str = Field(max_length=200)
    parent_account_id: str | None = Field(default=None, foreign_key="accounts.id", index=True, max_length=40)
    bills_to_parent: bool = False
    currency: str = Field(max_length=3)
    time_zone: str = Field(max_length=64)
    bill_cycle_day: int
    payment_terms_days: int
    delivery: str = Field(max_length=10)
    tax_treatment: str = Field(max_length=10)
    tax_certificate_number: str | None = Field(default=None, max_length=80)
    tax_certificate_expiry: date | None = None
    tax_country: str | None = Field(default=None, max_length=2)
    tax_region: str | None = Field(default=None, max_length=100)
    tax_postal_code: str | None = Field(default=None, max_length=20)
    contacts: str = Field(default="[]", sa_column=_text())
    created_at: datetime = Field(sa_column=_ts())
    updated_at: datetime = Field(sa_column=_ts())


class SalesOrderRow(SQLModel, table=True):
    """A sales order (new or amendment)."""

    __tablename__ = "sales_orders"

    id: str = Field(primary_key=True, max_length=40)
    customer_id: str = Field(foreign_key="customers.id", index=True, max_length=40)
    account_id: str = Field(foreign_key="accounts.id", index=True, max_length=40)
    kind: str = Field(max_length=20)
    status: str = Field(max_length=20, index=True)
    currency: str = Field(max_length=3)
    approval_required: bool = False
    approved_by: str | None = Field(default=None, max_length=80)
    deal_registration_id: str | None = Field(default=None, max_length=40)
    requested_discounts_note: str | None = Field(default=None, sa_column=_text(True))
    quote_id: str | None = Field(default=None, max_length=60)
    created_at: datetime = Field(sa_column=_ts())
    updated_at: datetime = Field(sa_column=_ts())


class OrderLineRow(SQLModel, table=True):
    """One priced line of a sales order: a snapshot of the catalog's quote."""

    __tablename__ = "order_lines"

    id: str = Field(primary_key=True, max_length=40)
    order_id: str = Field(foreign_key="sales_orders.id", index=True, max_length=40)
    position: int
    product_id: str = Field(max_length=60)
    product_sku: str | None = Field(default=None, max_length=100)
    product_name: str | None = Field(default=None, max_length=200)
    product_kind: str | None = Field(default=None, max_length=60)
    product_vendor_id: str | None = Field(default=None, max_length=64)
    price_id: str = Field(max_length=60)
    price_version: int
    charge_type: str | None = Field(default=None, max_length=30)
    billing_period: str | None = Field(default=None, max_length=30)
    billing_timing: str | None = Field(default=None, max_length=30)
    currency: str = Field(max_length=3)
    license_type: str = Field(max_length=20)
    quantity: Decimal = Field(sa_column=_money())
    unit_list_price: Decimal = Field(sa_column=_money())
    list_amount: Decimal = Field(sa_column=_money())
    discount_amount: Decimal = Field(sa_column=_money())
    net_amount: Decimal = Field(sa_column=_money())
    effective_percent_off: Decimal = Field(sa_column=_money())
    needs_approval: bool = False
    discounts: str = Field(default="[]", sa_column=_text())
    term_months: int | None = None
    subscription_id: str | None = Field(default=None, max_length=40)
    effective_date: date | None = None
    # Null on new lines means the default terms (expire; all of a committed license committed).
    renewal_kind: str | None = Field(default=None, max_length=20)
    renewal_months: int | None = None
    commitment_quantity: Decimal | None = Field(default=None, sa_column=_money(True))
    termination_fee_price_id: str | None = Field(default=None, max_length=60)


class SubscriptionRow(SQLModel, table=True):
    """A subscription (service instance) at its pinned price version."""

    __tablename__ = "subscriptions"
    # Term-end runs look up active subscriptions by term end.
    __table_args__ = (sa.Index("ix_subscriptions_state_term_end", "state", "term_end"),)

    id: str = Field(primary_key=True, max_length=40)
    account_id: str = Field(foreign_key="accounts.id", index=True, max_length=40)
    order_id: str | None = Field(default=None, max_length=40, index=True)
    order_line_id: str | None = Field(default=None, max_length=40)
    product_id: str = Field(max_length=60)
    price_id: str = Field(max_length=60)
    price_version: int
    currency: str = Field(max_length=3)
    unit_price: Decimal = Field(sa_column=_money())
    discount_percent: Decimal = Field(sa_column=_money())
    charge_type: str | None = Field(default=None, max_length=30)
    billing_period: str | None = Field(default=None, max_length=30)
    billing_timing: str | None = Field(default=None, max_length=30)
    quantity: Decimal = Field(sa_column=_money())
    commitment_quantity: Decimal = Field(sa_column=_money())
    license_type: str = Field(max_length=20)
    term_start: date
    term_end: date
    renewal_kind: str = Field(max_length=20)
    renewal_months: int | None = None
    state: str = Field(max_length=20, index=True)
    termination_fee_price_id: str | None = Field(default=None, max_length=60)
    # The fee charged at an early cancellation (in the subscription's currency).
    termination_fee_price_version: int | None = None
    termination_fee_amount: Decimal | None = Field(default=None, sa_column=_money(True))
    created_at: datetime = Field(sa_column=_ts())
    updated_at: datetime = Field(sa_column=_ts())


class SubscriptionChangeRow(SQLModel, table=True):
    """One entry of a subscription's append-only change history."""

    __tablename__ = "subscription_changes"

    id: str = Field(primary_key=True, max_length=40)
    subscription_id: str = Field(foreign_key="subscriptions.id", index=True, max_length=40)
    sequence: int
    kind: str = Field(max_length=20)
    effective_date: date
    by: str = Field(max_length=80)
    reason: str | None = Field(default=None, sa_column=_text(True))
    before_state: str = Field(max_length=20)
    after_state: str = Field(max_length=20)
    before_quantity: Decimal = Field(sa_column=_money())
    after_quantity: Decimal = Field(sa_column=_money())
    before_term_start: date
    after_term_start: date
    before_term_end: date
    after_term_end: date
    price_id: str = Field(max_length=60)
    price_version: int
    recorded_at: datetime = Field(sa_column=_ts())


class WorkflowRow(SQLModel, table=True):
    """A running provisioning workflow."""

    __tablename__ = "workflows"

    id: str = Field(primary_key=True, max_length=40)
    template_name: str = Field(max_length=60)
    order_id: str = Field(foreign_key="sales_orders.id", index=True, max_length=40)
    order_line_id: str | None = Field(default=None, max_length=40)
    account_id: str = Field(max_length=40, index=True)
    subscription_id: str | None = Field(default=None, max_length=40, index=True)
    started_on: date
    status: str = Field(max_length=20, index=True)
    completed_on: date | None = None
    created_at: datetime = Field(sa_column=_ts())


class WorkflowTaskRow(SQLModel, table=True):
    """One task of a workflow."""

    __tablename__ = "workflow_tasks"

    id: str = Field(primary_key=True, max_length=40)
    workflow_id: str = Field(foreign_key="workflows.id", index=True, max_length=40)
    position: int
    key: str = Field(max_length=60)
    title: str = Field(max_length=200)
    owner_team: str = Field(max_length=60, index=True)
    due_date: date = Field(index=True)
    requires: str = Field(default="[]", sa_column=_text())
    state: str = Field(max_length=20, index=True)
    assignee: str | None = Field(default=None, max_length=120)
    completed_on: date | None = None
    blocked_reason: str | None = Field(default=None, sa_column=_text(True))
    notes: str = Field(default="[]", sa_column=_text())


class FulfillmentRow(SQLModel, table=True):
    """Licenses launched or services delivered against a sales order."""

    __tablename__ = "fulfillments"

    id: str = Field(primary_key=True, max_length=40)
    order_id: str = Field(foreign_key="sales_orders.id", index=True, max_length=40)
    account_id: str = Field(max_length=40, index=True)
    associated_project_id: str | None = Field(default=None, max_length=60)
    status: str = Field(max_length=20)
    completed_on: date | None = None
    created_at: datetime = Field(sa_column=_ts())
    updated_at: datetime = Field(sa_column=_ts())


class FulfillmentLineRow(SQLModel, table=True):
    """One order line fulfilled by a fulfillment."""

    __tablename__ = "fulfillment_lines"

    fulfillment_id: str = Field(foreign_key="fulfillments.id", primary_key=True, max_length=40)
    order_line_id: str = Field(primary_key=True, max_length=40)
    position: int
    product_id: str = Field(max_length=60)
    license_type: str = Field(max_length=20)
    quantity: Decimal = Field(sa_column=_money())
    unit_list_price: Decimal = Field(sa_column=_money())
    discount_percent: Decimal = Field(sa_column=_money())
    currency: str = Field(max_length=3)


class NamedUserPoolRow(SQLModel, table=True):
    """A named-user license pool."""

    __tablename__ = "named_user_pools"

    id: str = Field(primary_key=True, max_length=40)
    account_id: str = Field(foreign_key="accounts.id", index=True, max_length=40)
    subscription_id: str | None = Field(default=None, max_length=40)
    size: int
    programs_per_user: int
    contract_programs: str = Field(sa_column=_text())
    contract_start: date
    transfer_percent: Decimal = Field(sa_column=_money())
    created_at: datetime = Field(sa_column=_ts())


class NamedUserAssignmentRow(SQLModel, table=True):
    """A named user of a pool and the programs they may access."""

    __tablename__ = "named_user_assignments"

    pool_id: str = Field(foreign_key="named_user_pools.id", primary_key=True, max_length=40)
    user_id: str = Field(primary_key=True, max_length=120)
    programs: str = Field(sa_column=_text())


class NamedUserTransferRow(SQLModel, table=True):
    """A seat moved from one person to another."""

    __tablename__ = "named_user_transfers"

    id: str = Field(primary_key=True, max_length=40)
    pool_id: str = Field(foreign_key="named_user_pools.id", index=True, max_length=40)
    sequence: int
    from_user: str = Field(max_length=120)
    to_user: str = Field(max_length=120)
    on_date: date
    contract_year: int
    by: str = Field(max_length=80)
