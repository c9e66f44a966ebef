"""Shared fixtures: a real local broker, SQLite files and (when reachable) PostgreSQL databases."""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from libs.platform.broker import LocalBroker, free_port
from tests.support.databases import SqliteTemplates, create_postgres_database

DEFAULT_TEST_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/test"

# Property tests are judged by what they find, never by the wall clock: the suite runs in several
# workers on 2 shared cores, where an example that takes 40 ms alone can take 400 ms. The number
# of examples each test asks for is unchanged.
settings.register_profile("suite", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("suite")


END_TO_END = "tests/e2e/"


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """`-n N` (xdist's `load`): each test goes to whichever worker is free, except the end-to-end
    tests, which all go to one worker. Each worker that runs one starts the broker and all five
    services (20-40 s of both cores under load) and kept them running to its end; now one does,
    and stops them after the last (the `stack` fixture is package-scoped). `xdist_group` with
    `--dist loadgroup` would say this, but xdist 3.8 sets `item._nodeid`, which pytest 9 no
    longer reads, so its groups are silently ignored."""
    if config.getvalue("dist") != "load":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class EndToEndTogether(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return END_TO_END if nodeid.startswith(END_TO_END) else nodeid

    return EndToEndTogether(config, log)


@pytest.fixture(scope="session")
def broker() -> Iterator[str]:
    """Bootstrap servers of a Kafka-protocol broker: KAFKA_BOOTSTRAP_SERVERS, else a local Tansu."""
    external = os.environ.get("TEST_KAFKA_BOOTSTRAP_SERVERS")
    if external:
        yield external
        return
    local = LocalBroker(port=free_port()).start()
    try:
        yield local.bootstrap_servers
    finally:
        local.stop()


def _postgres_admin_url() -> str:
    return os.environ.get("TEST_DATABASE_URL", DEFAULT_TEST_DATABASE_URL)


def run_sync(coro: Any) -> Any:
    """Run a coroutine to completion on a private loop in another thread (safe from sync fixtures)."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


async def _postgres_problem(url: str) -> str | None:
    import asyncpg

    try:
        conn = await asyncio.wait_for(asyncpg.connect(url), timeout=3)
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    await conn.close()
    return None


async def _execute(url: str, sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    """URL of a reachable PostgreSQL server (skips the test with the reason otherwise)."""
    url = _postgres_admin_url()
    problem = run_sync(_postgres_problem(url))
    if problem:
        pytest.skip(f"PostgreSQL not reachable at {url} ({problem}); set TEST_DATABASE_URL")
    return url


@pytest.fixture
def migrated_service() -> str | None:
    """The service whose migrations the test databases come with (none: empty databases).

    Each `tests/<service>/integration/conftest.py` names its service, so the databases of its
    tests are copies of a template migrated once (see `tests.support.databases`); the app's
    start-up then finds them at head. Elsewhere, and in the migration tests, they start empty.
    """
    return None


@pytest.fixture(scope="session")
def sqlite_templates(tmp_path_factory: pytest.TempPathFactory) -> SqliteTemplates:
    """SQLite files migrated once per service in this worker, copied for each test."""
    return SqliteTemplates(tmp_path_factory.mktemp("db-templates"))


@pytest.fixture
def postgres_url(postgres_admin_url: str, migrated_service: str | None) -> Iterator[str]:
    """A fresh PostgreSQL database for one test (empty, or at `migrated_service`'s head), dropped
    afterwards."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    run_sync(create_postgres_database(postgres_admin_url, name, migrated_service))
    base, _, _ = postgres_admin_url.rpartition("/")
    yield f"{base}/{name}"
    run_sync(_execute(postgres_admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_templates: SqliteTemplates, migrated_service: str | None) -> str:
    """A fresh SQLite file for one test (empty, or at `migrated_service`'s head)."""
    return sqlite_templates.copy_to(tmp_path / "test.db", migrated_service)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str:
    """Each test using it runs on SQLite and on PostgreSQL (skipped when unreachable)."""
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    return str(request.getfixturevalue("postgres_url"))
