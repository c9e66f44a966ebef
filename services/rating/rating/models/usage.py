"""Usage: accepted events (the dedup of both doors), their aggregates, and the rated periods
(what `usage.rated` carried at period close)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, Column, Date, Index, Integer, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from libs.platform.db import ExactDecimal, UtcDateTime
from rating.models.columns import timestamp


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
    occurred_at: datetime = Field(sa_column=timestamp())
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
    received_at: datetime = Field(sa_column=timestamp())
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
    updated_at: datetime = Field(sa_column=timestamp())
    rated_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    """Set when the period is rated and closed; later events for it go to the next open period."""


class UsageUniqueValue(SQLModel, table=True):
    """A distinct property value seen by a unique_count meter in one period of one subscription."""

    __tablename__ = "usage_unique_values"

    subscription_id: str = Field(primary_key=True, max_length=64)
    meter: str = Field(primary_key=True, max_length=64)
    period_start: date = Field(sa_column=Column(Date, primary_key=True))
    value: str = Field(primary_key=True, max_length=256)


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
    rated_at: datetime = Field(sa_column=timestamp())


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


class UsageGeneration(SQLModel, table=True):
    """One row: the token of the batch that last wrote `usage_aggregates`, or bumped by
    triggers on any other change of them (migration 0011)."""

    __tablename__ = "rating_usage_generation"

    id: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    generation: int = Field(sa_column=Column(BigInteger, nullable=False))
