"""Usage loads in SQL: `usage_loads` rows <-> `UsageLoad`, and the rejected rows kept for each.

A worker takes a load with a conditional UPDATE (still pending, lease run out or its own) and
renews its lease with another at the start of each chunk's transaction: on PostgreSQL that
UPDATE locks the row until the chunk commits, so a takeover waits for the chunk or sees the
renewed lease; on SQLite the transaction holds the write lock from its first statement.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final

from sqlalchemy import Table, insert, or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from libs.platform.errors import FieldError
from rating.domain.usage_loads import (
    PENDING,
    PROGRESS_FIELDS,
    LoadFormat,
    LoadProgress,
    LoadState,
    RejectedRow,
    UsageLoad,
)
from rating.handlers.usage_loads_port import UsageLoadRepository
from rating.models import UsageLoadRejectionRow, UsageLoadRow

LOADS: Final[Table] = UsageLoadRow.__table__  # type: ignore[attr-defined]
REJECTIONS: Final[Table] = UsageLoadRejectionRow.__table__  # type: ignore[attr-defined]
_PENDING: Final = sorted(state.value for state in PENDING)


def load_of(row: UsageLoadRow) -> UsageLoad:
    """The load of a row."""
    return UsageLoad(
        id=row.load_id,
        format=LoadFormat(row.format),
        size_bytes=row.size_bytes,
        sha256=row.sha256,
        created_at=row.created_at,
        name=row.name,
        actor=row.actor,
        state=LoadState(row.state),
        started_at=row.started_at,
        finished_at=row.finished_at,
        updated_at=row.updated_at,
        failure_reason=row.failure_reason,
        same_content_as=row.same_content_as,
        progress=LoadProgress(**{name: getattr(row, name) for name in PROGRESS_FIELDS}),
        rejections_kept=row.rejections_kept,
        worker=row.worker,
        lease_until=row.lease_until,
    )


def _changing(load: UsageLoad) -> dict[str, Any]:
    """The columns a load's loading changes."""
    progress = load.progress
    return {
        "state": load.state.value,
        "failure_reason": load.failure_reason,
        **{name: getattr(progress, name) for name in PROGRESS_FIELDS},
        "rejections_kept": load.rejections_kept,
        "worker": load.worker,
        "lease_until": load.lease_until,
        "started_at": load.started_at,
        "finished_at": load.finished_at,
        "updated_at": load.updated_at,
    }


