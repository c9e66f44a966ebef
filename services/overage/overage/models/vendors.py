"""Vendors, their webhook secrets and tenants; the read model of subscriptions and cost books."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Column, Integer, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from libs.platform.columns import (
    timestamp_field,
)
from libs.platform.db import ExactDecimal


class VendorRow(SQLModel, table=True):
    """A vendor we resell, its catalog cost book and its contacts (JSON list)."""

    __tablename__ = "overage_vendors"

    id: str = Field(primary_key=True, max_length=40)
    name: str = Field(max_length=200)
    cost_book_id: str = Field(max_length=64)
    contacts: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = timestamp_field()


class VendorSecretRow(SQLModel, table=True):
    """A webhook secret's id and fingerprint (the secret itself is derived, never stored)."""

    __tablename__ = "overage_vendor_secrets"

    id: str = Field(primary_key=True, max_length=40)
    vendor_id: str = Field(max_length=40, index=True)
    fingerprint: str = Field(max_length=16)
    created_at: datetime = timestamp_field()
    expires_at: datetime | None = timestamp_field(nullable=True)


class VendorTenantRow(SQLModel, table=True):
    """A tenant at a vendor mapped to our account and subscription."""

    __tablename__ = "overage_vendor_tenants"
    __table_args__ = (UniqueConstraint("vendor_id", "tenant_ref", name="uq_overage_vendor_tenants_ref"),)

    id: str = Field(primary_key=True, max_length=40)
    vendor_id: str = Field(max_length=40)
    tenant_ref: str = Field(max_length=100)
    account_id: str = Field(max_length=64)
    subscription_id: str = Field(max_length=64, index=True)
    created_at: datetime = timestamp_field()


class LicensedSubscriptionRow(SQLModel, table=True):
    """Read model: a subscription's licensed quantity, from provisioning's events."""

    __tablename__ = "overage_subscriptions"

    subscription_id: str = Field(primary_key=True, max_length=64)
    account_id: str = Field(max_length=64)
    quantity: Decimal = Field(sa_column=Column(ExactDecimal(), nullable=False))
    currency: str = Field(max_length=3)
    state: str = Field(max_length=20)
    event_at: datetime = timestamp_field()


class CostBookRow(SQLModel, table=True):
    """Read model: a vendor cost book's latest version's markup and currency, from the catalog."""

    __tablename__ = "overage_cost_books"

    cost_book_id: str = Field(primary_key=True, max_length=64)
    version: int = Field(sa_column=Column(Integer, nullable=False))
    vendor_id: str = Field(max_length=64)
    currency: str = Field(max_length=3)
    markup_percent: Decimal = Field(sa_column=Column(ExactDecimal(), nullable=False))
    event_at: datetime = timestamp_field()
