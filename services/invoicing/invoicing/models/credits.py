"""Adjustments, credit notes with their lines, and disputes.

What the database itself guarantees:
- `uq_credit_notes_series_number`: a credit-note number is given once per series (`CN-2026`);
  the counter row is the invoices' series table, incremented in the issuing transaction, so
  numbers have no gap.
- `uq_disputes_open_line`: one dispute at a time (open or under review) per invoice line, or per
  whole invoice (`line_key` "").
- What may still be credited on an invoice is guarded by the invoice's row: the issuing
  transaction locks it (`SELECT ... FOR UPDATE` on PostgreSQL; SQLite's write lock is taken at
  BEGIN IMMEDIATE), so two notes issued at once are checked one after the other.
An adjustment's "applied" is not stored: it is derived from the invoice lines keyed
`adjustment:{id}` on invoices that are not void (see `repository/adjustments.py`).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Boolean, Column, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from libs.platform.columns import (
    exact_field,
)
from libs.platform.db import ExactDecimal, UtcDateTime

_ACTIVE_DISPUTE = text("state IN ('open', 'under_review')")


class AdjustmentRow(SQLModel, table=True):
    """A pre-billing credit or debit (a service credit too)."""

    __tablename__ = "adjustments"
    __table_args__ = (Index("ix_adjustments_account_cancelled", "account_id", "cancelled"),)

    id: str = Field(primary_key=True, max_length=40)
    account_id: str = Field(max_length=64)
    currency: str = Field(max_length=3)
    direction: str = Field(max_length=8)
    kind: str = Field(max_length=16)
    amount: Decimal = exact_field()
    reason: str = Field(sa_column=Column(Text, nullable=False))
    effective_date: date = Field(sa_column=Column(Date, nullable=False))
    subscription_id: str | None = Field(default=None, max_length=64)
    service_period_start: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    service_period_end: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    invoice_id: str | None = Field(default=None, max_length=40)
    dispute_id: str | None = Field(default=None, max_length=40)
    cancelled: bool = Field(sa_column=Column(Boolean, nullable=False))
    cancelled_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    cancel_reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    version: int = Field(sa_column=Column(Integer, nullable=False))


class CreditNoteRow(SQLModel, table=True):
    """An issued credit note; its totals are the sums of its rounded lines."""

    __tablename__ = "credit_notes"
    __table_args__ = (
        UniqueConstraint("series", "sequence_number", name="uq_credit_notes_series_number"),
        Index("ix_credit_notes_invoice", "invoice_id"),
        Index("ix_credit_notes_account", "account_id"),
    )

    id: str = Field(primary_key=True, max_length=40)
    invoice_id: str = Field(sa_column=Column(String(40), ForeignKey("invoices.id"), nullable=False))
    invoice_number: str = Field(max_length=24)
    account_id: str = Field(max_length=64)
    customer_id: str = Field(max_length=64)
    currency: str = Field(max_length=3)
    state: str = Field(max_length=16)
    series: str = Field(max_length=16)
    sequence_number: int = Field(sa_column=Column(Integer, nullable=False))
    number: str = Field(max_length=24)
    note_date: date = Field(sa_column=Column(Date, nullable=False))
    reason: str = Field(sa_column=Column(Text, nullable=False))
    subtotal: Decimal = exact_field()
    tax_total: Decimal = exact_field()
    total: Decimal = exact_field()
    account_credit: Decimal = exact_field()
    dispute_id: str | None = Field(default=None, max_length=40)
    created_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class CreditNoteLineRow(SQLModel, table=True):
    """One credited line, in its place."""

    __tablename__ = "credit_note_lines"

    credit_note_id: str = Field(
        sa_column=Column(String(40), ForeignKey("credit_notes.id"), primary_key=True, nullable=False)
    )
    position: int = Field(sa_column=Column(Integer, primary_key=True, nullable=False))
    charge_key: str | None = Field(default=None, max_length=200)
    description: str = Field(sa_column=Column(Text, nullable=False))
    amount: Decimal = exact_field()
    tax_amount: Decimal = exact_field()
    tax_rate: Decimal = exact_field()
    tax_code: str | None = Field(default=None, max_length=64)
    tax_jurisdiction: str | None = Field(default=None, max_length=128)


class DisputeRow(SQLModel, table=True):
    """A dispute on an invoice or one of its lines."""

    __tablename__ = "disputes"
    __table_args__ = (
        Index(
            "uq_disputes_open_line",
            "invoice_id",
            "line_key",
            unique=True,
            sqlite_where=_ACTIVE_DISPUTE,
            postgresql_where=_ACTIVE_DISPUTE,
        ),
        Index("ix_disputes_account", "account_id"),
    )

    id: str = Field(primary_key=True, max_length=40)
    invoice_id: str = Field(sa_column=Column(String(40), ForeignKey("invoices.id"), nullable=False))
    invoice_number: str = Field(max_length=24)
    account_id: str = Field(max_length=64)
    currency: str = Field(max_length=3)
    line_key: str = Field(max_length=200)
    disputed_amount: Decimal | None = Field(default=None, sa_column=Column(ExactDecimal(), nullable=True))
    reason: str = Field(sa_column=Column(Text, nullable=False))
    state: str = Field(max_length=16)
    resolution_note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    credited_amount: Decimal | None = Field(default=None, sa_column=Column(ExactDecimal(), nullable=True))
    credit_note_id: str | None = Field(default=None, max_length=40)
    opened_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    resolved_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    version: int = Field(sa_column=Column(Integer, nullable=False))
