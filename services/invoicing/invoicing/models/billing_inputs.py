"""Tables of the read model of billing inputs, kept from other services' events (issue 9).

Never written by invoicing's API: provisioning's accounts, subscription events, fulfillments and
approved order lines; rating's rated usage; the catalog's products and price versions; one-time
charges (termination fees today, overage re-bills later). Money and quantities use
`ExactDecimal`, timestamps `UtcDateTime`
(the shared column shapes of `libs.platform.columns`).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Boolean, Column, Index, Integer, String
from sqlmodel import Field, SQLModel

from libs.platform.columns import (
    currency_field,
    day_field,
    exact_field,
    id_field,
    integer_column,
    integer_field,
    timestamp_field,
)


class BillingAccountRow(SQLModel, table=True):
    """An account's latest billing profile (`account.opened` / `account.changed`)."""

    __tablename__ = "billing_accounts"
    __table_args__ = (Index("ix_billing_accounts_parent", "parent_account_id"),)

    account_id: str = id_field(primary_key=True)
    customer_id: str = id_field()
    name: str = Field(max_length=200)
    currency: str = currency_field()
    bill_cycle_day: int = integer_field()
    time_zone: str = id_field()
    payment_terms_days: int = integer_field()
    parent_account_id: str | None = id_field(optional=True)
    bills_to_parent: bool = Field(sa_column=Column(Boolean, nullable=False))
    tax_treatment: str = Field(max_length=20)
    tax_certificate_number: str | None = Field(default=None, max_length=100)
    tax_certificate_expiry: date | None = day_field(nullable=True)
    tax_country: str | None = Field(default=None, max_length=2)
    tax_region: str | None = Field(default=None, max_length=100)
    tax_postal_code: str | None = Field(default=None, max_length=20)
    billing_email: str | None = Field(default=None, max_length=320)
    locale: str = Field(default="en_US", max_length=16)
    crm_owner_name: str | None = Field(default=None, max_length=200)
    crm_owner_email: str | None = Field(default=None, max_length=320)
    event_at: datetime = timestamp_field()
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
    event_at: datetime = timestamp_field()
    event_kind: str = Field(sa_column=Column(String(40), nullable=False))
    subscription_id: str = id_field()
    account_id: str = id_field()
    product_id: str = id_field()
    currency: str = currency_field()
    charge_type: str | None = Field(default=None, max_length=20)
    billing_period: str | None = Field(default=None, max_length=20)
    billing_timing: str | None = Field(default=None, max_length=20)
    effective_date: date = day_field()
    state: str = Field(max_length=20)
    quantity: Decimal = exact_field()
    unit_price: Decimal = exact_field()
    discount_percent: Decimal = exact_field()
    price_id: str = id_field()
    price_version: int = integer_field()
    term_start: date = day_field()
    term_end: date = day_field()


class RatedUsageRow(SQLModel, table=True):
    """One `usage.rated`: a subscription's usage of one meter over one closed period, priced."""

    __tablename__ = "billing_rated_usage"
    __table_args__ = (Index("ix_billing_rated_usage_account", "account_id"),)

    rated_usage_id: str = id_field(primary_key=True)
    subscription_id: str = id_field()
    account_id: str = id_field()
    product_id: str = id_field()
    meter: str = id_field()
    unit_of_measure: str = id_field()
    period_start: date = day_field()
    period_end: date = day_field()
    quantity: Decimal = exact_field()
    billable_quantity: Decimal = exact_field()
    late_quantity: Decimal = exact_field()
    currency: str = currency_field()
    price_id: str = id_field()
    price_version: int = integer_field()
    charge_amount: Decimal = exact_field()
    minimum_shortfall: Decimal = exact_field()
    prepaid_amount: Decimal = exact_field()
    amount: Decimal = exact_field()
    rated_at: datetime = timestamp_field()
    """When rating priced it; a later rating of the same id replaces this one, an older one does not."""


class FulfillmentLineRow(SQLModel, table=True):
    """One line of a completed fulfillment (`fulfillment.completed`)."""

    __tablename__ = "billing_fulfillment_lines"
    __table_args__ = (Index("ix_billing_fulfillment_lines_account", "account_id"),)

    fulfillment_id: str = id_field(primary_key=True)
    order_line_id: str = id_field(primary_key=True)
    order_id: str = id_field()
    account_id: str = id_field()
    product_id: str = id_field()
    currency: str = currency_field()
    completed_on: date = day_field()
    billable_quantity: Decimal = exact_field()
    unit_price: Decimal = exact_field()
    discount_percent: Decimal = exact_field()
    associated_project_id: str | None = id_field(optional=True)


class OneTimeChargeRow(SQLModel, table=True):
    """A charge billed once with the next monthly run: a termination fee (an overage re-bill later)."""

    __tablename__ = "billing_one_time_charges"
    __table_args__ = (Index("ix_billing_one_time_charges_account", "account_id"),)

    charge_id: str = Field(primary_key=True, max_length=100)
    kind: str = Field(max_length=20)
    account_id: str = id_field()
    currency: str = currency_field()
    charge_date: date = day_field()
    description: str = Field(max_length=300)
    quantity: Decimal = exact_field()
    unit_price: Decimal = exact_field()
    amount: Decimal = exact_field()
    subscription_id: str | None = id_field(optional=True)
    product_id: str | None = id_field(optional=True)
    price_id: str | None = id_field(optional=True)
    price_version: int | None = integer_field(nullable=True)
    source_id: str | None = id_field(optional=True)


class ApprovedOrderLineRow(SQLModel, table=True):
    """A line of an approved sales order (`order.approved`); its catalog price says if it is a fee."""

    __tablename__ = "billing_order_lines"
    __table_args__ = (Index("ix_billing_order_lines_account", "account_id"),)

    order_line_id: str = id_field(primary_key=True)
    order_id: str = id_field()
    account_id: str = id_field()
    currency: str = currency_field()
    approved_at: datetime = timestamp_field()
    product_id: str = id_field()
    price_id: str = id_field()
    price_version: int = integer_field()
    quantity: Decimal = exact_field()
    unit_price: Decimal = exact_field()
    discount_percent: Decimal = exact_field()
    license_type: str = Field(max_length=20)
    subscription_id: str | None = id_field(optional=True)


class PriceTermsRow(SQLModel, table=True):
    """A catalog price version's charge type, billing frequency and timing (`catalog.price_published`)."""

    __tablename__ = "billing_prices"

    price_id: str = id_field(primary_key=True)
    version: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    product_id: str = id_field()
    currency: str = currency_field()
    charge_type: str = Field(max_length=20)
    billing_period: str | None = Field(default=None, max_length=20)
    timing: str = Field(max_length=20)


class CatalogProductRow(SQLModel, table=True):
    """A catalog product's latest name and tax code (`catalog.product_changed`)."""

    __tablename__ = "billing_products"

    product_id: str = id_field(primary_key=True)
    name: str = Field(max_length=200)
    tax_code: str = id_field()
    revenue_rule: str | None = Field(default=None, max_length=20)
    """ratable, on_fulfillment or on_invoice (null for a product kept before the ledger read it)."""
    event_at: datetime = timestamp_field()
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

    account_id: str = id_field(primary_key=True)
    billed_through: date | None = day_field(nullable=True)
    version: int = Field(default=0, sa_column=integer_column())
