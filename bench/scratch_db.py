"""A scratch database for a benchmark: a SQLite file in a temporary directory, or a fresh
PostgreSQL database created beside the one a URL names (and dropped afterwards), so that a
benchmark never writes into a database someone else uses."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy.engine import make_url


@asynccontextmanager
async def scratch_database(server_url: str | None) -> AsyncIterator[str]:
    """The URL of an empty database for one run (PostgreSQL beside `server_url`, else SQLite)."""
    if server_url is None:
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        return
    import asyncpg

    admin = make_url(server_url).set(drivername="postgresql")
    name = f"bench_{uuid.uuid4().hex[:12]}"
    connection = await asyncpg.connect(admin.render_as_string(hide_password=False))
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
        yield admin.set(database=name).render_as_string(hide_password=False)
    finally:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await connection.close()
