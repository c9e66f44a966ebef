"""The column shapes services' tables share, defined once: exact decimals (money, quantities,
rates: `ExactDecimal`, never a float — DESIGN §5), aware UTC timestamps (`UtcDateTime`), days,
integers, and the string fields of ids and ISO 4217 currency codes.

Each call makes a new column (SQLAlchemy binds a column to one table).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Column, Date, Integer
from sqlmodel import Field

from libs.platform.db import ExactDecimal, UtcDateTime

ID_LENGTH = 64
"""The longest id another system or service may give us (ours are shorter: `acct_` + a ULID)."""


def exact_column(nullable: bool = False) -> Column[Decimal]:
    """An exact decimal: money, a quantity, a unit price, a percent."""
    return Column(ExactDecimal(), nullable=nullable)


def timestamp_column(nullable: bool = False) -> Column[datetime]:
    """An aware UTC instant."""
    return Column(UtcDateTime(), nullable=nullable)


def day_column(nullable: bool = False) -> Column[date]:
    """A calendar day (a business date: no time, no zone)."""
    return Column(Date, nullable=nullable)


def integer_column(nullable: bool = False) -> Column[int]:
    """A whole number: a version, a day count, a position."""
    return Column(Integer, nullable=nullable)


def id_field(*, primary_key: bool = False, optional: bool = False) -> Any:
    """The field of an id (`acct_…`, `sub_…`, or another system's), up to `ID_LENGTH` characters;
    `optional`: null by default."""
    if optional:
        return Field(default=None, max_length=ID_LENGTH)
    return Field(primary_key=primary_key, max_length=ID_LENGTH)


def currency_field() -> Any:
    """The field of an ISO 4217 currency code ("USD")."""
    return Field(max_length=3)


def exact_field(*, nullable: bool = False) -> Any:
    """The field of an exact decimal (`exact_column`); `nullable`: null by default."""
    return _column_field(exact_column(nullable), nullable)


def timestamp_field(*, nullable: bool = False) -> Any:
    """The field of an aware UTC instant (`timestamp_column`); `nullable`: null by default."""
    return _column_field(timestamp_column(nullable), nullable)


def day_field(*, nullable: bool = False) -> Any:
    """The field of a calendar day (`day_column`); `nullable`: null by default."""
    return _column_field(day_column(nullable), nullable)


def integer_field(*, nullable: bool = False) -> Any:
    """The field of a whole number (`integer_column`); `nullable`: null by default."""
    return _column_field(integer_column(nullable), nullable)


def _column_field(column: Column[Any], nullable: bool) -> Any:
    if nullable:
        return Field(default=None, sa_column=column)
    return Field(sa_column=column)
