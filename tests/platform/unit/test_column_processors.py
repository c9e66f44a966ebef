"""The money and time columns' SQLite processors (ExactDecimal's without TypeDecorator's wrapping,
both memoized) convert as the decorated ones do, value for value."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import String
from sqlalchemy.dialects import sqlite
from sqlalchemy.dialects.postgresql import asyncpg

from libs.platform.db import ExactDecimal, UtcDateTime

TEXTS = ["0", "0.00", "-0.00", "10", "10.50", "107.5875", "-10.005", "1E+3", "123456789012345678.123456"]


@pytest.mark.parametrize("text", TEXTS)
def test_a_stored_text_reads_back_as_the_shortest_exact_decimal(text: str) -> None:
    dialect = sqlite.dialect()
    column = ExactDecimal()
    process = column.dialect_impl(dialect).result_processor(dialect, String())
    assert process is not None
    expected = column.process_result_value(text, dialect)
    read = process(text)
    assert str(read) == str(expected)
    assert read == Decimal(text)
    assert process(text) is read  # memoized: the same few values are read over and over
    assert process(None) is None


@pytest.mark.parametrize("value", [Decimal("10.50"), Decimal("-0.00"), Decimal("1E+3"), 7, "2.5", None])
def test_a_value_is_bound_as_the_same_text(value: object) -> None:
    dialect = sqlite.dialect()
    column = ExactDecimal()
    process = column.dialect_impl(dialect).bind_processor(dialect)
    assert process is not None
    assert process(value) == column.process_bind_param(value, dialect)


def test_postgresql_keeps_the_decorated_processors() -> None:
    dialect = asyncpg.dialect()
    column = ExactDecimal()
    bind = column.dialect_impl(dialect).bind_processor(dialect)
    assert bind is not None and bind(Decimal("1.50")) == Decimal("1.50")
    result = column.dialect_impl(dialect).result_processor(dialect, 1700)  # NUMERIC
    assert result is not None and str(result(Decimal("1.500000000000"))) == "1.5"


def test_one_moment_is_bound_as_one_utc_text_whatever_its_zone() -> None:
    dialect = sqlite.dialect()
    column = UtcDateTime()
    process = column.dialect_impl(dialect).bind_processor(dialect)
    assert process is not None
    utc = datetime(2026, 8, 1, 6, 0, 0, 123456, tzinfo=UTC)
    east = utc.astimezone(timezone(timedelta(hours=5, minutes=30)))
    datetime_bind = column.dialect_impl(dialect).impl_instance.bind_processor(dialect)
    assert datetime_bind is not None
    expected = datetime_bind(utc)  # SQLite's DATETIME's own, of the UTC moment
    assert [process(utc), process(east), process(utc)] == [expected] * 3
    assert expected.startswith("2026-08-01 06:00:00.123456")
    assert process(None) is None
    for _ in range(2):  # refused each time: a refusal is not kept
        with pytest.raises(ValueError, match="naive datetime"):
            process(datetime(2026, 8, 1, 6))
