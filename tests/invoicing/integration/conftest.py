"""Invoicing running in-process on a real database (SQLite always, PostgreSQL when reachable)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from invoicing.app import create_app
from invoicing.config import InvoicingSettings
from tests.support.services import running_app, service_settings


def invoicing_settings(database_url: str, broker: str | None = None, **extra: object) -> InvoicingSettings:
    """Settings for invoicing under test (bus off when no broker is given)."""
    return service_settings(InvoicingSettings, database_url=database_url, bootstrap=broker, **extra)


@pytest.fixture
async def any_db_client(database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """Invoicing on SQLite and on PostgreSQL, bus off."""
    async with running_app(create_app(invoicing_settings(database_url))) as http:
        yield http
