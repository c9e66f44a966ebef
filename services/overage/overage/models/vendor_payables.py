"""Vendor commitments, their expected annual invoices, and the vendor invoices received.

What the database itself guarantees:
- `uq_vendor_commitments_subscription`: one commitment per subscription;
- `uq_vendor_invoices_vendor_number`: a vendor's invoice number is recorded once;
- `uq_vendor_invoices_expected`: an expected invoice is matched by one received invoice at most.
Vendors are the vendor registry's (`vendors`): referenced by id, no foreign key.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Column, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from libs.platform.db import ExactDecimal, UtcDateTime


class VendorCommitmentRow(SQLModel, table=True):
    """A resold term bought from a vendor."""

    __tablename__ = "vendor_commitments"
    __table_args__ = (
        UniqueConstraint("subscription_id", name="uq_vendor_commitments_subscription"),
        Index("ix_vendor_commitments_account", "account_id"),
    )

    id: str = Field(primary_key=True, max_length=40)
    vendor_id: str = Field(max_length=64)
    account_id: str = Field(max_length=64)
    subscription_id: str = Field(max_length=64)
    product_id: str | None = Field(default=None, max_length=64)
    cost_book_id: str = Field(max_length=64)
    cost_book_version: int
    currency: str = Field(max_length=3)
    seats: Decimal = Field(sa_column=Column(ExactDecimal(), nullable=False))
    term_start: date = Field(sa_column=Column(Date, nullable=False))
    term_end: date = Field(sa_column=Column(Date, nullable=False))
    unit_cost: Decimal = Field(sa_column=Column(ExactDecimal(), nullable=False))
    book_period: str = Field(max_length=16)
    annual_amount: Decimal = Field(sa_column=Column(ExactDecimal(), nullable=False))
    source: str = Field(max_length=16)
    created_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class ExpectedVendorInvoiceRow(SQLModel, table=True):
    """One annual vendor invoice a commitment makes us expect."""

    __tablename__ = "expected_vendor_invoices"
    __table_args__ = (
        UniqueConstraint("commitment_id", "sequence", name="uq_expected_vendor_invoices_sequence"),
        Index("ix_expected_vendor_invoices_match", "vendor_id", "period_start", "subscription_id"),
    )

    id: str = Field(primary_key=True, max_length=48)
    commitment_id: str = Field(
        sa_column=Column(String(40), ForeignKey("vendor_commitments.id"), nullable=False)
    )
    sequence: int = Field(sa_column=Column(Integer, nullable=False))
    vendor_id: str = Field(max_length=64)
    account_id: str = Field(max_length=64)
    subscription_id: str = Field(max_length=64)
    currency: str = Field(max_length=3)
    period_start: date = Field(sa_column=Column(Date, nullable=False))
    period_end: date = Field(sa_column=Column(Date, nullable=False))
    amount: Decimal = Field(sa_column=Column(ExactDecimal(), nullable=False))


class VendorInvoiceRow(SQLModel, table=True):
    """A vendor's invoice to us."""

    __tablename__ = "vendor_invoices"
    __table_args__ = (
        UniqueConstraint("vendor_id", "number", name="uq_vendor_invoices_vendor_number"),
        UniqueConstraint("expected_invoice_id", name="uq_vendor_invoices_expected"),
        Index("ix_vendor_invoices_account_period", "account_id", "period_start"),
    )

    id: str = Field(primary_key=True, max_length=40)
    vendor_id: str = Field(max_length=64)
    number: str = Field(max_length=64)
    kind: str = Field(max_length=16)
    account_id: str = Field(max_length=64)
    subscription_id: str | None = Field(default=None, max_length=64)
    overage_case_id: str | None = Field(default=None, max_length=64)
    expected_invoice_id: str | None = Field(default=None, max_length=48)
    currency: str = Field(max_length=3)
    amount: Decimal = Field(sa_column=Column(ExactDecimal(), nullable=False))
    expected_amount: Decimal | None = Field(default=None, sa_column=Column(ExactDecimal(), nullable=True))
    match: str = Field(max_length=16)
    invoice_date: date = Field(sa_column=Column(Date, nullable=False))
    period_start: date = Field(sa_column=Column(Date, nullable=False))
    period_end: date = Field(sa_column=Column(Date, nullable=False))
    source: str = Field(max_length=16)
    state: str = Field(max_length=16)
    received_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    received_by: str = Field(max_length=120)
    approved_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    approved_by: str | None = Field(default=None, max_length=120)
    approval_note: str | None = Field(default=None, max_length=2000)
    paid_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    paid_by: str | None = Field(default=None, max_length=120)
    payment_reference: str | None = Field(default=None, max_length=120)
    version: int = Field(sa_column=Column(Integer, nullable=False))