class SqlUsageLoadRepository(UsageLoadRepository):
    """Usage loads and their kept rejected rows over one session."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, load: UsageLoad) -> None:
        """Insert a new load."""
        values = {
            "load_id": load.id,
            "name": load.name,
            "format": load.format.value,
            "size_bytes": load.size_bytes,
            "sha256": load.sha256,
            "same_content_as": load.same_content_as,
            "actor": load.actor[:80],
            "created_at": load.created_at,
            **_changing(load),
        }
        values["updated_at"] = load.updated_at or load.created_at
        await self.session.exec(insert(LOADS).values(**values))

    async def get(self, load_id: str) -> UsageLoad | None:
        """The load of this id."""
        row = await self.session.get(UsageLoadRow, load_id, populate_existing=True)
        return load_of(row) if row is not None else None

    async def page(self, *, after: str | None, limit: int, state: LoadState | None) -> list[UsageLoad]:
        """Loads by id after `after`."""
        statement = select(UsageLoadRow)
        if after is not None:
            statement = statement.where(col(UsageLoadRow.load_id) > after)
        if state is not None:
            statement = statement.where(col(UsageLoadRow.state) == state.value)
        statement = statement.order_by(col(UsageLoadRow.load_id)).limit(limit)
        return [load_of(row) for row in (await self.session.exec(statement)).all()]

    async def known(self, load_ids: Sequence[str]) -> set[str]:
        """Which ids name a load."""
        if not load_ids:
            return set()
        statement = select(UsageLoadRow.load_id).where(col(UsageLoadRow.load_id).in_(sorted(set(load_ids))))
        return set((await self.session.exec(statement)).all())

    async def first_with_content(self, sha256: str) -> str | None:
        """The first load of these bytes."""
        statement = (
            select(UsageLoadRow.load_id)
            .where(col(UsageLoadRow.sha256) == sha256)
            .order_by(col(UsageLoadRow.load_id))
            .limit(1)
        )
        return (await self.session.exec(statement)).first()

    async def claimable(self, *, worker: str, now: datetime, limit: int) -> list[UsageLoad]:
        """Pending loads free to take (or `worker`'s own), oldest first."""
        statement = (
            select(UsageLoadRow)
            .where(col(UsageLoadRow.state).in_(_PENDING), self._free(worker, now))
            .order_by(col(UsageLoadRow.load_id))
            .limit(limit)
        )
        return [load_of(row) for row in (await self.session.exec(statement)).all()]

    async def take(self, load: UsageLoad, *, now: datetime) -> bool:
        """Start `load` for its worker if it is still pending and free."""
        assert load.worker is not None
        statement = (
            update(LOADS)
            .where(
                LOADS.c.load_id == load.id,
                LOADS.c.state.in_(_PENDING),
                self._free(load.worker, now),
            )
            .values(
                state=load.state.value,
                worker=load.worker,
                lease_until=load.lease_until,
                started_at=load.started_at,
                updated_at=load.updated_at,
            )
        )
        result = await self.session.exec(statement)
        return bool(result.rowcount == 1)

    async def hold(self, load_id: str, *, worker: str, until: datetime) -> bool:
        """Renew `worker`'s lease on a loading load."""
        statement = (
            update(LOADS)
            .where(
                LOADS.c.load_id == load_id,
                LOADS.c.worker == worker,
                LOADS.c.state == LoadState.LOADING.value,
            )
            .values(lease_until=until)
        )
        result = await self.session.exec(statement)
        return bool(result.rowcount == 1)

    async def release(self, load_id: str, *, worker: str) -> None:
        """End `worker`'s lease on a loading load."""
        statement = (
            update(LOADS)
            .where(
                LOADS.c.load_id == load_id, LOADS.c.worker == worker, LOADS.c.state == LoadState.LOADING.value
            )
            .values(lease_until=None)
        )
        await self.session.exec(statement)

    async def save(self, load: UsageLoad) -> None:
        """Write the load's progress, state and lease."""
        statement = update(LOADS).where(LOADS.c.load_id == load.id).values(**_changing(load))
        await self.session.exec(statement)

    async def add_rejections(self, load_id: str, rows: Sequence[RejectedRow]) -> None:
        """Insert kept rejected rows."""
        if not rows:
            return
        values = [
            {
                "load_id": load_id,
                "line": row.line,
                "event_id": row.event_id,
                "errors": json.dumps(
                    [{"field": e.field, "message": e.message, "code": e.code} for e in row.errors]
                ),
            }
            for row in rows
        ]
        await self.session.exec(insert(REJECTIONS), params=values)

    async def rejections(self, load_id: str, *, after_line: int, limit: int) -> list[RejectedRow]:
        """Kept rejected rows by line."""
        statement = (
            select(UsageLoadRejectionRow)
            .where(
                col(UsageLoadRejectionRow.load_id) == load_id,
                col(UsageLoadRejectionRow.line) > after_line,
            )
            .order_by(col(UsageLoadRejectionRow.line))
            .limit(limit)
        )
        return [
            RejectedRow(
                row.line,
                row.event_id,
                [FieldError(e["field"], e["message"], e["code"]) for e in json.loads(row.errors)],
            )
            for row in (await self.session.exec(statement)).all()
        ]

    @staticmethod
    def _free(worker: str, now: datetime) -> Any:
        return or_(
            LOADS.c.lease_until.is_(None),
            LOADS.c.lease_until < now,
            LOADS.c.worker == worker,
        )
