"""Revenue schedules: one per invoice line, its months, the credits taken off it, and the
recognition runs that posted months to the ledger."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Column, Date, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from libs.platform.columns import (
    exact_field,
)
from libs.platform.db import UtcDateTime


class RevenueScheduleRow(SQLModel, table=True):
    """The recognition of one line of an issued invoice (`invoice.finalized`)."""

    __tablename__ = "revenue_schedules"
    __table_args__ = (
        UniqueConstraint("invoice_id", "charge_key", name="uq_revenue_schedules_invoice_line"),
        Index("ix_revenue_schedules_account", "account_id"),
        Index("ix_revenue_schedules_product", "product_id"),
    )

    id: str = Field(primary_key=True, max_length=40)
    invoice_id: str = Field(max_length=40)
    invoice_number: str = Field(max_length=24)
    account_id: str = Field(max_length=64)
    currency: str = Field(max_length=3)
    charge_key: str = Field(max_length=200)
    description: str = Field(max_length=500)
    product_id: str | None = Field(default=None, max_length=64)
    rule: str = Field(max_length=20)
    invoice_date: date = Field(sa_column=Column(Date, nullable=False))
    billed_month: str = Field(max_length=7)
    """`YYYY-MM` of the invoice date: the month the waterfall counts the line as billed."""
    period_start: date = Field(sa_column=Column(Date, nullable=False))
    period_end: date = Field(sa_column=Column(Date, nullable=False))
    amount: Decimal = exact_field()
    tax_amount: Decimal = exact_field()
    credited: Decimal = exact_field()
    tax_credited: Decimal = exact_field()
    created_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class RevenueScheduleMonthRow(SQLModel, table=True):
    """What a schedule recognises in one month; `journal_entry_id` once posted to the ledger."""

    __tablename__ = "revenue_schedule_months"
    __table_args__ = (Index("ix_revenue_schedule_months_month", "month", "currency"),)

    schedule_id: str = Field(primary_key=True, max_length=40)
    month: str = Field(primary_key=True, max_length=7)
    currency: str = Field(max_length=3)
    recognize_on: date = Field(sa_column=Column(Date, nullable=False))
    amount: Decimal = exact_field()
    journal_entry_id: str | None = Field(default=None, max_length=40)


class RevenueCreditRow(SQLModel, table=True):
    """A credit note's (or a void's) share of a schedule: recognised share reversed on its date,
    deferred share taken off the months to come."""

    __tablename__ = "revenue_credits"
    __table_args__ = (Index("ix_revenue_credits_month", "month", "currency"),)

    schedule_id: str = Field(primary_key=True, max_length=40)
    credit_id: str = Field(primary_key=True, max_length=40)
    credit_date: date = Field(sa_column=Column(Date, nullable=False))
    month: str = Field(max_length=7)
    currency: str = Field(max_length=3)
    recognized_share: Decimal = exact_field()
    deferred_share: Decimal = exact_field()
    tax_share: Decimal = exact_field()


class RecognitionPostingRow(SQLModel, table=True):
    """What one recognition run posted for a month and currency (one journal entry)."""

    __tablename__ = "revenue_recognition_postings"
    __table_args__ = (Index("ix_revenue_recognition_postings_month", "month"),)

    journal_entry_id: str = Field(primary_key=True, max_length=40)
    month: str = Field(max_length=7)
    currency: str = Field(max_length=3)
    amount: Decimal = exact_field()
    schedule_months: int
    posted_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
