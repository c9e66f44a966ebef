"""SQLite's memory stays near its limit while a connection writes a growing database."""

from __future__ import annotations

import _sqlite3
import ctypes
from pathlib import Path

from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select

from libs.platform.db import SQLITE_CACHE_KIB, create_engine

MIB = 2**20
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
