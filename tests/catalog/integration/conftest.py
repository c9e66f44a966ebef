"""The catalog app on a fresh database, with a client and helpers that assert the happy path."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import event
from sqlmodel import col, select

from catalog.app import create_app
from catalog.config import CatalogSettings
from libs.platform.audit import AuditRecord
from libs.platform.outbox import OutboxMessage
from libs.platform.service import ServiceRuntime
from libs.platform.settings import Role
from tests.support.services import auth, running_app, service_settings


@pytest.fixture
def migrated_service() -> str:
    """The databases of these tests come migrated to catalog's head (copies of a template)."""
    return "catalog"


class CatalogClient:
    """An API client that sends the admin key and checks the status of setup calls."""

    def __init__(self, http: httpx.AsyncClient, runtime: ServiceRuntime) -> None:
        self.http = http
        self.runtime = runtime

    async def post(self, path: str, body: Any, role: Role = Role.ADMIN, **kw: Any) -> httpx.Response:
        return await self.http.post(path, json=body, headers={**auth(role), **kw.pop("headers", {})}, **kw)

    async def patch(self, path: str, body: Any, role: Role = Role.ADMIN) -> httpx.Response:
        return await self.http.patch(path, json=body, headers=auth(role))

    async def get(self, path: str, role: Role = Role.ADMIN, **kw: Any) -> httpx.Response:
        return await self.http.get(path, headers=auth(role), **kw)

    async def created(self, path: str, body: Any) -> dict[str, Any]:
        """POST that must succeed with 201; returns the body."""
        response = await self.post(path, body)
        assert response.status_code == 201, response.text
        return response.json()

    async def event_types(self) -> list[str]:
        """Types of the events the catalog wrote to its outbox, oldest first."""
        async with self.runtime.db.session() as session:
            rows = await session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id)))
            return [row.event_type for row in rows.all()]

    @contextmanager
    def count_statements(self) -> Iterator[list[str]]:
        """The SQL statements the catalog sends to its database inside the block."""
        seen: list[str] = []

        def record(*args: Any) -> None:
            seen.append(args[2])

        engine = self.runtime.db.engine.sync_engine
        event.listen(engine, "before_cursor_execute", record)
        try:
            yield seen
        finally:
            event.remove(engine, "before_cursor_execute", record)

    async def audit_count(self) -> int:
        """How many audit records the catalog holds."""
        async with self.runtime.db.session() as session:
            return len((await session.exec(select(AuditRecord))).all())


@asynccontextmanager
async def catalog_on(database_url: str) -> AsyncIterator[CatalogClient]:
    """The catalog API on a fresh database, bus off."""
    app = create_app(service_settings(CatalogSettings, database_url=database_url, bootstrap=None))
    async with running_app(app) as client:
        yield CatalogClient(client, app.state.runtime)


@pytest.fixture
async def catalog(database_url: str) -> AsyncIterator[CatalogClient]:
    """The catalog API on SQLite and on PostgreSQL, bus off."""
    async with catalog_on(database_url) as client:
        yield client


@pytest.fixture
async def sqlite_catalog(sqlite_url: str) -> AsyncIterator[CatalogClient]:
    """The catalog API on SQLite only (for input-validation tests that do not depend on the backend)."""
    async with catalog_on(sqlite_url) as client:
        yield client
