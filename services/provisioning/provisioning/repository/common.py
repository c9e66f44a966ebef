"""What every SQL adapter of provisioning shares: loading a row or NotFound, upserts, child rows.

Loads for a change take a row lock on PostgreSQL (`for_update`); SQLite serialises writers
with BEGIN IMMEDIATE. Child collections (lines, tasks, assignments) are rewritten on save;
histories (subscription changes, seat transfers) are append-only.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any, TypeVar

from sqlalchemy import func
from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from libs.platform.db import utcnow
from libs.platform.errors import NotFound

R = TypeVar("R", bound=SQLModel)


async def _row(session: AsyncSession, model: type[R], entity: str, key: str, *, for_update: bool) -> R:
    stmt = select(model).where(model.id == key)  # type: ignore[attr-defined]
    if for_update:
        stmt = stmt.with_for_update()
    row = (await session.exec(stmt)).first()
    if row is None:
        raise NotFound(entity, key)
    return row


def _put(session: AsyncSession, model: type[R], row: R | None, values: dict[str, Any]) -> R:
    """`row` with `values` set, or a new row of `model` when there is none."""
    if row is None:
        row = model(**values)
    else:
        for name, value in values.items():
            setattr(row, name, value)
    session.add(row)
    return row


async def _children(
    session: AsyncSession, model: type[R], parent_column: Any, parent_id: str, order: Any = None
) -> Sequence[R]:
    """The rows of `model` belonging to one parent, in `order` when given."""
    stmt = select(model).where(col(parent_column) == parent_id)
    if order is not None:
        stmt = stmt.order_by(col(order))
    return (await session.exec(stmt)).all()


async def _upsert(session: AsyncSession, model: type[R], key: Any, values: dict[str, Any]) -> R:
    return _put(session, model, await session.get(model, key), values)


async def count(session: AsyncSession, model: type[SQLModel], *conditions: Any) -> int:
    """Number of rows matching the conditions."""
    stmt = select(func.count()).select_from(model)
    for condition in conditions:
        stmt = stmt.where(condition)
    return int((await session.exec(stmt)).one())


def today() -> date:
    """Today's date in UTC (the service's clock for default effective dates)."""
    return utcnow().date()
