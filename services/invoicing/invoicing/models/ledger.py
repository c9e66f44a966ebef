"""The general ledger: journal entries and their lines (debits and credits per account)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Column, Date, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from libs.platform.db import ExactDecimal, UtcDateTime


class JournalEntryRow(SQLModel, table=True):
    """A balanced posting in one currency for one thing that happened (posted once: the unique key)."""

    __tablename__ = "journal_entries"
    __table_args__ = (
        UniqueConstraint("kind", "source_id", "currency", name="uq_journal_entries_source"),
        Index("ix_journal_entries_date", "entry_date", "id"),
    )

    id: str = Field(primary_key=True, max_length=40)
    kind: str = Field(max_length=20)
    entry_date: date = Field(sa_column=Column(Date, nullable=False))
    currency: str = Field(max_length=3)
    source_id: str = Field(max_length=64)
    account_id: str | None = Field(default=None, max_length=64)
    description: str = Field(max_length=500)
    created_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class JournalLineRow(SQLModel, table=True):
    """A debit or a credit of an entry to an account (date and currency kept for the trial balance)."""

    __tablename__ = "journal_lines"
    __table_args__ = (Index("ix_journal_lines_date", "entry_date", "gl_account"),)

    entry_id: str = Field(primary_key=True, max_length=40)
    line_no: int = Field(primary_key=True)
    gl_account: str = Field(max_length=20)
    gl_account_name: str = Field(max_length=100)
    entry_date: date = Field(sa_column=Column(Date, nullable=False))
    currency: str = Field(max_length=3)
    debit: Decimal = Field(sa_column=Column(ExactDecimal(), nullable=False))
    credit: Decimal = Field(sa_column=Column(ExactDecimal(), nullable=False))
