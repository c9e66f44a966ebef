"""Tax rates: one row per published rate (a jurisdiction, an optional tax code, a percent, a range)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Column, Date, Index
from sqlmodel import Field, SQLModel

from libs.platform.db import ExactDecimal, UtcDateTime


class TaxRateRow(SQLModel, table=True):
    """A published tax rate; only `effective_to` ever changes (the rate is ended)."""

    __tablename__ = "tax_rates"
    __table_args__ = (Index("ix_tax_rates_country_from", "country", "effective_from"),)

    id: str = Field(primary_key=True, max_length=40)
    country: str = Field(max_length=2)
    region: str | None = Field(default=None, max_length=100)
    """As published ("CA", "Ontario")."""
    region_key: str | None = Field(default=None, max_length=100)
    """The region as it is compared: trimmed, upper case (null for the whole country)."""
    tax_code: str | None = Field(default=None, max_length=40)
    """Null: every product tax code."""
    rate: Decimal = Field(sa_column=Column(ExactDecimal(), nullable=False))
    """Percent (20 is 20 %)."""
    name: str = Field(max_length=100)
    effective_from: date = Field(sa_column=Column(Date, nullable=False))
    effective_to: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    """Exclusive; null: open-ended."""
    created_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    updated_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
