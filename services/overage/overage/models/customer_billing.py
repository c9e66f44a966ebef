"""Customer invoice lines that may bill resold service (from invoicing's `invoice.finalized`)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import Boolean, Column, Date, Index
from sqlmodel import Field, SQLModel

from libs.platform.db import ExactDecimal


class PayablesBilledLineRow(SQLModel, table=True):
    """One line of an issued customer invoice; `void` once invoicing voided the invoice."""

    __tablename__ = "payables_billed_lines"
    __table_args__ = (
        Index("ix_payables_billed_lines_period", "period_start", "account_id"),
        Index("ix_payables_billed_lines_rebill", "rebill_key"),
    )

    invoice_id: str = Field(primary_key=True, max_length=64)
    charge_key: str = Field(primary_key=True, max_length=200)
    account_id: str = Field(max_length=64)
    subscription_id: str | None = Field(default=None, max_length=64)
    currency: str = Field(max_length=3)
    period_start: date = Field(sa_column=Column(Date, nullable=False))
    period_end: date = Field(sa_column=Column(Date, nullable=False))
    invoice_date: date = Field(sa_column=Column(Date, nullable=False))
    amount: Decimal = Field(sa_column=Column(ExactDecimal(), nullable=False))
    void: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, default=False))
    rebill_key: str | None = Field(default=None, max_length=200)
    """Our overage charge key when the line re-bills one (migration 0005)."""
