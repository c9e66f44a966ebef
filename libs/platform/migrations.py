"""Alembic, one way for every service: a shared env.py body, a programmatic upgrade applied on
start, an advisory lock on PostgreSQL so replicas starting together don't race, batch mode on
SQLite, and the platform tables (outbox, inbox, dead letters, idempotency keys, audit log) that
every service's first migration creates.
"""

from __future__ import annotations

import asyncio
import zlib
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command, context
from alembic.config import Config
from sqlalchemy.engine import Connection

from libs.platform.db import ExactDecimal, UtcDateTime, async_url, create_engine

__all__ = ["ExactDecimal", "UtcDateTime", "create_platform_tables", "run_env", "upgrade"]


def alembic_config(migrations_dir: Path, database_url: str) -> Config:
    """An Alembic config for a service's migrations folder and database."""
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir))
    cfg.set_main_option("sqlalchemy.url", async_url(database_url).replace("%", "%%"))
    return cfg


def upgrade(migrations_dir: Path, database_url: str, revision: str = "head") -> None:
    """Apply the service's migrations up to `revision` (blocking; runs its own event loop)."""
    command.upgrade(alembic_config(migrations_dir, database_url), revision)


async def upgrade_async(migrations_dir: Path, database_url: str) -> None:
    """`upgrade` from inside a running event loop."""
    await asyncio.to_thread(upgrade, migrations_dir, database_url)


def _lock_key(url: str) -> int:
    return zlib.crc32(f"migrations:{url}".encode()) & 0x7FFFFFFF


def _run_sync(connection: Connection, target_metadata: Any) -> None:
    is_sqlite = connection.dialect.name == "sqlite"
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        render_as_batch=is_sqlite,
    )
    if connection.dialect.name == "postgresql":
        connection.execute(
            sa.text("SELECT pg_advisory_lock(:k)"), {"k": _lock_key(str(connection.engine.url))}
        )
    try:
        with context.begin_transaction():
            context.run_migrations()
    finally:
        if connection.dialect.name == "postgresql":
            connection.execute(
                sa.text("SELECT pg_advisory_unlock(:k)"),
                {"k": _lock_key(str(connection.engine.url))},
            )
            connection.commit()


def run_env(target_metadata: Any) -> None:
    """The body of every service's `migrations/env.py` (online mode, async engine)."""
    url = context.config.get_main_option("sqlalchemy.url")
    assert url, "sqlalchemy.url is not set"

    async def _main() -> None:
        engine = create_engine(url)
        try:
            async with engine.connect() as conn:
                await conn.run_sync(_run_sync, target_metadata)
                await conn.commit()
        finally:
            await engine.dispose()

    asyncio.run(_main())


