"""SQL aggregates over money are exact on SQLite and on PostgreSQL (issue 6, defect 10).

SQLite stores money as TEXT (its NUMERIC affinity is a float): without help its SUM goes
through floats and its MAX compares text. `libs.platform.db` makes SUM, MIN and MAX over an
`ExactDecimal` column exact there; PostgreSQL's NUMERIC is exact already. AVG over money is
refused on both.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from decimal import Decimal as D

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, func, insert, select
from sqlalchemy.exc import CompileError
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.platform.db import Database, ExactDecimal

metadata = MetaData()
entries = Table(
    "test_money_entries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("account", String(20)),
    Column("amount", ExactDecimal()),
    Column("units", Integer),
)


@asynccontextmanager
async def _ledger(database_url: str, rows: Sequence[tuple[str, D | None]]) -> AsyncIterator[AsyncConnection]:
    db = Database(database_url)
    try:
        async with db.engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
            if rows:
                await conn.execute(
                    insert(entries),
                    [{"id": n, "account": a, "amount": v, "units": n} for n, (a, v) in enumerate(rows, 1)],
                )
            yield conn
    finally:
        await db.dispose()


async def _one(conn: AsyncConnection, expression: object) -> object:
    return (await conn.execute(select(expression))).scalar_one()  # type: ignore[call-overload]


async def test_the_sum_of_ten_dimes_is_exactly_one(database_url: str) -> None:
    async with _ledger(database_url, [("a", D("0.1"))] * 10) as conn:
        total = await _one(conn, func.sum(entries.c.amount))
    assert total == D("1.0")
    assert isinstance(total, D)


async def test_a_sum_keeps_twelve_decimals_and_large_amounts(database_url: str) -> None:
    values = [D("0.000000000001"), D("123456789012.123456789012"), D("-0.000000000002"), D("1E-12")]
    async with _ledger(database_url, [("a", v) for v in values]) as conn:
        total = await _one(conn, func.sum(entries.c.amount))
    assert total == sum(values, D(0)) == D("123456789012.123456789012")


async def test_max_and_min_compare_amounts_not_text(database_url: str) -> None:
    values = [D("9.5"), D("10.25"), D("-2"), D("-10")]
    async with _ledger(database_url, [("a", v) for v in values]) as conn:
        assert await _one(conn, func.max(entries.c.amount)) == D("10.25")
        assert await _one(conn, func.min(entries.c.amount)) == D("-10")


async def test_group_by_sums_each_group_exactly(database_url: str) -> None:
    rows = [("a", D("0.1")), ("b", D("0.2")), ("a", D("0.2")), ("b", D("0.1")), ("c", None)]
    async with _ledger(database_url, rows) as conn:
        result = await conn.execute(
            select(entries.c.account, func.sum(entries.c.amount), func.max(entries.c.amount))
            .group_by(entries.c.account)
            .order_by(entries.c.account)
        )
        assert [tuple(r) for r in result] == [
            ("a", D("0.3"), D("0.2")),
            ("b", D("0.3"), D("0.2")),
            ("c", None, None),
        ]


async def test_nulls_are_ignored_and_an_empty_set_sums_to_null(database_url: str) -> None:
    async with _ledger(database_url, [("a", None), ("a", D("2.50")), ("a", None)]) as conn:
        assert await _one(conn, func.sum(entries.c.amount)) == D("2.5")
        assert await _one(conn, func.count(entries.c.amount)) == 1
        empty = select(func.sum(entries.c.amount)).where(entries.c.account == "nobody")
        assert (await conn.execute(empty)).scalar_one() is None
        nothing = select(func.max(entries.c.amount)).where(entries.c.account == "nobody")
        assert (await conn.execute(nothing)).scalar_one() is None
        zero = select(func.coalesce(func.sum(entries.c.amount), 0)).where(entries.c.account == "nobody")
        assert (await conn.execute(zero)).scalar_one() == 0


async def test_a_running_total_window_is_exact(database_url: str) -> None:
    async with _ledger(database_url, [("a", D("0.1"))] * 3) as conn:
        running = func.sum(entries.c.amount).over(order_by=entries.c.id)
        result = await conn.execute(select(running).order_by(entries.c.id))
        assert list(result.scalars()) == [D("0.1"), D("0.2"), D("0.3")]


async def test_aggregates_of_other_columns_are_unchanged(database_url: str) -> None:
    async with _ledger(database_url, [("a", D(1)), ("b", D(2))]) as conn:
        assert await _one(conn, func.sum(entries.c.units)) == 3
        assert await _one(conn, func.max(entries.c.account)) == "b"


def test_avg_over_money_is_refused() -> None:
    with pytest.raises(CompileError, match="AVG"):
        select(func.avg(entries.c.amount)).compile()
    select(func.avg(entries.c.units)).compile()
