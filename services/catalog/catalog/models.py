"""Tables of the catalog service (its own database; the platform tables come from libs).

Money and quantities use `ExactDecimal`, timestamps `UtcDateTime`. Tier lists, bundle
components, discount product lists and quote lines are small value lists stored as JSON text
with decimal strings, so they stay exact on every backend.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Boolean, Column, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

import libs.platform.audit
import libs.platform.idempotency
import libs.platform.inbox
import libs.platform.outbox  # noqa: F401
from libs.platform.db import ExactDecimal, UtcDateTime


def _money(nullable: bool = True) -> Column[Decimal]:
    return Column(ExactDecimal(), nullable=nullable)


def _timestamp() -> Column[datetime]:
    return Column(UtcDateTime(), nullable=False)


class Product(SQLModel, table=True):
    """Something we sell: a license, platform, workshop, service, support or usage item."""

    __tablename__ = "products"
    __table_args__ = (UniqueConstraint("sku", name="uq_products_sku"),)

    id: str = Field(primary_key=True, max_length=40)
    sku: str = Field(sa_column=Column(String(64), nullable=False))
    name: str = Field(max_length=200)
    description: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    kind: str = Field(max_length=20)
    unit_of_measure: str = Field(max_length=40)
    license_type: str = Field(max_length=20)
    revenue_rule: str = Field(max_length=20)
    tax_code: str = Field(max_length=40)
    vendor_id: str | None = Field(default=None, max_length=60)
    active: bool = Field(default=True, sa_column=Column(Boolean, nullable=False))
    created_at: datetime = Field(sa_column=_timestamp())
    updated_at: datetime = Field(sa_column=_timestamp())


class Price(SQLModel, table=True):
    """The identity of a price (product, currency); its terms live in immutable versions."""

    __tablename__ = "prices"

    id: str = Field(primary_key=True, max_length=40)
    product_id: str = Field(
        sa_column=Column(String(40), ForeignKey("products.id"), nullable=False, index=True)
    )
    currency: str = Field(max_length=3)
    latest_version: int = Field(sa_column=Column(Integer, nullable=False))
    created_at: datetime = Field(sa_column=_timestamp())


class PriceVersion(SQLModel, table=True):
    """One published, immutable version of a price, in force on [effective_from, effective_to)."""

    __tablename__ = "price_versions"
    __table_args__ = (UniqueConstraint("price_id", "version", name="uq_price_versions_price_version"),)

    id: str = Field(primary_key=True, max_length=40)
    price_id: str = Field(sa_column=Column(String(40), ForeignKey("prices.id"), nullable=False, index=True))
    version: int = Field(sa_column=Column(Integer, nullable=False))
    # Identity fields repeated on each version so a version reads on its own.
    product_id: str = Field(max_length=40)
    currency: str = Field(max_length=3)
    charge_type: str = Field(max_length=20)
    billing_period: str | None = Field(default=None, max_length=20)
    timing: str = Field(max_length=20)
    model: str = Field(max_length=20)
    unit_price: Decimal | None = Field(default=None, sa_column=_money())
    amount: Decimal | None = Field(default=None, sa_column=_money())
    tiers: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    package_size: Decimal | None = Field(default=None, sa_column=_money())
    included_quantity: Decimal = Field(sa_column=_money(nullable=False))
    minimum_commitment: Decimal | None = Field(default=None, sa_column=_money())
    cost_book_id: str | None = Field(default=None, max_length=40)
    effective_from: date = Field(sa_column=Column(Date, nullable=False))
    effective_to: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    published_at: datetime = Field(sa_column=_timestamp())
    published_by: str = Field(max_length=80)


class CostBook(SQLModel, table=True):
    """The identity of a vendor cost book; its tiers and markup live in versions."""

    __tablename__ = "cost_books"

    id: str = Field(primary_key=True, max_length=40)
    vendor_id: str = Field(max_length=60)
    currency: str = Field(max_length=3)
    latest_version: int = Field(sa_column=Column(Integer, nullable=False))
    created_at: datetime = Field(sa_column=_timestamp())


class CostBookVersion(SQLModel, table=True):
    """One published version of a vendor cost book."""

    __tablename__ = "cost_book_versions"
    __table_args__ = (UniqueConstraint("cost_book_id", "version", name="uq_cost_book_versions_book_version"),)

    id: str = Field(primary_key=True, max_length=40)
    cost_book_id: str = Field(
        sa_column=Column(String(40), ForeignKey("cost_books.id"), nullable=False, index=True)
    )
    version: int = Field(sa_column=Column(Integer, nullable=False))
    vendor_id: str = Field(max_length=60)
    name: str = Field(max_length=200)
    currency: str = Field(max_length=3)
    mode: str = Field(max_length=20)
    # The period the tier prices are for (a vendor's list is per unit per month).
    tier_period: str = Field(
        default="monthly", sa_column=Column(String(20), nullable=False, server_default="monthly")
    )
    markup_percent: Decimal = Field(sa_column=_money(nullable=False))
    tiers: str = Field(sa_column=Column(Text, nullable=False))
    effective_from: date = Field(sa_column=Column(Date, nullable=False))
    effective_to: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    published_at: datetime = Field(sa_column=_timestamp())
    published_by: str = Field(max_length=80)


class Bundle(SQLModel, table=True):
    """Products sold together, each with a quantity per bundle."""

    __tablename__ = "bundles"

    id: str = Field(primary_key=True, max_length=40)
    name: str = Field(max_length=200)
    description: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    components: str = Field(sa_column=Column(Text, nullable=False))
    active: bool = Field(default=True, sa_column=Column(Boolean, nullable=False))
    created_at: datetime = Field(sa_column=_timestamp())
    updated_at: datetime = Field(sa_column=_timestamp())


class Discount(SQLModel, table=True):
    """A discount or promotion: percent or amount off, for some products, with an approval threshold."""

    __tablename__ = "discounts"
    __table_args__ = (UniqueConstraint("promo_code", name="uq_discounts_promo_code"),)

    id: str = Field(primary_key=True, max_length=40)
    name: str = Field(max_length=200)
    kind: str = Field(max_length=20)
    value: Decimal = Field(sa_column=_money(nullable=False))
    currency: str | None = Field(default=None, max_length=3)
    duration_cycles: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    product_ids: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    approval_threshold_percent: Decimal | None = Field(default=None, sa_column=_money())
    promo_code: str | None = Field(default=None, sa_column=Column(String(40), nullable=True))
    valid_from: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    valid_to: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    active: bool = Field(default=True, sa_column=Column(Boolean, nullable=False))
    created_at: datetime = Field(sa_column=_timestamp())
    updated_at: datetime = Field(sa_column=_timestamp())


class ContractTemplate(SQLModel, table=True):
    """How a support contract of some kind is sold: by period, by hours, both, or per incident."""

    __tablename__ = "contract_templates"

    id: str = Field(primary_key=True, max_length=40)
    name: str = Field(max_length=200)
    kind: str = Field(max_length=20)
    period_months: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    hours: Decimal | None = Field(default=None, sa_column=_money())
    on_expiry: str = Field(max_length=20)
    product_id: str | None = Field(
        default=None, sa_column=Column(String(40), ForeignKey("products.id"), nullable=True)
    )
    created_at: datetime = Field(sa_column=_timestamp())
    updated_at: datetime = Field(sa_column=_timestamp())


class Quote(SQLModel, table=True):
    """A priced quote: totals as columns, its lines as an immutable JSON snapshot."""

    __tablename__ = "quotes"

    id: str = Field(primary_key=True, max_length=40)
    currency: str = Field(max_length=3)
    as_of: date = Field(sa_column=Column(Date, nullable=False))
    subtotal: Decimal = Field(sa_column=_money(nullable=False))
    discount_total: Decimal = Field(sa_column=_money(nullable=False))
    total: Decimal = Field(sa_column=_money(nullable=False))
    needs_approval: bool = Field(sa_column=Column(Boolean, nullable=False))
    approval_reasons: str = Field(sa_column=Column(Text, nullable=False))
    lines: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(sa_column=_timestamp())
    created_by: str = Field(max_length=80)
