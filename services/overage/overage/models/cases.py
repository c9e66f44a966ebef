"""Overage cases, their steps and the notices added to them (with the re-bill of each)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Boolean, Column, Date, Index, text
from sqlmodel import Field, SQLModel

from libs.platform.columns import exact_column, timestamp_column


class CaseRow(SQLModel, table=True):
    """An overage case; at most one open per tenant (a partial unique index says so)."""

    __tablename__ = "overage_cases"
    __table_args__ = (
        Index(
            "uq_overage_cases_open_tenant",
            "vendor_id",
            "tenant_ref",
            unique=True,
            sqlite_where=text("state <> 'closed'"),
            postgresql_where=text("state <> 'closed'"),
        ),
        Index("ix_overage_cases_state", "state", "id"),
    )

    id: str = Field(primary_key=True, max_length=40)
    vendor_id: str = Field(max_length=40)
    tenant_ref: str = Field(max_length=100)
    account_id: str = Field(max_length=64, index=True)
    subscription_id: str = Field(max_length=64)
    state: str = Field(max_length=30)
    decision: str | None = Field(default=None, max_length=10)
    opened_at: datetime = Field(sa_column=timestamp_column())
    state_entered_at: datetime = Field(sa_column=timestamp_column())
    paperwork_opened_at: datetime | None = Field(default=None, sa_column=timestamp_column(True))
    paperwork_signed_at: datetime | None = Field(default=None, sa_column=timestamp_column(True))
    removal_confirmed_at: datetime | None = Field(default=None, sa_column=timestamp_column(True))
    closed_at: datetime | None = Field(default=None, sa_column=timestamp_column(True))
    licensed_mismatch: bool = Field(sa_column=Column(Boolean, nullable=False))
    last_actual_count: Decimal = Field(sa_column=exact_column())
    escalated_state: str | None = Field(default=None, max_length=30)


class CaseStepRow(SQLModel, table=True):
    """One step of a case: the action, the state it led to, who and when."""

    __tablename__ = "overage_case_steps"

    id: str = Field(primary_key=True, max_length=40)
    case_id: str = Field(max_length=40, index=True)
    action: str = Field(max_length=40)
    state: str = Field(max_length=30)
    actor: str = Field(max_length=120)
    at: datetime = Field(sa_column=timestamp_column())
    note: str | None = Field(default=None, max_length=500)


class CaseNoticeRow(SQLModel, table=True):
    """A notice added to a case, with our licensed quantity then and the customer's re-bill."""

    __tablename__ = "overage_case_notices"

    notice_id: str = Field(primary_key=True, max_length=40)
    case_id: str = Field(max_length=40, index=True)
    notice_ref: str = Field(max_length=100)
    period_start: date = Field(sa_column=Column(Date, nullable=False))
    licensed_count: Decimal = Field(sa_column=exact_column())
    actual_count: Decimal = Field(sa_column=exact_column())
    overage_count: Decimal = Field(sa_column=exact_column())
    our_licensed_quantity: Decimal | None = Field(default=None, sa_column=exact_column(True))
    licensed_mismatch: bool = Field(sa_column=Column(Boolean, nullable=False))
    vendor_unit_cost: Decimal = Field(sa_column=exact_column())
    markup_percent: Decimal = Field(sa_column=exact_column())
    unit_price: Decimal = Field(sa_column=exact_column())
    amount: Decimal = Field(sa_column=exact_column())
    currency: str = Field(max_length=3)
    charge_key: str | None = Field(default=None, max_length=100)
