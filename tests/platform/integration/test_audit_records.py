"""Audit records inserted many at once read back as recorded, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import SQLModel, select

from libs.platform.audit import AuditRecord, add_audit_records
from libs.platform.db import Database


async def test_records_added_at_once_read_back_with_their_changes_actor_and_time(database_url: str) -> None:
    db = Database(database_url)
    try:
        async with db.engine.begin() as connection:
            await connection.run_sync(SQLModel.metadata.create_all, tables=[AuditRecord.__table__])  # type: ignore[attr-defined]
        before = datetime.now(UTC)
        async with db.session() as session:
            await add_audit_records(
                session,
                [
                    ("invoice.drafted", "invoice", "inv_1", {"total": "612.34", "lines": 3}),
                    ("invoice.finalized", "invoice", "inv_1", {"number": "INV-2026-000001"}),
                ],
                actor="bill-run",
                correlation_id="corr_1",
            )
            await session.commit()
        async with db.session() as session:
            records = (await session.exec(select(AuditRecord).order_by(AuditRecord.action))).all()
    finally:
        await db.dispose()
    assert [(r.action, r.entity_type, r.entity_id, r.actor, r.correlation_id) for r in records] == [
        ("invoice.drafted", "invoice", "inv_1", "bill-run", "corr_1"),
        ("invoice.finalized", "invoice", "inv_1", "bill-run", "corr_1"),
    ]
    assert [r.changes for r in records] == [
        '{"lines": 3, "total": "612.34"}',
        '{"number": "INV-2026-000001"}',
    ]
    assert all(before - timedelta(seconds=1) <= r.occurred_at <= datetime.now(UTC) for r in records)
    assert len({r.id for r in records}) == 2
