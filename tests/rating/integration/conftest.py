"""Rating running in-process on a real database (SQLite always, PostgreSQL when reachable)."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from rating.app import create_app
from rating.config import RatingSettings
from tests.support.services import running_app, service_settings


@pytest.fixture
def migrated_service() -> str:
    """The databases of these tests come migrated to rating's head (copies of a template)."""
    return "rating"


def rating_settings(database_url: str, broker: str | None = None, **extra: object) -> RatingSettings:
    """Settings for rating under test (bus off when no broker is given); uploaded usage files
    wait in a temporary directory (made on the first upload) unless `usage_load_dir` is given."""
    extra.setdefault(
        "usage_load_dir", str(Path(tempfile.gettempdir()) / "rating-loads-tests" / uuid.uuid4().hex)
    )
    return service_settings(RatingSettings, database_url=database_url, bootstrap=broker, **extra)  # type: ignore[no-any-return]


@pytest.fixture
def rating_app(sqlite_url: str) -> FastAPI:
    """Rating on SQLite, bus off (not started)."""
    return create_app(rating_settings(sqlite_url))


@pytest.fixture
async def client(rating_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the running `rating_app`."""
    async with running_app(rating_app) as http:
        yield http


@pytest.fixture
async def any_db_client(database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """Rating on SQLite and on PostgreSQL, bus off."""
    async with running_app(create_app(rating_settings(database_url))) as http:
        yield http
