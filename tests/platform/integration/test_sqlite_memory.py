"""SQLite's memory in a service process stays within one limit, however many pooled connections
read or wrote how much (peak RSS must not grow with the rows stored)."""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.platform.db import READ_ONLY, SQLITE_HEAP_LIMIT, Database

MIB = 1024 * 1024
TABLE_MIB = 48
CONNECTIONS = 4


def _sqlite_memory_used() -> int:
    """Bytes SQLite holds in this process, all connections together (its own counter)."""
    name = ctypes.util.find_library("sqlite3")
    if name is None:
        pytest.skip("no shared SQLite library to read the memory counter from")
    library = ctypes.CDLL(name)
    library.sqlite3_memory_used.restype = ctypes.c_int64
    return int(library.sqlite3_memory_used())


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
        assert held <= SQLITE_HEAP_LIMIT + 8 * MIB, f"SQLite holds {held / MIB:.0f} MiB"
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
