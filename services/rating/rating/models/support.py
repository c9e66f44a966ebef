"""Support contracts and requests (seed 004): templates from the catalog, contracts, requests,
time logged and its allocations."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Column, Date, Index, Integer, Text
from sqlmodel import Field, SQLModel

from libs.platform.db import ExactDecimal, UtcDateTime
from rating.models.columns import timestamp


class SupportContractTemplateRow(SQLModel, table=True):
    """A catalog support-contract template, kept from `catalog.contract_template_changed`."""

    __tablename__ = "support_contract_templates"

    template_id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    kind: str = Field(max_length=20)
    """subscription | time_limited | support_hours | per_incident"""
    period_months: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    hours: Decimal | None = Field(default=None, sa_column=Column(ExactDecimal(), nullable=True))
    on_expiry: str = Field(max_length=10)
    """rollover | ignore"""
    product_id: str | None = Field(default=None, max_length=64)
    event_at: datetime = Field(sa_column=timestamp())
    """`occurred_at` of the event last applied; an older event changes nothing."""


class SupportContractRow(SQLModel, table=True):
    """A support contract held by a subscription (the item) or an account (customer or org unit)."""

    __tablename__ = "support_contracts"
    __table_args__ = (Index("ix_support_contracts_holder", "holder_id", "holder_type"),)

    id: str = Field(primary_key=True, max_length=40)
    template_id: str = Field(max_length=64)
    kind: str = Field(max_length=20)
    holder_type: str = Field(max_length=12)
    """subscription | account"""
    holder_id: str = Field(max_length=64)
    account_id: str = Field(max_length=64)
    """The holder's account (the holder itself for an account)."""
    request_id: str | None = Field(default=None, max_length=40)
    """The request a per-incident contract covers."""
    product_id: str | None = Field(default=None, max_length=64)
    time_zone: str = Field(max_length=64)
    starts_on: date = Field(sa_column=Column(Date, nullable=False))
    ends_on: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    """Exclusive end of the period; null when the kind has none."""
    hours_granted: Decimal | None = Field(default=None, sa_column=Column(ExactDecimal(), nullable=True))
    hours_used: Decimal = Field(sa_column=Column(ExactDecimal(), nullable=False))
    on_expiry: str = Field(max_length=10)
    ended_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    """Set when its hours ran out or its per-incident request closed."""
    cancelled_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    version: int = Field(sa_column=Column(Integer, nullable=False))
    """Bumped on every change; a change made on a stale copy is refused."""
    created_at: datetime = Field(sa_column=timestamp())
    updated_at: datetime = Field(sa_column=timestamp())


class SupportRequestRow(SQLModel, table=True):
    """A service request on a subscription and the contract covering it."""

    __tablename__ = "support_requests"
    __table_args__ = (Index("ix_support_requests_subscription", "subscription_id"),)

    id: str = Field(primary_key=True, max_length=40)
    subscription_id: str = Field(max_length=64)
    account_id: str = Field(max_length=64)
    summary: str = Field(sa_column=Column(Text, nullable=False))
    opened_at: datetime = Field(sa_column=timestamp())
    closed_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    contract_id: str = Field(max_length=40)
    """The contract covering it now."""
    coverage_contract_id: str = Field(max_length=40)
    coverage_step: str = Field(max_length=20)
    """The step of the validation order that found its contract when it was opened."""
    hours_logged: Decimal = Field(sa_column=Column(ExactDecimal(), nullable=False))
    hours_covered: Decimal = Field(sa_column=Column(ExactDecimal(), nullable=False))
    hours_rolled_over: Decimal = Field(sa_column=Column(ExactDecimal(), nullable=False))
    hours_uncovered: Decimal = Field(sa_column=Column(ExactDecimal(), nullable=False))
    version: int = Field(sa_column=Column(Integer, nullable=False))
    created_at: datetime = Field(sa_column=timestamp())
    updated_at: datetime = Field(sa_column=timestamp())


class SupportTimeEntryRow(SQLModel, table=True):
    """Time logged on a request: covered, rolled over or not covered."""

    __tablename__ = "support_time_entries"
    __table_args__ = (Index("ix_support_time_entries_request", "request_id"),)

    id: str = Field(primary_key=True, max_length=40)
    request_id: str = Field(max_length=40)
    hours: Decimal = Field(sa_column=Column(ExactDecimal(), nullable=False))
    logged_at: datetime = Field(sa_column=timestamp())
    uncovered_hours: Decimal = Field(sa_column=Column(ExactDecimal(), nullable=False))
    expired_contract_ids: str = Field(sa_column=Column(Text, nullable=False))
    """JSON list of the contracts found expired or used up while this time was drawn."""
    contract_id: str = Field(max_length=40)
    """The contract covering the request after this entry."""
    created_at: datetime = Field(sa_column=timestamp())


class SupportTimeAllocationRow(SQLModel, table=True):
    """Hours of one time entry drawn from one contract (the covering one, or one rolled over to)."""

    __tablename__ = "support_time_allocations"
    __table_args__ = (Index("ix_support_time_allocations_contract", "contract_id"),)

    entry_id: str = Field(primary_key=True, max_length=40)
    position: int = Field(sa_column=Column(Integer, primary_key=True))
    contract_id: str = Field(max_length=40)
    hours: Decimal = Field(sa_column=Column(ExactDecimal(), nullable=False))
    rule: str = Field(max_length=10)
    """covering | rollover"""
