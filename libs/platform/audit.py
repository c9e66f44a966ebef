"""The audit log: every state change records who, when and what (DESIGN §6)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel
from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel, select
from sqlmodel.ext.asyncio.session import AsyncSession

from libs.platform.auth import Principal, require_roles
from libs.platform.db import UtcDateTime, utcnow
from libs.platform.driver_rows import driver_insert, driver_rows
from libs.platform.ids import new_id
from libs.platform.pagination import Page, PageParams, paginate
from libs.platform.settings import Role


class AuditRecord(SQLModel, table=True):
    """One recorded change."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_entity", "entity_type", "entity_id"),)

    id: str = Field(primary_key=True, max_length=40)
    occurred_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    actor: str = Field(max_length=80)
    action: str = Field(max_length=80)
    entity_type: str = Field(max_length=60)
    entity_id: str = Field(max_length=60)
    changes: str = Field(sa_column=Column(Text, nullable=False))
    correlation_id: str | None = Field(default=None, max_length=64)


class AuditEntry(BaseModel):
    """An audit record as finance reads it."""

    id: str
    occurred_at: datetime
    actor: str
    action: str
    entity_type: str
    entity_id: str
    changes: dict[str, Any]
    correlation_id: str | None = None


_CHANGES: Final = json.JSONEncoder(default=str, sort_keys=True)
"""What `json.dumps(changes, default=str, sort_keys=True)` builds on every call, built once (a bill
run writes two records an invoice)."""


def new_audit_record(
    *,
    actor: str,
    action: str,
    entity_type: str,
    entity_id: str,
    changes: dict[str, Any],
    correlation_id: str | None,
) -> AuditRecord:
    """Build an audit record (the caller adds it to its transaction)."""
    return AuditRecord(
        id=new_id("aud"),
        occurred_at=utcnow(),
        actor=actor,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        changes=_CHANGES.encode(changes),
        correlation_id=correlation_id,
    )


AuditChange = tuple[str, str, str, dict[str, Any]]
"""(action, entity type, entity id, changes): one record of `add_audit_records`."""


async def add_audit_records(
    session: AsyncSession, records: Sequence[AuditChange], *, actor: str, correlation_id: str | None
) -> None:
    """Insert many audit records in the caller's transaction with one statement (executemany), no ORM
    object per record: a bill run's chunk records two per invoice, and building and flushing them
    one object at a time cost more than the invoice itself."""
    if not records:
        return
    occurred_at = utcnow()
    rows = [
        (
            new_id("aud"),
            occurred_at,
            actor,
            action,
            entity_type,
            entity_id,
            _CHANGES.encode(changes),
            correlation_id,
        )
        for action, entity_type, entity_id, changes in records
    ]
    # Straight to the driver's executemany (as the outbox stages its rows): SQLAlchemy's per-row
    # parameter processing cost more than the rows' own work.
    table: Any = AuditRecord.__table__  # type: ignore[attr-defined]
    connection = await session.connection()
    dialect = connection.dialect
    await connection.exec_driver_sql(
        driver_insert(table, _AUDIT_COLUMNS, dialect), driver_rows(table, _AUDIT_COLUMNS, dialect, rows)
    )


_AUDIT_COLUMNS: Final = (
    "id",
    "occurred_at",
    "actor",
    "action",
    "entity_type",
    "entity_id",
    "changes",
    "correlation_id",
)


def _public(record: AuditRecord) -> AuditEntry:
    return AuditEntry(
        id=record.id,
        occurred_at=record.occurred_at,
        actor=record.actor,
        action=record.action,
        entity_type=record.entity_type,
        entity_id=record.entity_id,
        changes=json.loads(record.changes),
        correlation_id=record.correlation_id,
    )


async def list_audit(
    *, session: AsyncSession, page: Any, entity_type: str | None, entity_id: str | None
) -> Page[AuditEntry]:
    """A page of audit records, optionally for one entity."""
    stmt = select(AuditRecord)
    if entity_type:
        stmt = stmt.where(AuditRecord.entity_type == entity_type)
    if entity_id:
        stmt = stmt.where(AuditRecord.entity_id == entity_id)
    return await paginate(session, stmt, AuditRecord.id, page, _public)


def audit_router() -> APIRouter:
    """`GET /v1/audit-log` for finance, admin and ops."""
    router = APIRouter(tags=["audit"])

    @router.get("/v1/audit-log", response_model=Page[AuditEntry], summary="List audited changes")
    async def get_audit_log(
        request: Request,
        page: PageParams,
        _: Annotated[Principal, Depends(require_roles(Role.FINANCE, Role.OPS))],
        entity_type: Annotated[str | None, Query(max_length=60)] = None,
        entity_id: Annotated[str | None, Query(max_length=60)] = None,
    ) -> Page[AuditEntry]:
        async with request.app.state.runtime.db.session() as session:
            return await list_audit(session=session, page=page, entity_type=entity_type, entity_id=entity_id)

    return router
