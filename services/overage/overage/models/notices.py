"""Stored overage notices (the webhook's durable acknowledgement) and refused webhook calls."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Column, Date, Index, Integer, UniqueConstraint
from sqlmodel import Field, SQLModel

from libs.platform.db import ExactDecimal, UtcDateTime


class NoticeRow(SQLModel, table=True):
    """A vendor's notice as received; `status` says whether the worker has worked it."""

    __tablename__ = "overage_notices"
    __table_args__ = (
        UniqueConstraint("vendor_id", "notice_ref", name="uq_overage_notices_ref"),
        Index("ix_overage_notices_status", "status", "id"),
    )

    id: str = Field(primary_key=True, max_length=40)
    vendor_id: str = Field(max_length=40)
    notice_ref: str = Field(max_length=100)
    tenant_ref: str = Field(max_length=100)
    period_start: date = Field(sa_column=Column(Date, nullable=False))
    licensed_count: Decimal = Field(sa_column=Column(ExactDecimal(), nullable=False))
    actual_count: Decimal = Field(sa_column=Column(ExactDecimal(), nullable=False))
    overage_count: Decimal = Field(sa_column=Column(ExactDecimal(), nullable=False))
    vendor_unit_cost: Decimal = Field(sa_column=Column(ExactDecimal(), nullable=False))
    received_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    status: str = Field(max_length=20)
    review_reason: str | None = Field(default=None, max_length=40)
    case_id: str | None = Field(default=None, max_length=40)


class WebhookRejectionRow(SQLModel, table=True):
    """A refused webhook call: why, when, its size and digest — never its body or signature."""

    __tablename__ = "overage_webhook_rejections"
    __table_args__ = (
        Index("ix_overage_webhook_rejections_same", "vendor", "reason", "body_sha256", "received_at"),
        Index("ix_overage_webhook_rejections_reason", "reason", "received_at"),
    )

    id: str = Field(primary_key=True, max_length=40)
    vendor: str = Field(max_length=64)
    reason: str = Field(max_length=40)
    status_code: int = Field(sa_column=Column(Integer, nullable=False))
    received_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    body_bytes: int = Field(sa_column=Column(Integer, nullable=False))
    body_sha256: str = Field(max_length=64)
    detail: str = Field(max_length=300)
    count: int = Field(default=1, sa_column=Column(Integer, nullable=False, server_default="1"))
    last_seen_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
