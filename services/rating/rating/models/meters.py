"""Meters: what usage is counted by, and how it aggregates."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from rating.models.columns import timestamp


class Meter(SQLModel, table=True):
    """What is counted and how: a code events name, an aggregation, a filter, the product priced."""

    __tablename__ = "meters"
    __table_args__ = (UniqueConstraint("code", name="uq_meters_code"),)

    id: str = Field(primary_key=True, max_length=40)
    code: str = Field(max_length=64)
    name: str = Field(max_length=200)
    unit_of_measure: str = Field(max_length=40)
    aggregation: str = Field(max_length=20)
    """sum | count | max | unique_count | latest"""
    property: str | None = Field(default=None, max_length=64)
    """The event property a unique_count meter counts distinct values of."""
    filter: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    """JSON {property: [allowed values]}: an event is counted only if it matches every entry."""
    product_id: str = Field(max_length=64)
    """The catalog product whose usage price rates this meter."""
    active: bool = Field(default=True, sa_column=Column(Boolean, nullable=False))
    created_at: datetime = Field(sa_column=timestamp())
    updated_at: datetime = Field(sa_column=timestamp())
