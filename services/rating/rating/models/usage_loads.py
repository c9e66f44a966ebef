"""Usage loads: mediation files (POST /v1/usage/files) and the rejected rows kept for each."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, Index, Integer, Text
from sqlmodel import Field, SQLModel

from libs.platform.db import UtcDateTime
from rating.models.columns import timestamp


class UsageLoadRow(SQLModel, table=True):
    """One uploaded mediation file: where its loading stands, the position reached and the counts."""

    __tablename__ = "usage_loads"
    __table_args__ = (
        Index("ix_usage_loads_state", "state"),
        Index("ix_usage_loads_sha256", "sha256"),
    )

    load_id: str = Field(primary_key=True, max_length=40)
    name: str | None = Field(default=None, max_length=255)
    format: str = Field(max_length=8)
    """csv | ndjson"""
    state: str = Field(max_length=12)
    """received | loading | completed | failed"""
    size_bytes: int = Field(sa_column=Column(BigInteger, nullable=False))
    sha256: str = Field(max_length=64)
    same_content_as: str | None = Field(default=None, max_length=40)
    actor: str = Field(max_length=80)
    failure_reason: str | None = Field(default=None, max_length=500)
    bytes_done: int = Field(sa_column=Column(BigInteger, nullable=False))
    """The byte just after the last committed chunk: where a resumed load goes on."""
    lines_done: int = Field(sa_column=Column(BigInteger, nullable=False))
    rows_read: int = Field(sa_column=Column(BigInteger, nullable=False))
    accepted: int = Field(sa_column=Column(BigInteger, nullable=False))
    counted: int = Field(sa_column=Column(BigInteger, nullable=False))
    late: int = Field(sa_column=Column(BigInteger, nullable=False))
    unmatched: int = Field(sa_column=Column(BigInteger, nullable=False))
    filtered: int = Field(sa_column=Column(BigInteger, nullable=False))
    duplicates: int = Field(sa_column=Column(BigInteger, nullable=False))
    rejected: int = Field(sa_column=Column(BigInteger, nullable=False))
    rejections_kept: int = Field(sa_column=Column(Integer, nullable=False))
    worker: str | None = Field(default=None, max_length=100)
    """The process loading it, while its lease runs."""
    lease_until: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    created_at: datetime = Field(sa_column=timestamp())
    started_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    finished_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    updated_at: datetime = Field(sa_column=timestamp())


class UsageLoadRejectionRow(SQLModel, table=True):
    """A row of a mediation file that was not recorded (the first 1,000 of a load), with its reasons."""

    __tablename__ = "usage_load_rejections"

    load_id: str = Field(primary_key=True, max_length=40)
    line: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    event_id: str | None = Field(default=None, max_length=128)
    errors: str = Field(sa_column=Column(Text, nullable=False))
    """JSON list of {field, message, code}."""
