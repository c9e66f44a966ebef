"""Every service's migrations build exactly the tables its models describe, on SQLite and
PostgreSQL, and can be rolled back and applied again."""

from __future__ import annotations

import asyncio
import importlib
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData
from sqlmodel import SQLModel

from libs.platform.db import create_engine
from libs.platform.migrations import alembic_config

SERVICES = ["catalog", "provisioning", "rating", "invoicing", "overage"]


def _service_metadata(service: str) -> MetaData:
    """The tables of one service: its own models plus the platform tables."""
    importlib.import_module(f"{service}.models")
    owned = MetaData()
    for mapper in SQLModel._sa_registry.mappers:  # type: ignore[attr-defined]
        module = mapper.class_.__module__
        if module.startswith((f"{service}.", "libs.platform.")):
            for table in mapper.tables:
                if table.name not in owned.tables:
                    table.to_metadata(owned)
    return owned


async def _drift(url: str, metadata: MetaData) -> list[Any]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:

            def compare(sync_conn: Any) -> list[Any]:
                context = MigrationContext.configure(sync_conn, opts={"compare_type": True})
                diffs = compare_metadata(context, metadata)
                return [d for d in diffs if not (d[0] == "remove_table" and d[1].name == "alembic_version")]

            return await conn.run_sync(compare)
    finally:
        await engine.dispose()


def _migrations_dir(service: str) -> Any:
    return importlib.import_module(f"{service}.bootstrap").MIGRATIONS_DIR


@pytest.mark.parametrize("service", SERVICES)
async def test_migrations_match_models_and_roll_back(service: str, database_url: str) -> None:
    from alembic import command

    cfg = alembic_config(_migrations_dir(service), database_url)
    await asyncio.to_thread(command.upgrade, cfg, "head")
    assert await _drift(database_url, _service_metadata(service)) == []
    await asyncio.to_thread(command.downgrade, cfg, "base")
    await asyncio.to_thread(command.upgrade, cfg, "head")
    assert await _drift(database_url, _service_metadata(service)) == []
