"""Rating's read model of other services' data, kept from their events and never written by this
service's API: accounts and subscriptions (provisioning), prices and cost books (catalog)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, Column, Date, Index, Integer, String, Text
from sqlmodel import Field, SQLModel

from libs.platform.db import ExactDecimal
from rating.models.columns import timestamp


class RatedAccount(SQLModel, table=True):
    """An account as rating needs it: its currency, bill-cycle day, time zone and parent."""

    __tablename__ = "rating_accounts"

    account_id: str = Field(primary_key=True, max_length=64)
    customer_id: str = Field(max_length=64)
    parent_account_id: str | None = Field(default=None, max_length=64)
    currency: str = Field(max_length=3)
    bill_cycle_day: int = Field(sa_column=Column(Integer, nullable=False))
    time_zone: str = Field(max_length=64)
    event_at: datetime = Field(sa_column=timestamp())
    """`occurred_at` of the event last applied; an older event changes nothing."""


class RatedSubscription(SQLModel, table=True):
    """A subscription as rating needs it: the pinned price version, its period and its state."""

    __tablename__ = "rating_subscriptions"
    __table_args__ = (Index("ix_rating_subscriptions_account_product", "account_id", "product_id"),)

    subscription_id: str = Field(primary_key=True, max_length=64)
    account_id: str = Field(max_length=64)
    product_id: str = Field(max_length=64)
    price_id: str = Field(max_length=64)
    price_version: int = Field(sa_column=Column(Integer, nullable=False))
    currency: str = Field(max_length=3)
    charge_type: str | None = Field(default=None, max_length=20)
    billing_period: str | None = Field(default=None, max_length=20)
    state: str = Field(max_length=20)
    quantity: Decimal = Field(sa_column=Column(ExactDecimal(), nullable=False))
    term_start: date = Field(sa_column=Column(Date, nullable=False))
    term_end: date = Field(sa_column=Column(Date, nullable=False))
    effective_date: date = Field(sa_column=Column(Date, nullable=False))
    event_at: datetime = Field(sa_column=timestamp())
    """`occurred_at` of the event last applied; an older event changes nothing."""
    event_kind: str = Field(sa_column=Column(String(40), nullable=False))
    """The type of the event last applied (`subscription.activated`, ...)."""


class ReadModelGeneration(SQLModel, table=True):
    """One row: bumped by triggers on every change of the two tables above (migration 0010)."""

    __tablename__ = "rating_read_model_generation"

    id: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    generation: int = Field(sa_column=Column(BigInteger, nullable=False))


class RatedPrice(SQLModel, table=True):
    """A published catalog price version as rating prices usage with it (from `catalog.price_published`)."""

    __tablename__ = "rating_prices"
    __table_args__ = (Index("ix_rating_prices_product", "product_id", "currency", "charge_type"),)

    price_id: str = Field(primary_key=True, max_length=64)
    version: int = Field(sa_column=Column(Integer, primary_key=True))
    product_id: str = Field(max_length=64)
    currency: str = Field(max_length=3)
    charge_type: str = Field(max_length=20)
    billing_period: str | None = Field(default=None, max_length=20)
    model: str = Field(max_length=20)
    terms: str = Field(sa_column=Column(Text, nullable=False))
    """JSON of the pricing terms, decimals as strings (unit_price, amount, tiers, package_size,
    included_quantity, minimum_commitment, cost_book_id)."""
    effective_from: date = Field(sa_column=Column(Date, nullable=False))
    effective_to: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    """Exclusive; set by the successor's `previous_version_effective_to`."""
    event_at: datetime = Field(sa_column=timestamp())
    """`occurred_at` of the event last applied; an older event changes nothing."""


class RatedCostBook(SQLModel, table=True):
    """A vendor cost book version a cost-plus price is priced with (from `catalog.cost_book_published`)."""

    __tablename__ = "rating_cost_books"

    cost_book_id: str = Field(primary_key=True, max_length=64)
    version: int = Field(sa_column=Column(Integer, primary_key=True))
    vendor_id: str = Field(max_length=64)
    currency: str = Field(max_length=3)
    mode: str = Field(max_length=20)
    tier_period: str = Field(max_length=20)
    markup_percent: Decimal = Field(sa_column=Column(ExactDecimal(), nullable=False))
    tiers: str = Field(sa_column=Column(Text, nullable=False))
    """JSON list of {up_to, unit_price, flat_fee}, decimals as strings."""
    effective_from: date = Field(sa_column=Column(Date, nullable=False))
    effective_to: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    event_at: datetime = Field(sa_column=timestamp())