def create_platform_tables(op: Any) -> None:
    """Create the platform tables; call from a service's first migration."""
    op.create_table(
        "outbox",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer, "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("event_id", sa.String(36), nullable=False, unique=True),
        sa.Column("event_type", sa.String(120), nullable=False),
        sa.Column("topic", sa.String(120), nullable=False),
        sa.Column("key", sa.String(120), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("published_at", UtcDateTime(), nullable=True),
    )
    op.create_index("ix_outbox_pending", "outbox", ["published_at", "id"])
    op.create_table(
        "inbox",
        sa.Column("consumer_group", sa.String(120), primary_key=True),
        sa.Column("event_id", sa.String(36), primary_key=True),
        sa.Column("event_type", sa.String(120), nullable=False),
        sa.Column("processed_at", UtcDateTime(), nullable=False),
    )
    op.create_table(
        "dead_letters",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("consumer_group", sa.String(120), nullable=False),
        sa.Column("topic", sa.String(120), nullable=False),
        sa.Column("partition", sa.Integer, nullable=False),
        sa.Column("offset", sa.BigInteger, nullable=False),
        sa.Column("event_id", sa.String(36), nullable=True),
        sa.Column("error", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("owner", sa.String(40), primary_key=True),
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("status_code", sa.Integer, nullable=True),
        sa.Column("content_type", sa.String(100), nullable=True),
        sa.Column("response_body", sa.LargeBinary, nullable=True),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("occurred_at", UtcDateTime(), nullable=False),
        sa.Column("actor", sa.String(80), nullable=False),
        sa.Column("action", sa.String(80), nullable=False),
        sa.Column("entity_type", sa.String(60), nullable=False),
        sa.Column("entity_id", sa.String(60), nullable=False),
        sa.Column("changes", sa.Text, nullable=False),
        sa.Column("correlation_id", sa.String(64), nullable=True),
    )
    op.create_index("ix_audit_entity", "audit_log", ["entity_type", "entity_id"])


def drop_platform_tables(op: Any) -> None:
    """Undo `create_platform_tables`."""
    for table in ("audit_log", "idempotency_keys", "dead_letters", "inbox", "outbox"):
        op.drop_table(table)


# Second revision of the platform tables (issue 6). Each concern changes its own table in its
# own function, so that the dead-letter, outbox and idempotency changes stay apart.


def _v2_dead_letters(op: Any) -> None:
    """Dead letters: retry state and replay (consumer side).

    `event_type` and `attempts` tell the operator what failed and how often; `replayed_at`
    marks a dead letter replayed (kept, not deleted).
    """
    with op.batch_alter_table("dead_letters") as batch:
        batch.add_column(sa.Column("event_type", sa.String(120), nullable=True))
        batch.add_column(sa.Column("attempts", sa.Integer, nullable=False, server_default="1"))
        batch.add_column(sa.Column("replayed_at", UtcDateTime(), nullable=True))


def _v2_dead_letters_down(op: Any) -> None:
    """Undo `_v2_dead_letters`."""
    with op.batch_alter_table("dead_letters") as batch:
        batch.drop_column("replayed_at")
        batch.drop_column("attempts")
        batch.drop_column("event_type")


def _v2_outbox(op: Any) -> None:
    """Outbox: rows the broker refused for good are parked (relay side)."""
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("parked_at", UtcDateTime(), nullable=True))
        batch.add_column(sa.Column("error", sa.Text, nullable=True))
        batch.drop_index("ix_outbox_pending")
        batch.create_index("ix_outbox_pending", ["published_at", "parked_at", "id"])


def _v2_outbox_down(op: Any) -> None:
    """Undo `_v2_outbox`."""
    with op.batch_alter_table("outbox") as batch:
        batch.drop_index("ix_outbox_pending")
        batch.create_index("ix_outbox_pending", ["published_at", "id"])
        batch.drop_column("error")
        batch.drop_column("parked_at")


def _v2_idempotency_keys(op: Any) -> None:
    """Idempotency keys: expiry and the replayed response's headers."""
    with op.batch_alter_table("idempotency_keys") as batch:
        batch.add_column(sa.Column("response_headers", sa.Text, nullable=True))
        batch.add_column(sa.Column("lease_id", sa.String(32), nullable=True))
        batch.add_column(sa.Column("locked_until", UtcDateTime(), nullable=True))
        batch.create_index("ix_idempotency_keys_created_at", ["created_at"])


def _v2_idempotency_keys_down(op: Any) -> None:
    """Undo `_v2_idempotency_keys`."""
    with op.batch_alter_table("idempotency_keys") as batch:
        batch.drop_index("ix_idempotency_keys_created_at")
        batch.drop_column("locked_until")
        batch.drop_column("lease_id")
        batch.drop_column("response_headers")


def upgrade_platform_tables_v2(op: Any) -> None:
    """Apply the second revision of the platform tables; call from each service's migration."""
    _v2_dead_letters(op)
    _v2_outbox(op)
    _v2_idempotency_keys(op)


def downgrade_platform_tables_v2(op: Any) -> None:
    """Undo `upgrade_platform_tables_v2`."""
    _v2_idempotency_keys_down(op)
    _v2_outbox_down(op)
    _v2_dead_letters_down(op)
