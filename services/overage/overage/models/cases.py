"""Overage cases, their steps and the notices added to them (with the re-bill of each)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Boolean, Column, Date, Index, text
from sqlmodel import Field, SQLModel

from libs.platform.columns import (
    exact_field,
    timestamp_field,
)


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
    opened_at: datetime = timestamp_field()
    state_entered_at: datetime = timestamp_field()
    paperwork_opened_at: datetime | None = timestamp_field(nullable=True)
    paperwork_signed_at: datetime | None = timestamp_field(nullable=True)
    removal_confirmed_at: datetime | None = timestamp_field(nullable=True)
    closed_at: datetime | None = timestamp_field(nullable=True)
    licensed_mismatch: bool = Field(sa_column=Column(Boolean, nullable=False))
    last_actual_count: Decimal = exact_field()
    escalated_state: str | None = Field(default=None, max_length=30)


class CaseStepRow(SQLModel, table=True):
    """One step of a case: the action, the state it led to, who and when."""

    __tablename__ = "overage_case_steps"

    id: str = Field(primary_key=True, max_length=40)
    case_id: str = Field(max_length=40, index=True)
    action: str = Field(max_length=40)
    state: str = Field(max_length=30)
    actor: str = Field(max_length=120)
    at: datetime = timestamp_field()
    note: str | None = Field(default=None, max_length=500)


class CaseNoticeRow(SQLModel, table=True):
    """A notice added to a case, with our licensed quantity then and the customer's re-bill."""

    __tablename__ = "overage_case_notices"

    notice_id: str = Field(primary_key=True, max_length=40)
    case_id: str = Field(max_length=40, index=True)
    notice_ref: str = Field(max_length=100)
    period_start: date = Field(sa_column=Column(Date, nullable=False))
    licensed_count: Decimal = exact_field()
    actual_count: Decimal = exact_field()
    overage_count: Decimal = exact_field()
    our_licensed_quantity: Decimal | None = exact_field(nullable=True)
    licensed_mismatch: bool = Field(sa_column=Column(Boolean, nullable=False))
    vendor_unit_cost: Decimal = exact_field()
    markup_percent: Decimal = exact_field()
    unit_price: Decimal = exact_field()
    amount: Decimal = exact_field()
    currency: str = Field(max_length=3)
    charge_key: str | None = Field(default=None, max_length=100)
