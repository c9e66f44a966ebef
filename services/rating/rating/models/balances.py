"""Balances: prepaid money or units, their grants and every movement."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Column, Date, Index, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from libs.platform.db import ExactDecimal
from rating.models.columns import timestamp


class BalanceRow(SQLModel, table=True):
    """A prepaid balance of an account (optionally of one subscription): its terms and totals."""

    __tablename__ = "balances"
    __table_args__ = (
        Index("ix_balances_owner", "account_id", "subscription_id"),
        Index("ix_balances_due", "due_on"),
    )

    id: str = Field(primary_key=True, max_length=40)
    account_id: str = Field(max_length=64)
    subscription_id: str | None = Field(default=None, max_length=64)
    kind: str = Field(max_length=10)
    """money | units"""
    currency: str = Field(max_length=3)
    """The money balance's currency; for units, the currency of the prices paid (refunds)."""
    meter: str | None = Field(default=None, max_length=64)
    unit_label: str | None = Field(default=None, max_length=40)
    rollover_policy: str = Field(max_length=10)
    """none | all | up_to"""
    rollover_limit: Decimal | None = Field(default=None, sa_column=Column(ExactDecimal(), nullable=True))
    thresholds: str = Field(sa_column=Column(Text, nullable=False))
    """JSON list of percents (decimal strings)."""
    expires_on: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    period_start: date = Field(sa_column=Column(Date, nullable=False))
    """First day of the current period; the next period end to book follows it."""
    granted: Decimal = Field(sa_column=Column(ExactDecimal(), nullable=False))
    used: Decimal = Field(sa_column=Column(ExactDecimal(), nullable=False))
    expired: Decimal = Field(sa_column=Column(ExactDecimal(), nullable=False))
    refunded: Decimal = Field(sa_column=Column(ExactDecimal(), nullable=False))
    rolled_over: Decimal = Field(sa_column=Column(ExactDecimal(), nullable=False))
    cycle_base: Decimal = Field(sa_column=Column(ExactDecimal(), nullable=False))
    """What was usable just after the last grant or top-up (thresholds are percents of it)."""
    cycle_used: Decimal = Field(sa_column=Column(ExactDecimal(), nullable=False))
    thresholds_crossed: str = Field(sa_column=Column(Text, nullable=False))
    """JSON list of the thresholds already reported in this grant cycle."""
    closed_on: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    closing_on: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    """The effective date of its subscription's cancellation: refunded and closed then."""
    closing_event_id: str | None = Field(default=None, max_length=64)
    """The `subscription.cancelled` event that closes it."""
    due_on: date = Field(sa_column=Column(Date, nullable=False))
    """The next date something is to be booked (a period end, a grant's expiry): what the job looks for."""
    created_at: datetime = Field(sa_column=timestamp())
    updated_at: datetime = Field(sa_column=timestamp())


class BalanceTransactionRow(SQLModel, table=True):
    """One movement of a balance; grants (grant, top_up, rollover_in) also carry what is open of them.

    The unique key books each movement once: a drawdown reference once per grant, a grant's
    expiry once, a period end's rollover once per grant, a cancellation's refund once per grant.
    """

    __tablename__ = "balance_transactions"
    __table_args__ = (
        UniqueConstraint("balance_id", "kind", "reference", "grant_id", name="uq_balance_transactions_once"),
        Index("ix_balance_transactions_balance", "balance_id", "id"),
        Index("ix_balance_transactions_reference", "account_id", "reference"),
        Index(
            "ix_balance_transactions_open",
            "balance_id",
            sqlite_where=text("open_quantity IS NOT NULL"),
            postgresql_where=text("open_quantity IS NOT NULL"),
        ),
    )

    id: str = Field(primary_key=True, max_length=40)
    balance_id: str = Field(max_length=40, foreign_key="balances.id")
    account_id: str = Field(max_length=64)
    kind: str = Field(max_length=16)
    quantity: Decimal = Field(sa_column=Column(ExactDecimal(), nullable=False))
    unit_price: Decimal | None = Field(default=None, sa_column=Column(ExactDecimal(), nullable=True))
    amount: Decimal | None = Field(default=None, sa_column=Column(ExactDecimal(), nullable=True))
    """Money value of a refund."""
    grant_id: str | None = Field(default=None, max_length=40)
    """The grant a drawdown, expiry, rollover or refund consumed (for rollover_in: where it came from)."""
    open_quantity: Decimal | None = Field(default=None, sa_column=Column(ExactDecimal(), nullable=True))
    """On grants: what is still open of them; null once nothing is (and on other movements)."""
    expires_on: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    reference: str | None = Field(default=None, max_length=128)
    occurred_on: date = Field(sa_column=Column(Date, nullable=False))
    """The account-local business date of the movement."""
    created_at: datetime = Field(sa_column=timestamp())
