"""`in_values` and `in_parameter`: a set bound as one parameter selects what `IN (...)` selects,
compiled once."""

from __future__ import annotations

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select, text
from sqlalchemy.engine import CursorResult
from sqlalchemy.sql.elements import ColumnElement

from libs.platform.db import Database
from libs.platform.value_sets import in_parameter, in_set, in_values, set_param

metadata = MetaData()
accounts = Table(
    "test_value_set_accounts",
    metadata,
    Column("account_id", String(64), primary_key=True),
    Column("n", Integer, nullable=False),
)
IDS = ["acc_1", "acc_2", "acc_10", "é'\"x", "a,b", "[1]", "acc_%", ""]


@pytest.mark.parametrize(
    "wanted",
    [["acc_1", "acc_10", "missing"], [], {"é'\"x"}, ["a,b", "[1]", ""], ["acc_%"], IDS],
)
async def test_in_values_selects_what_in_selects(database_url: str, wanted: list[str]) -> None:
    db = Database(database_url)
    try:
        async with db.engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
            await conn.execute(insert(accounts), [{"account_id": a, "n": i} for i, a in enumerate(IDS)])

            async def ns(where: ColumnElement[bool]) -> list[int]:
                stmt = select(accounts.c.n).where(where).order_by(accounts.c.n)
                return list((await conn.execute(stmt)).scalars())

            expected = await ns(accounts.c.account_id.in_(list(wanted)))
            assert await ns(in_values(accounts.c.account_id, wanted)) == expected
            # The SQL-text form of hand-written statements binds the set the same way.
            dialect = conn.dialect.name
            where = in_set("account_id", "ids", dialect)
            rows = await conn.execute(
                text(f"SELECT n FROM test_value_set_accounts WHERE {where} ORDER BY n"),
                {"ids": set_param(wanted, dialect)},
            )
            assert list(rows.scalars()) == expected
    finally:
        await db.dispose()


async def test_its_sql_is_the_same_whatever_the_values(database_url: str) -> None:
    db = Database(database_url)
    try:
        async with db.engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
            hits = []
            for wanted in (["acc_1"], ["acc_2", "acc_10", "x"], []):
                result: CursorResult[tuple[int]] = await conn.execute(
                    select(accounts.c.n).where(in_values(accounts.c.account_id, wanted))
                )
                hits.append(result.context.cache_hit.name)
            assert hits[1:] == ["CACHE_HIT", "CACHE_HIT"]
            stmt = select(accounts.c.n).where(in_values(accounts.c.account_id, ["a"]))
            sql = str(stmt.compile(conn.engine))
            assert "= 1" not in sql  # the IN itself, not a comparison of its result (the index stays usable)
    finally:
        await db.dispose()


async def test_a_statement_built_once_with_in_parameter_selects_the_values_given_at_each_run(
    database_url: str,
) -> None:
    db = Database(database_url)
    try:
        async with db.engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
            await conn.execute(insert(accounts), [{"account_id": a, "n": i} for i, a in enumerate(IDS)])
            either = in_parameter(accounts.c.account_id, "ids") | (
                in_parameter(accounts.c.account_id, "ids") & (accounts.c.n > 100)
            )
            stmt = select(accounts.c.n).where(either).order_by(accounts.c.n)
            for wanted in (["acc_1", "acc_10", "missing"], {"é'\"x", "a,b", ""}, [], IDS):
                got = list((await conn.execute(stmt, {"ids": list(wanted)})).scalars())
                expected = select(accounts.c.n).where(accounts.c.account_id.in_(list(wanted)))
                assert got == list((await conn.execute(expected.order_by(accounts.c.n))).scalars())
    finally:
        await db.dispose()
