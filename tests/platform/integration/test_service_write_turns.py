"""A service runtime's write turns (`ServiceRuntime.write_turn`): on SQLite the writers of one
name take turns, behind a lock file beside the database; a database with concurrent writers lets
them all in at once."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy.engine import make_url

from libs.platform.service import ServiceRuntime
from rating.bootstrap import MIGRATIONS_DIR
from rating.config import RatingSettings
from tests.support.services import service_settings


def _turn_files(runtime: ServiceRuntime) -> list[str]:
    """The lock files beside the runtime's SQLite database."""
    database = Path(str(make_url(runtime.db.url).database))
    return sorted(path.name for path in database.parent.glob(f"{database.name}.*-turn"))


def _runtime(database_url: str) -> ServiceRuntime:
    settings = service_settings(RatingSettings, database_url=database_url, bootstrap=None)
    return ServiceRuntime(settings=settings, migrations_dir=MIGRATIONS_DIR)


async def _overlapped(runtime: ServiceRuntime, name: str) -> bool:
    """Whether a second writer of `name` got its turn while the first held its own."""
    first_in, second_in = asyncio.Event(), asyncio.Event()

    async def first() -> None:
        async with runtime.write_turn(name):
            first_in.set()
            await asyncio.sleep(0.2)

    async def second() -> None:
        await first_in.wait()
        async with runtime.write_turn(name):
            second_in.set()

    holder = asyncio.create_task(first())
    waiter = asyncio.create_task(second())
    await first_in.wait()
    await asyncio.sleep(0.1)
    overlapped = second_in.is_set()
    await asyncio.gather(holder, waiter)
    return overlapped


async def test_on_sqlite_writers_of_one_name_wait_for_each_other_behind_a_file_beside_the_database(
    sqlite_url: str,
) -> None:
    runtime = _runtime(sqlite_url)
    try:
        assert not await _overlapped(runtime, "usage")
        assert _turn_files(runtime) == ["test.db.usage-turn"]
        async with runtime.write_turn("bill-run"), runtime.write_turn("usage"):
            pass  # writers of another name do not wait for these
        assert _turn_files(runtime) == ["test.db.bill-run-turn", "test.db.usage-turn"]
    finally:
        await runtime.stop()


async def test_on_postgresql_writers_go_in_at_once(postgres_url: str) -> None:
    runtime = _runtime(postgres_url)
    try:
        assert await _overlapped(runtime, "usage")
    finally:
        await runtime.stop()
