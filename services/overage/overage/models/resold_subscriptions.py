"""The payables read model: products, price versions, cost book versions and subscriptions."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Column, Date, Index, Text
from sqlmodel import Field, SQLModel

from libs.platform.db import ExactDecimal, UtcDateTime


class PayablesProductRow(SQLModel, table=True):
    """A catalog product and its vendor (as of its latest event)."""

    __tablename__ = "payables_products"

    product_id: str = Field(primary_key=True, max_length=64)
    vendor_id: str | None = Field(default=None, max_length=64)
    event_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class PayablesPriceRow(SQLModel, table=True):
    """One published price version."""

    __tablename__ = "payables_prices"
    __table_args__ = (Index("ix_payables_prices_cost_book", "cost_book_id"),)

    price_id: str = Field(primary_key=True, max_length=64)
    version: int = Field(primary_key=True)
    product_id: str = Field(max_length=64)
    model: str = Field(max_length=24)
    currency: str = Field(max_length=3)
    billing_period: str | None = Field(default=None, max_length=16)
    cost_book_id: str | None = Field(default=None, max_length=64)
    effective_from: date = Field(sa_column=Column(Date, nullable=False))
    effective_to: date | None = Field(default=None, sa_column=Column(Date, nullable=True))


class PayablesCostBookRow(SQLModel, table=True):
    """One published vendor cost book version; `tiers` is their JSON (prices as strings)."""

    __tablename__ = "payables_cost_books"
    __table_args__ = (Index("ix_payables_cost_books_vendor", "vendor_id"),)

    cost_book_id: str = Field(primary_key=True, max_length=64)
    version: int = Field(primary_key=True)
    vendor_id: str = Field(max_length=64)
    currency: str = Field(max_length=3)
    mode: str = Field(max_length=16)
    tier_period: str = Field(max_length=16)
    markup_percent: Decimal = Field(sa_column=Column(ExactDecimal(), nullable=False))
    tiers: str = Field(sa_column=Column(Text, nullable=False))
    effective_from: date = Field(sa_column=Column(Date, nullable=False))
    effective_to: date | None = Field(default=None, sa_column=Column(Date, nullable=True))


class PayablesSubscriptionRow(SQLModel, table=True):
    """A subscription as of its latest event."""

    __tablename__ = "payables_subscriptions"
    __table_args__ = (
        Index("ix_payables_subscriptions_product", "product_id"),
        Index("ix_payables_subscriptions_price", "price_id"),
        Index("ix_payables_subscriptions_account", "account_id"),
    )

    subscription_id: str = Field(primary_key=True, max_length=64)
    account_id: str = Field(max_length=64)
    product_id: str = Field(max_length=64)
    price_id: str = Field(max_length=64)
    price_version: int
    currency: str = Field(max_length=3)
    quantity: Decimal = Field(sa_column=Column(ExactDecimal(), nullable=False))
    commitment_quantity: Decimal = Field(sa_column=Column(ExactDecimal(), nullable=False))
    term_start: date = Field(sa_column=Column(Date, nullable=False))
    term_end: date = Field(sa_column=Column(Date, nullable=False))
    billing_period: str | None = Field(default=None, max_length=16)
    state: str = Field(max_length=20)
    event_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
