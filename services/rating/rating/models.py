"""Tables of the rating service (its own database; the platform tables come from libs).

Money and quantities use `ExactDecimal`, timestamps `UtcDateTime`. Each concept's tables sit
under its own heading; the read model of other services' data (accounts, subscriptions) is
kept from their events and never written by this service's API.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Boolean, Column, Date, Index, Integer, String, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

import libs.platform.audit
import libs.platform.idempotency
import libs.platform.inbox
import libs.platform.outbox  # noqa: F401
from libs.platform.db import ExactDecimal, UtcDateTime


def _timestamp() -> Column[datetime]:
    return Column(UtcDateTime(), nullable=False)


# --- read model: accounts and subscriptions, from provisioning's events -----------------------


class RatedAccount(SQLModel, table=True):
    """An account as rating needs it: its currency, bill-cycle day, time zone and parent."""

    __tablename__ = "rating_accounts"

    account_id: str = Field(primary_key=True, max_length=64)
    customer_id: str = Field(max_length=64)
    parent_account_id: str | None = Field(default=None, max_length=64)
    currency: str = Field(max_length=3)
    bill_cycle_day: int = Field(sa_column=Column(Integer, nullable=False))
    time_zone: str = Field(max_length=64)
    event_at: datetime = Field(sa_column=_timestamp())
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
    event_at: datetime = Field(sa_column=_timestamp())
    """`occurred_at` of the event last applied; an older event changes nothing."""
    event_kind: str = Field(sa_column=Column(String(40), nullable=False))
    """The type of the event last applied (`subscription.activated`, ...)."""


# --- meters ------------------------------------------------------------------------------------


class Meter(SQLModel, table=True):
    """What is counted and how: a code events name, an aggregation, a filter, the product priced."""

    __tablename__ = "meters"
    __table_args__ = (UniqueConstraint("code", name="uq_meters_code"),)

    id: str = Field(primary_key=True, max_length=40)
    code: str = Field(max_length=64)
    name: str = Field(max_length=200)
    unit_of_measure: str = Field(max_length=40)
    aggregation: str = Field(max_length=20)
    """sum | count | max | unique_count | latest"""
    property: str | None = Field(default=None, max_length=64)
    """The event property a unique_count meter counts distinct values of."""
    filter: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    """JSON {property: [allowed values]}: an event is counted only if it matches every entry."""
    product_id: str = Field(max_length=64)
    """The catalog product whose usage price rates this meter."""
    active: bool = Field(default=True, sa_column=Column(Boolean, nullable=False))
    created_at: datetime = Field(sa_column=_timestamp())
    updated_at: datetime = Field(sa_column=_timestamp())


# --- usage: accepted events (the dedup of both doors) and their aggregates --------------------


class UsageEventRow(SQLModel, table=True):
    """One accepted usage event; the primary key is the producer's event_id (a duplicate is ignored)."""

    __tablename__ = "usage_events"
    __table_args__ = (
        Index("ix_usage_events_series", "subscription_id", "meter", "period_start"),
        Index(
            "ix_usage_events_review",
            "received_at",
            sqlite_where=text("status = 'unmatched'"),
            postgresql_where=text("status = 'unmatched'"),
        ),
    )

    event_id: str = Field(primary_key=True, max_length=128)
    meter: str = Field(max_length=64)
    subscription_id: str | None = Field(default=None, max_length=64)
    account_id: str | None = Field(default=None, max_length=64)
    quantity: Decimal = Field(sa_column=Column(ExactDecimal(), nullable=False))
    occurred_at: datetime = Field(sa_column=_timestamp())
    usage_date: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    """The account-local date of `occurred_at` (null while unmatched: no account known)."""
    period_start: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    """The period it was counted in (the next open one when late); null unless counted."""
    status: str = Field(max_length=12)
    """counted | late | unmatched | filtered"""
    properties: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    """JSON object of the event's properties."""
    source: str = Field(max_length=12)
    """rest | topic | file"""
    load_id: str | None = Field(default=None, max_length=40)
    received_at: datetime = Field(sa_column=_timestamp())
    # usage changes (migration 0008):
    review_reason: str | None = Field(default=None, max_length=200)
    """Why an unmatched event found no subscription (the review queue shows it)."""


