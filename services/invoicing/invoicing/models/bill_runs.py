"""Tables of bill runs: the runs, the chunks each counted (with amounts per currency) and the
accounts that failed.

A chunk's row is its claim: its primary key (run, chunk) makes a chunk count once, whichever
replica gets it and however often it is delivered. The run's progress is the sum of its chunk
rows, so no chunk's transaction writes the run's row (replicas never wait on each other for it).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, Boolean, Column, Date, Index, Integer, String, Text
from sqlmodel import Field, SQLModel

from libs.platform.db import ExactDecimal, UtcDateTime


def _timestamp(nullable: bool = False) -> Column[datetime]:
    return Column(UtcDateTime(), nullable=nullable)


def _count() -> Column[int]:
    return Column(BigInteger, nullable=False, default=0)


class BillRunRow(SQLModel, table=True):
    """One bill run: what it covers, its state and how far enumeration got."""

    __tablename__ = "bill_runs"
    __table_args__ = (Index("ix_bill_runs_state", "state"),)

    run_id: str = Field(primary_key=True, max_length=40)
    kind: str = Field(max_length=16)
    """scheduled | on_demand | fulfillment"""
    state: str = Field(max_length=24)
    bill_date: date = Field(sa_column=Column(Date, nullable=False))
    dry_run: bool = Field(sa_column=Column(Boolean, nullable=False))
    account_ids: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    """JSON list of the accounts it covers when listed; NULL: every account."""
    fulfillment_id: str | None = Field(default=None, max_length=64, unique=True)
    retry_of: str | None = Field(default=None, max_length=40)
    schedule_key: str | None = Field(default=None, max_length=40, unique=True)
    actor: str = Field(max_length=80)
    accounts_total: int = Field(sa_column=_count())
    chunks_total: int = Field(sa_column=Column(Integer, nullable=False, default=0))
    cursor: str | None = Field(default=None, max_length=64)
    worker: str | None = Field(default=None, max_length=100)
    lease_until: datetime | None = Field(default=None, sa_column=_timestamp(nullable=True))
    failure_reason: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(sa_column=_timestamp())
    started_at: datetime | None = Field(default=None, sa_column=_timestamp(nullable=True))
    enumerated_at: datetime | None = Field(default=None, sa_column=_timestamp(nullable=True))
    finished_at: datetime | None = Field(default=None, sa_column=_timestamp(nullable=True))
    updated_at: datetime = Field(sa_column=_timestamp())


class BillRunChunkRow(SQLModel, table=True):
    """A chunk of a run, counted once: what became of its accounts."""

    __tablename__ = "bill_run_chunks"

    run_id: str = Field(primary_key=True, max_length=40)
    chunk_id: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    accounts: int = Field(sa_column=Column(Integer, nullable=False, default=0))
    accounts_invoiced: int = Field(sa_column=Column(Integer, nullable=False, default=0))
    accounts_without_invoice: int = Field(sa_column=Column(Integer, nullable=False, default=0))
    invoices_created: int = Field(sa_column=Column(Integer, nullable=False, default=0))
    invoices_existing: int = Field(sa_column=Column(Integer, nullable=False, default=0))
    failures: int = Field(sa_column=Column(Integer, nullable=False, default=0))
    counted_at: datetime = Field(sa_column=_timestamp())


class BillRunAmountRow(SQLModel, table=True):
    """Invoices a chunk created in one currency, and their total."""

    __tablename__ = "bill_run_amounts"

    run_id: str = Field(primary_key=True, max_length=40)
    chunk_id: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    currency: str = Field(primary_key=True, max_length=3)
    invoices: int = Field(sa_column=Column(Integer, nullable=False))
    amount: Decimal = Field(sa_column=Column(ExactDecimal(), nullable=False))


class BillRunFailureRow(SQLModel, table=True):
    """An account a run could not bill, and why."""

    __tablename__ = "bill_run_failures"

    run_id: str = Field(primary_key=True, max_length=40)
    account_id: str = Field(primary_key=True, max_length=64)
    chunk_id: int = Field(sa_column=Column(Integer, nullable=False))
    reason: str = Field(sa_column=Column(String(500), nullable=False))
