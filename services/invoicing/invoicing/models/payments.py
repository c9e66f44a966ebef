"""Payment methods (tokens and their earlier versions), payments, their allocations, gateway
attempts and refunds.

What the database itself guarantees:
- `uq_payment_attempts_number`: an attempt number is taken once per payment, so two retry runs
  of one day cannot both record (and apply) the same retry.
- `uq_payment_allocations_position`: allocations of a payment are numbered in the order made;
  a refund takes back the latest first.
- A payment's row is the guard of its money: refunds and reversals lock it (`SELECT ... FOR
  UPDATE`; SQLite takes its write lock at BEGIN IMMEDIATE), and invoices are locked before money
  is applied to them (`invoices.lock`).
The account's credit is not a table: it is the sum of `payments.unapplied` of its received
payments (`ix_payments_account_credit`).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Column, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from libs.platform.columns import (
    exact_field,
)
from libs.platform.db import UtcDateTime


class PaymentMethodRow(SQLModel, table=True):
    """A stored way to pay: a card token, an ACH mandate, a check or a wire (never a card number)."""

    __tablename__ = "payment_methods"
    __table_args__ = (Index("ix_payment_methods_account", "account_id"),)

    id: str = Field(primary_key=True, max_length=40)
    account_id: str = Field(max_length=64)
    kind: str = Field(max_length=8)
    label: str | None = Field(default=None, max_length=200)
    token: str | None = Field(default=None, max_length=200)
    brand: str | None = Field(default=None, max_length=32)
    last_four: str | None = Field(default=None, max_length=4)
    exp_month: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    exp_year: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    token_version: int = Field(sa_column=Column(Integer, nullable=False))
    mandate_id: str | None = Field(default=None, max_length=100)
    bank_last_four: str | None = Field(default=None, max_length=4)
    created_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    updated_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    version: int = Field(sa_column=Column(Integer, nullable=False))


class PaymentMethodTokenRow(SQLModel, table=True):
    """A card token a method held before the account updater replaced it."""

    __tablename__ = "payment_method_tokens"

    payment_method_id: str = Field(
        sa_column=Column(String(40), ForeignKey("payment_methods.id"), primary_key=True, nullable=False)
    )
    token_version: int = Field(sa_column=Column(Integer, primary_key=True, nullable=False))
    token: str = Field(max_length=200)
    brand: str = Field(max_length=32)
    last_four: str = Field(max_length=4)
    exp_month: int = Field(sa_column=Column(Integer, nullable=False))
    exp_year: int = Field(sa_column=Column(Integer, nullable=False))
    replaced_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class PaymentRow(SQLModel, table=True):
    """A payment; `unapplied` is the account credit it still holds."""

    __tablename__ = "payments"
    __table_args__ = (
        Index("ix_payments_account_credit", "account_id", "currency", "state"),
        Index("ix_payments_retry", "state", "next_retry_on"),
    )

    id: str = Field(primary_key=True, max_length=40)
    account_id: str = Field(max_length=64)
    currency: str = Field(max_length=3)
    amount: Decimal = exact_field()
    method_kind: str = Field(max_length=8)
    payment_method_id: str | None = Field(default=None, max_length=40)
    reference: str | None = Field(default=None, max_length=200)
    requested_invoice_ids: str = Field(sa_column=Column(Text, nullable=False))
    """JSON list of the invoice ids the caller named."""
    state: str = Field(max_length=12)
    received_on: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    received_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    unapplied: Decimal = exact_field()
    refunded: Decimal = exact_field()
    next_retry_on: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    reversal_reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    lockbox_line: str | None = Field(default=None, max_length=60)
    created_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    version: int = Field(sa_column=Column(Integer, nullable=False))


class PaymentAllocationRow(SQLModel, table=True):
    """Money of a payment applied to an invoice; `returned` is what refunds took back."""

    __tablename__ = "payment_allocations"
    __table_args__ = (
        UniqueConstraint("payment_id", "position", name="uq_payment_allocations_position"),
        Index("ix_payment_allocations_invoice", "invoice_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    payment_id: str = Field(sa_column=Column(String(40), ForeignKey("payments.id"), nullable=False))
    position: int = Field(sa_column=Column(Integer, nullable=False))
    invoice_id: str = Field(max_length=40)
    invoice_number: str = Field(max_length=24)
    amount: Decimal = exact_field()
    returned: Decimal = exact_field()
    source: str = Field(max_length=16)
    applied_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class PaymentAttemptRow(SQLModel, table=True):
    """One try through the gateway, with the Level 2/3 data sent (JSON)."""

    __tablename__ = "payment_attempts"
    __table_args__ = (UniqueConstraint("payment_id", "number", name="uq_payment_attempts_number"),)

    id: int | None = Field(default=None, primary_key=True)
    payment_id: str = Field(sa_column=Column(String(40), ForeignKey("payments.id"), nullable=False))
    number: int = Field(sa_column=Column(Integer, nullable=False))
    attempted_on: date = Field(sa_column=Column(Date, nullable=False))
    attempted_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    outcome: str = Field(max_length=12)
    token: str = Field(max_length=200)
    decline_code: str | None = Field(default=None, max_length=64)
    message: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    gateway_reference: str | None = Field(default=None, max_length=200)
    enhanced_data: str = Field(sa_column=Column(Text, nullable=False))


class PaymentRefundRow(SQLModel, table=True):
    """A refund or reversal: what it took from the account credit and from which invoices (JSON)."""

    __tablename__ = "payment_refunds"
    __table_args__ = (Index("ix_payment_refunds_account", "account_id", "currency"),)

    id: str = Field(primary_key=True, max_length=40)
    payment_id: str = Field(sa_column=Column(String(40), ForeignKey("payments.id"), nullable=False))
    account_id: str = Field(max_length=64)
    currency: str = Field(max_length=3)
    kind: str = Field(max_length=10)
    amount: Decimal = exact_field()
    account_credit_used: Decimal = exact_field()
    taken_back: str = Field(sa_column=Column(Text, nullable=False))
    reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    gateway_reference: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
