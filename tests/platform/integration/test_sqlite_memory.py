"""SQLite's memory in a service process stays within one limit, however many pooled connections
read or wrote how much (peak RSS must not grow with the rows stored)."""

from __future__ import annotations

import _sqlite3
import asyncio
import ctypes
from pathlib import Path

from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.platform.db import READ_ONLY, SQLITE_CACHE_KIB, SQLITE_HEAP_LIMIT_BYTES, Database, create_engine

MIB = 2**20
CONNECTIONS = 4
metadata = MetaData()
rows = Table("test_growing", metadata, Column("id", Integer, primary_key=True), Column("body", String))


def _sqlite_memory_used() -> int:
    """Bytes SQLite holds in this process (its own counter, page caches included)."""
    used = ctypes.CDLL(_sqlite3.__file__).sqlite3_memory_used
    used.restype = ctypes.c_int64
    return int(used())


async def test_sqlite_memory_stays_near_its_limit_as_the_database_grows(tmp_path: Path) -> None:
    limit = 4 * MIB
    engine = create_engine(f"sqlite:///{tmp_path / 'growing.db'}", sqlite_heap_limit=limit)
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    before = peak = _sqlite_memory_used()
    body = "x" * 1000
    written = 0
    try:
        for batch in range(16):
            # As a bill run's chunks: one transaction each, writing rows and reading one back.
            async with engine.begin() as connection:
                first = batch * 2_000
                await connection.execute(
                    insert(rows), [{"id": first + i, "body": body} for i in range(2_000)]
                )
                stored = select(rows.c.id).where(rows.c.id == first)
                assert (await connection.execute(stored)).scalar_one() == first
            written += 2_000 * len(body)
            peak = max(peak, _sqlite_memory_used())
    finally:
        await engine.dispose()
    # A connection alone may cache all that was written (and it did, before the limit).
    assert SQLITE_CACHE_KIB * 1024 > written > 6 * limit
    assert peak - before < limit + 2 * MIB


TABLE_MIB = 48


async def _scan(connection: AsyncConnection) -> None:
    # Reads every page of the table into this connection's page cache.
    total = (await connection.exec_driver_sql("SELECT sum(length(pad)) FROM wide")).scalar()
    assert total == TABLE_MIB * MIB


async def test_pooled_connections_share_one_memory_limit(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'wide.db'}")
    try:
        async with db.engine.begin() as connection:
            await connection.exec_driver_sql("CREATE TABLE wide (id INTEGER PRIMARY KEY, pad BLOB)")
            await connection.exec_driver_sql(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)"
                " INSERT INTO wide SELECT i, randomblob(1024) FROM n",
                (TABLE_MIB * 1024,),
            )
        before = _sqlite_memory_used()
        # Each connection's own cache (64 MiB) would hold the whole table: four of them held
        # four copies (~190 MiB) before the process-wide limit.
        readers = db.engine.execution_options(**{READ_ONLY: True})  # side by side, no write lock
        connections = [await readers.connect() for _ in range(CONNECTIONS)]
        try:
            for connection in connections:
                await _scan(connection)
            held = _sqlite_memory_used()
        finally:
            await asyncio.gather(*(connection.close() for connection in connections))
        assert held - before > TABLE_MIB * MIB // 2  # the scans did fill caches
        assert held <= SQLITE_HEAP_LIMIT_BYTES + 8 * MIB, f"SQLite holds {held / MIB:.0f} MiB"
    finally:
        await db.dispose()


async def test_the_last_connection_returned_is_handed_out_first(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'lifo.db'}")
    try:
        first, second = await db.engine.connect(), await db.engine.connect()
        first_raw = (await first.get_raw_connection()).driver_connection
        second_raw = (await second.get_raw_connection()).driver_connection
        assert first_raw is not second_raw
        await first.close()
        await second.close()
        async with db.engine.connect() as again:
            # The connection that wrote last keeps a valid page cache: it is the one reused.
            assert (await again.get_raw_connection()).driver_connection is second_raw
    finally:
        await db.dispose()
