"""Tables of the rating service (its own database; the platform tables come from libs).

Money and quantities use `ExactDecimal`, timestamps `UtcDateTime`. Each concept's tables sit
under its own heading; the read model of other services' data (accounts, subscriptions) is
kept from their events and never written by this service's API.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Column, Date, Index, Integer, String
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
