"""Invoices, their lines and the counters of their number series.

What the database itself guarantees (whatever the bill run does — repeated, run twice at once,
killed halfway and restarted):

- `uq_invoices_billing_period`: at most one invoice that is not void per account, currency,
  period and run (`run_kind` + `run_source_id`: "" for the cycle run, the fulfillment id for
  a fulfillment's on-demand run). A second draft for the same key fails on insert; the handler
  then answers with the invoice already there.
- `uq_invoices_series_number`: a number is given once per series; with the counter row
  (`invoice_number_series`) incremented in the finalizing transaction, numbers have no gap.
- `uq_invoice_lines_invoice_charge`: a charge at most once on an invoice.
- `uq_invoice_lines_charge_billed`: a charge key is billed at most once *after* a given earlier
  billing of it (`billed_after`: the invoice that last billed it, "" for none) among lines of
  invoices that are not void. A charge may be billed again only for a difference (a mid-period
  upgrade), and only by a run that saw the earlier billing: two runs that computed the same
  charge from the same state cannot both store it — the second fails and recomputes. (A plain
  unique charge key per account would forbid the difference lines the charge calculation makes.)
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

_NOT_VOID = text("state <> 'void'")
_LINE_NOT_VOID = text("NOT voided")


class InvoiceRow(SQLModel, table=True):
    """One invoice; its totals are the sums of its rounded lines, kept for lists and look-ups."""

    __tablename__ = "invoices"
    __table_args__ = (
        Index(
            "uq_invoices_billing_period",
            "account_id",
            "currency",
            "period_start",
            "period_end",
            "run_kind",
            "run_source_id",
            unique=True,
            sqlite_where=_NOT_VOID,
            postgresql_where=_NOT_VOID,
        ),
        UniqueConstraint("series", "sequence_number", name="uq_invoices_series_number"),
        Index("ix_invoices_account_state", "account_id", "state"),
    )

    id: str = Field(primary_key=True, max_length=40)
    account_id: str = Field(max_length=64)
    customer_id: str = Field(max_length=64)
    currency: str = Field(max_length=3)
    period_start: date = Field(sa_column=Column(Date, nullable=False))
    period_end: date = Field(sa_column=Column(Date, nullable=False))
    run_kind: str = Field(max_length=12)
    run_source_id: str = Field(max_length=64)
    state: str = Field(max_length=16)
    bill_to_name: str = Field(max_length=200)
    bill_to_email: str | None = Field(default=None, max_length=254)
    bill_to_country: str | None = Field(default=None, max_length=64)
    bill_to_region: str | None = Field(default=None, max_length=64)
    bill_to_postal_code: str | None = Field(default=None, max_length=32)
    tax_certificate: str | None = Field(default=None, max_length=64)
    time_zone: str = Field(max_length=64)
    payment_terms_days: int = Field(sa_column=Column(Integer, nullable=False))
    locale: str = Field(max_length=16)
    tax_exemption_note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    memo: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    series: str | None = Field(default=None, max_length=16)
    sequence_number: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    number: str | None = Field(default=None, max_length=24)
    invoice_date: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    due_date: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    subtotal: Decimal = exact_field()
    discount_total: Decimal = exact_field()
    tax_total: Decimal = exact_field()
    total: Decimal = exact_field()
    amount_paid: Decimal = exact_field()
    credited: Decimal = exact_field()
    written_off: Decimal = exact_field()
    written_off_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    created_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    finalized_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    voided_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    void_reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    version: int = Field(sa_column=Column(Integer, nullable=False))


class InvoiceLineRow(SQLModel, table=True):
    """One line of an invoice, in its place; `voided` follows its invoice's state."""

    __tablename__ = "invoice_lines"
    __table_args__ = (
        UniqueConstraint("invoice_id", "charge_key", name="uq_invoice_lines_invoice_charge"),
        Index(
            "uq_invoice_lines_charge_billed",
            "account_id",
            "charge_key",
            "billed_after",
            unique=True,
            sqlite_where=_LINE_NOT_VOID,
            postgresql_where=_LINE_NOT_VOID,
        ),
    )

    invoice_id: str = Field(
        sa_column=Column(String(40), ForeignKey("invoices.id"), primary_key=True, nullable=False)
    )
    position: int = Field(sa_column=Column(Integer, primary_key=True, nullable=False))
    account_id: str = Field(max_length=64)
    charge_key: str = Field(max_length=200)
    billed_after: str = Field(max_length=40)
    voided: bool = Field(sa_column=Column(Boolean, nullable=False))
    kind: str = Field(max_length=32)
    description: str = Field(sa_column=Column(Text, nullable=False))
    currency: str = Field(max_length=3)
    subscription_id: str | None = Field(default=None, max_length=64)
    product_id: str | None = Field(default=None, max_length=64)
    price_id: str | None = Field(default=None, max_length=64)
    price_version: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    period_start: date = Field(sa_column=Column(Date, nullable=False))
    period_end: date = Field(sa_column=Column(Date, nullable=False))
    quantity: Decimal = exact_field()
    unit_price: Decimal | None = Field(default=None, sa_column=Column(ExactDecimal(), nullable=True))
    list_amount: Decimal = exact_field()
    discount_amount: Decimal = exact_field()
    amount: Decimal = exact_field()
    tax_code: str | None = Field(default=None, max_length=64)
    tax_rate: Decimal = exact_field()
    tax_amount: Decimal = exact_field()
    tax_jurisdiction: str | None = Field(default=None, max_length=128)
    source_kind: str = Field(max_length=32)
    source_id: str = Field(max_length=200)


class InvoiceNumberSeries(SQLModel, table=True):
    """The last number given in one series (`INV-2026`): incremented in the finalizing transaction."""

    __tablename__ = "invoice_number_series"

    series: str = Field(primary_key=True, max_length=16)
    last_number: int = Field(sa_column=Column(Integer, nullable=False))
