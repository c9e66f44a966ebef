"""Tables of the read model of billing inputs, kept from other services' events (issue 9).

Never written by invoicing's API: provisioning's accounts, subscription events, fulfillments and
approved order lines; rating's rated usage; the catalog's products and price versions; one-time
charges (termination fees today, overage re-bills later). Money and quantities use
`ExactDecimal`, timestamps `UtcDateTime`.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Boolean, Column, Date, Index, Integer, String
from sqlmodel import Field, SQLModel

from libs.platform.db import ExactDecimal, UtcDateTime


def _timestamp() -> Column[datetime]:
    return Column(UtcDateTime(), nullable=False)


def _exact() -> Column[Decimal]:
    return Column(ExactDecimal(), nullable=False)


def _day() -> Column[date]:
    return Column(Date, nullable=False)


class BillingAccountRow(SQLModel, table=True):
    """An account's latest billing profile (`account.opened` / `account.changed`)."""

    __tablename__ = "billing_accounts"
    __table_args__ = (Index("ix_billing_accounts_parent", "parent_account_id"),)

    account_id: str = Field(primary_key=True, max_length=64)
    customer_id: str = Field(max_length=64)
    name: str = Field(max_length=200)
    currency: str = Field(max_length=3)
    bill_cycle_day: int = Field(sa_column=Column(Integer, nullable=False))
    time_zone: str = Field(max_length=64)
    payment_terms_days: int = Field(sa_column=Column(Integer, nullable=False))
    parent_account_id: str | None = Field(default=None, max_length=64)
    bills_to_parent: bool = Field(sa_column=Column(Boolean, nullable=False))
    tax_treatment: str = Field(max_length=20)
    tax_certificate_number: str | None = Field(default=None, max_length=100)
    tax_certificate_expiry: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    tax_country: str | None = Field(default=None, max_length=2)
    tax_region: str | None = Field(default=None, max_length=100)
    tax_postal_code: str | None = Field(default=None, max_length=20)
    billing_email: str | None = Field(default=None, max_length=320)
    locale: str = Field(default="en_US", max_length=16)
    crm_owner_name: str | None = Field(default=None, max_length=200)
    crm_owner_email: str | None = Field(default=None, max_length=320)
    event_at: datetime = Field(sa_column=_timestamp())
    """`occurred_at` of the event last applied; an older event changes nothing."""


class SubscriptionVersionRow(SQLModel, table=True):
    """One subscription event: the subscription's terms and state from its effective date on."""

    __tablename__ = "billing_subscription_versions"
    __table_args__ = (
        Index("ix_billing_subscription_versions_account", "account_id"),
        Index("ix_billing_subscription_versions_subscription", "subscription_id"),
    )

    event_id: str = Field(primary_key=True, max_length=36)
    """The envelope's id: a redelivered event adds no second version."""
    event_at: datetime = Field(sa_column=_timestamp())
    event_kind: str = Field(sa_column=Column(String(40), nullable=False))
    subscription_id: str = Field(max_length=64)
    account_id: str = Field(max_length=64)
    product_id: str = Field(max_length=64)
    currency: str = Field(max_length=3)
    charge_type: str | None = Field(default=None, max_length=20)
    billing_period: str | None = Field(default=None, max_length=20)
    billing_timing: str | None = Field(default=None, max_length=20)
    effective_date: date = Field(sa_column=_day())
    state: str = Field(max_length=20)
    quantity: Decimal = Field(sa_column=_exact())
    unit_price: Decimal = Field(sa_column=_exact())
    discount_percent: Decimal = Field(sa_column=_exact())
    price_id: str = Field(max_length=64)
    price_version: int = Field(sa_column=Column(Integer, nullable=False))
    term_start: date = Field(sa_column=_day())
    term_end: date = Field(sa_column=_day())


class RatedUsageRow(SQLModel, table=True):
    """One `usage.rated`: a subscription's usage of one meter over one closed period, priced."""

    __tablename__ = "billing_rated_usage"
    __table_args__ = (Index("ix_billing_rated_usage_account", "account_id"),)

    rated_usage_id: str = Field(primary_key=True, max_length=64)
    subscription_id: str = Field(max_length=64)
    account_id: str = Field(max_length=64)
    product_id: str = Field(max_length=64)
    meter: str = Field(max_length=64)
    unit_of_measure: str = Field(max_length=64)
    period_start: date = Field(sa_column=_day())
    period_end: date = Field(sa_column=_day())
    quantity: Decimal = Field(sa_column=_exact())
    billable_quantity: Decimal = Field(sa_column=_exact())
    late_quantity: Decimal = Field(sa_column=_exact())
    currency: str = Field(max_length=3)
    price_id: str = Field(max_length=64)
    price_version: int = Field(sa_column=Column(Integer, nullable=False))
    charge_amount: Decimal = Field(sa_column=_exact())
    minimum_shortfall: Decimal = Field(sa_column=_exact())
    prepaid_amount: Decimal = Field(sa_column=_exact())
    amount: Decimal = Field(sa_column=_exact())
    rated_at: datetime = Field(sa_column=_timestamp())
    """When rating priced it; a later rating of the same id replaces this one, an older one does not."""