class UsageAggregate(SQLModel, table=True):
    """A subscription's meter over one billing period: the running aggregated quantity."""

    __tablename__ = "usage_aggregates"

    subscription_id: str = Field(primary_key=True, max_length=64)
    meter: str = Field(primary_key=True, max_length=64)
    period_start: date = Field(sa_column=Column(Date, primary_key=True))
    period_end: date = Field(sa_column=Column(Date, nullable=False))
    """Exclusive: the period is [period_start, period_end)."""
    account_id: str = Field(max_length=64)
    quantity: Decimal = Field(sa_column=Column(ExactDecimal(), nullable=False))
    """The meter's aggregation over the period's events (sum, count, max, distinct count, latest)."""
    event_count: int = Field(sa_column=Column(Integer, nullable=False))
    late_quantity: Decimal = Field(sa_column=Column(ExactDecimal(), nullable=False))
    """Sum of the quantities of late events counted here (informational)."""
    late_count: int = Field(sa_column=Column(Integer, nullable=False))
    latest_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    """Timestamp of the latest event (a `latest` meter's quantity is that event's)."""
    updated_at: datetime = Field(sa_column=_timestamp())
    rated_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    """Set when the period is rated and closed; later events for it go to the next open period."""


class UsageUniqueValue(SQLModel, table=True):
    """A distinct property value seen by a unique_count meter in one period of one subscription."""

    __tablename__ = "usage_unique_values"

    subscription_id: str = Field(primary_key=True, max_length=64)
    meter: str = Field(primary_key=True, max_length=64)
    period_start: date = Field(sa_column=Column(Date, primary_key=True))
    value: str = Field(primary_key=True, max_length=256)


# --- read model: prices and cost books, from the catalog's events; rated usage (period close) --


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
    event_at: datetime = Field(sa_column=_timestamp())
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
    event_at: datetime = Field(sa_column=_timestamp())


class RatedUsageRow(SQLModel, table=True):
    """One closed billing period of a subscription's meter, priced: what `usage.rated` carried.

    Unique per (subscription, meter, period start): closing a period twice cannot rate it twice.
    """

    __tablename__ = "rated_usage"
    __table_args__ = (
        UniqueConstraint("subscription_id", "meter", "period_start", name="uq_rated_usage_series"),
        Index("ix_rated_usage_account", "account_id", "period_start"),
    )

    id: str = Field(primary_key=True, max_length=40)
    subscription_id: str = Field(max_length=64)
    account_id: str = Field(max_length=64)
    product_id: str = Field(max_length=64)
    meter: str = Field(max_length=64)
    unit_of_measure: str = Field(max_length=40)
    period_start: date = Field(sa_column=Column(Date, nullable=False))
    period_end: date = Field(sa_column=Column(Date, nullable=False))
    quantity: Decimal = Field(sa_column=Column(ExactDecimal(), nullable=False))
    event_count: int = Field(sa_column=Column(Integer, nullable=False))
    late_quantity: Decimal = Field(sa_column=Column(ExactDecimal(), nullable=False))
    included_quantity: Decimal = Field(sa_column=Column(ExactDecimal(), nullable=False))
    prepaid_quantity: Decimal = Field(sa_column=Column(ExactDecimal(), nullable=False))
    billable_quantity: Decimal = Field(sa_column=Column(ExactDecimal(), nullable=False))
    currency: str = Field(max_length=3)
    price_id: str = Field(max_length=64)
    price_version: int = Field(sa_column=Column(Integer, nullable=False))
    pricing_model: str = Field(max_length=20)
    tiers: str = Field(sa_column=Column(Text, nullable=False))
    """JSON list of the unrounded tier breakdown (band_from, band_to, quantity, unit_price, fee, amount)."""
    charge_amount: Decimal = Field(sa_column=Column(ExactDecimal(), nullable=False))
    minimum_shortfall: Decimal = Field(sa_column=Column(ExactDecimal(), nullable=False))
    prepaid_amount: Decimal = Field(sa_column=Column(ExactDecimal(), nullable=False))
    amount: Decimal = Field(sa_column=Column(ExactDecimal(), nullable=False))
    rated_at: datetime = Field(sa_column=_timestamp())


# The period close scans the aggregates still to rate in key order: a partial index holds only
# those, so the scan never walks the rated history.
Index(
    "ix_usage_aggregates_unrated",
    UsageAggregate.__table__.c.subscription_id,  # type: ignore[attr-defined]
    UsageAggregate.__table__.c.meter,  # type: ignore[attr-defined]
    UsageAggregate.__table__.c.period_start,  # type: ignore[attr-defined]
    sqlite_where=text("rated_at IS NULL"),
    postgresql_where=text("rated_at IS NULL"),
)
