"""Lockbox files and their lines.

`uq_lockbox_files_content_hash`: a file is imported once — the same bytes again find the first
import and change nothing. A line keeps what the bank sent, how it was matched and the payment it
made (none while unmatched; a manual application sets it).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Column, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from libs.platform.db import ExactDecimal, UtcDateTime


class LockboxFileRow(SQLModel, table=True):
    """An imported lockbox file."""

    __tablename__ = "lockbox_files"
    __table_args__ = (UniqueConstraint("content_hash", name="uq_lockbox_files_content_hash"),)

    id: str = Field(primary_key=True, max_length=40)
    content_hash: str = Field(max_length=64)
    filename: str | None = Field(default=None, max_length=200)
    imported_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class LockboxLineRow(SQLModel, table=True):
    """One check of a lockbox file."""

    __tablename__ = "lockbox_lines"
    __table_args__ = (UniqueConstraint("file_id", "number", name="uq_lockbox_lines_number"),)

    id: int | None = Field(default=None, primary_key=True)
    file_id: str = Field(sa_column=Column(String(40), ForeignKey("lockbox_files.id"), nullable=False))
    number: int = Field(sa_column=Column(Integer, nullable=False))
    check_number: str = Field(max_length=64)
    amount: Decimal | None = Field(default=None, sa_column=Column(ExactDecimal(), nullable=True))
    currency: str | None = Field(default=None, max_length=3)
    invoice_number: str | None = Field(default=None, max_length=200)
    account_id: str | None = Field(default=None, max_length=200)
    deposit_date: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    status: str = Field(max_length=16)
    reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    payment_id: str | None = Field(default=None, max_length=40)