class FulfillmentLineRow(SQLModel, table=True):
    """One line of a completed fulfillment (`fulfillment.completed`)."""

    __tablename__ = "billing_fulfillment_lines"
    __table_args__ = (Index("ix_billing_fulfillment_lines_account", "account_id"),)

    fulfillment_id: str = Field(primary_key=True, max_length=64)
    order_line_id: str = Field(primary_key=True, max_length=64)
    order_id: str = Field(max_length=64)
    account_id: str = Field(max_length=64)
    product_id: str = Field(max_length=64)
    currency: str = Field(max_length=3)
    completed_on: date = Field(sa_column=_day())
    billable_quantity: Decimal = Field(sa_column=_exact())
    unit_price: Decimal = Field(sa_column=_exact())
    discount_percent: Decimal = Field(sa_column=_exact())
    associated_project_id: str | None = Field(default=None, max_length=64)


class OneTimeChargeRow(SQLModel, table=True):
    """A charge billed once with the next monthly run: a termination fee (an overage re-bill later)."""

    __tablename__ = "billing_one_time_charges"
    __table_args__ = (Index("ix_billing_one_time_charges_account", "account_id"),)

    charge_id: str = Field(primary_key=True, max_length=100)
    kind: str = Field(max_length=20)
    account_id: str = Field(max_length=64)
    currency: str = Field(max_length=3)
    charge_date: date = Field(sa_column=_day())
    description: str = Field(max_length=300)
    quantity: Decimal = Field(sa_column=_exact())
    unit_price: Decimal = Field(sa_column=_exact())
    amount: Decimal = Field(sa_column=_exact())
    subscription_id: str | None = Field(default=None, max_length=64)
    product_id: str | None = Field(default=None, max_length=64)
    price_id: str | None = Field(default=None, max_length=64)
    price_version: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    source_id: str | None = Field(default=None, max_length=64)


class ApprovedOrderLineRow(SQLModel, table=True):
    """A line of an approved sales order (`order.approved`); its catalog price says if it is a fee."""

    __tablename__ = "billing_order_lines"
    __table_args__ = (Index("ix_billing_order_lines_account", "account_id"),)

    order_line_id: str = Field(primary_key=True, max_length=64)
    order_id: str = Field(max_length=64)
    account_id: str = Field(max_length=64)
    currency: str = Field(max_length=3)
    approved_at: datetime = Field(sa_column=_timestamp())
    product_id: str = Field(max_length=64)
    price_id: str = Field(max_length=64)
    price_version: int = Field(sa_column=Column(Integer, nullable=False))
    quantity: Decimal = Field(sa_column=_exact())
    unit_price: Decimal = Field(sa_column=_exact())
    discount_percent: Decimal = Field(sa_column=_exact())
    license_type: str = Field(max_length=20)
    subscription_id: str | None = Field(default=None, max_length=64)


class PriceTermsRow(SQLModel, table=True):
    """A catalog price version's charge type, billing frequency and timing (`catalog.price_published`)."""

    __tablename__ = "billing_prices"

    price_id: str = Field(primary_key=True, max_length=64)
    version: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    product_id: str = Field(max_length=64)
    currency: str = Field(max_length=3)
    charge_type: str = Field(max_length=20)
    billing_period: str | None = Field(default=None, max_length=20)
    timing: str = Field(max_length=20)


class CatalogProductRow(SQLModel, table=True):
    """A catalog product's latest name and tax code (`catalog.product_changed`)."""

    __tablename__ = "billing_products"

    product_id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    tax_code: str = Field(max_length=64)
    revenue_rule: str | None = Field(default=None, max_length=20)
    """ratable, on_fulfillment or on_invoice (null for a product kept before the ledger read it)."""
    event_at: datetime = Field(sa_column=_timestamp())
    """`occurred_at` of the event last applied; an older event changes nothing."""


class BillingWatermarkRow(SQLModel, table=True):
    """How far an account is billed: nothing is due for it through `billed_through` (issue 9).

    Set by a cycle run's chunk that billed the account (or found nothing due), only if `version`
    is still the one the chunk read; every read-model write that can bring the account (or a child
    billing to it) a charge clears it and bumps `version`. A run of every account pages only the
    accounts whose mark is missing or before its bill date.
    """

    __tablename__ = "billing_watermarks"
    __table_args__ = (Index("ix_billing_watermarks_billed_through", "billed_through"),)

    account_id: str = Field(primary_key=True, max_length=64)
    billed_through: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    version: int = Field(default=0, sa_column=Column(Integer, nullable=False))
