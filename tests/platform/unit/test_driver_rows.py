"""Rows for a bulk driver insert are converted as SQLAlchemy binds each column (`driver_rows`)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import Column, Date, MetaData, String, Table
from sqlalchemy.dialects import postgresql, sqlite

from libs.platform.db import ExactDecimal, UtcDateTime
from libs.platform.driver_rows import driver_insert, driver_rows

LINES = Table(
    "test_driver_lines",
    MetaData(),
    Column("line_id", String(40), primary_key=True),
    Column("service_date", Date),
    Column("amount", ExactDecimal()),
    Column("booked_at", UtcDateTime()),
)
COLUMNS = ("line_id", "service_date", "amount", "booked_at")
BOOKED = datetime(2026, 8, 1, 9, 30, tzinfo=UTC)


def _bound_one_by_one(dialect: object, row: tuple[object, ...]) -> tuple[object, ...]:
    """What SQLAlchemy's own bind processors make of a row, value by value."""
    values = []
    for name, value in zip(COLUMNS, row, strict=True):
        process = LINES.c[name].type.dialect_impl(dialect).bind_processor(dialect)  # type: ignore[arg-type]
        values.append(value if process is None else process(value))
    return tuple(values)


def test_rows_are_bound_as_sqlalchemy_binds_each_value_repeated_days_and_nulls_alike() -> None:
    dialect = sqlite.dialect()
    rows = [
        ("ln_1", date(2026, 8, 1), Decimal("12.50"), BOOKED),
        ("ln_2", date(2026, 8, 1), Decimal("-0.005"), BOOKED),
        ("ln_3", None, None, None),
        ("ln_4", date(2026, 2, 28), Decimal("1E+3"), BOOKED),
    ]
    converted = driver_rows(LINES, COLUMNS, dialect, rows)
    assert converted == [_bound_one_by_one(dialect, row) for row in rows]
    assert converted[0][1] == converted[1][1] == "2026-08-01"
    assert converted[2] == ("ln_3", None, None, None)


def test_no_rows_and_columns_without_processors_pass_through() -> None:
    dialect = postgresql.dialect()
    assert driver_rows(LINES, COLUMNS, dialect, []) == []
    assert driver_rows(LINES, ("line_id",), dialect, [["ln_1"], ["ln_2"]]) == [("ln_1",), ("ln_2",)]


def test_the_insert_names_its_columns_in_the_rows_order() -> None:
    statement = driver_insert(LINES, COLUMNS, sqlite.dialect())
    assert statement == (
        "INSERT INTO test_driver_lines (line_id, service_date, amount, booked_at) VALUES (?, ?, ?, ?)"
    )
