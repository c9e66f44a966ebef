"""Money and time columns keep their exact values on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, insert, select
from sqlalchemy.exc import StatementError

from libs.platform.db import Database, ExactDecimal, UtcDateTime, async_url

metadata = MetaData()
ledger = Table(
    "test_ledger",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("amount", ExactDecimal()),
    Column("at", UtcDateTime()),
)


@pytest.mark.parametrize(
    "amount",
    [
        Decimal("0.1"),
        Decimal("107.5875"),
        Decimal("-10.005"),
        Decimal("123456789012345678.123456"),
        Decimal("0"),
    ],
)
async def test_decimal_round_trips_exactly(database_url: str, amount: Decimal) -> None:
    db = Database(database_url)
    try:
        async with db.engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
            await conn.execute(insert(ledger).values(id=1, amount=amount, at=datetime.now(UTC)))
            stored = (await conn.execute(select(ledger.c.amount))).scalar_one()
        assert stored == amount
        assert isinstance(stored, Decimal)
    finally:
        await db.dispose()


async def test_timestamps_come_back_aware_in_utc_and_naive_ones_are_refused(database_url: str) -> None:
    db = Database(database_url)
    local = datetime(2026, 3, 1, 9, 30, tzinfo=timezone(timedelta(hours=-5)))
    try:
        async with db.engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
            await conn.execute(insert(ledger).values(id=1, amount=Decimal(1), at=local))
            stored = (await conn.execute(select(ledger.c.at))).scalar_one()
            assert stored == datetime(2026, 3, 1, 14, 30, tzinfo=UTC)
            assert stored.utcoffset() == timedelta(0)
            with pytest.raises(StatementError, match="naive datetime"):
                await conn.execute(insert(ledger).values(id=2, amount=Decimal(1), at=datetime(2026, 3, 1)))
    finally:
        await db.dispose()


def test_urls_are_normalised_to_async_drivers() -> None:
    assert async_url("postgresql://u@h:5432/db") == "postgresql+asyncpg://u@h:5432/db"
    assert async_url("sqlite:///var/x.db") == "sqlite+aiosqlite:///var/x.db"


async def test_sqlite_connections_use_wal_and_a_busy_timeout(sqlite_url: str) -> None:
    db = Database(sqlite_url)
    try:
        async with db.engine.connect() as conn:
            assert (await conn.exec_driver_sql("PRAGMA journal_mode")).scalar_one() == "wal"
            assert (await conn.exec_driver_sql("PRAGMA busy_timeout")).scalar_one() == 30000
    finally:
        await db.dispose()


async def test_none_is_stored_as_null_in_batched_driver_inserts(database_url: str) -> None:
    # SQLite binds None through an adapter of its own (libs/platform/db.py): still NULL.
    db = Database(database_url)
    try:
        async with db.engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
            placeholders = "(?, ?, ?)" if db.engine.dialect.name == "sqlite" else "($1, $2, $3)"
            await conn.exec_driver_sql(
                f"INSERT INTO test_ledger (id, amount, at) VALUES {placeholders}",
                [(1, None, None), (2, None, None)],
            )
            nulls = "SELECT count(*) FROM test_ledger WHERE amount IS NULL AND at IS NULL"
            assert (await conn.exec_driver_sql(nulls)).scalar_one() == 2
            assert (await conn.execute(select(ledger.c.amount).where(ledger.c.id == 1))).scalar_one() is None
    finally:
        await db.dispose()
