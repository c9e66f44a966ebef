"""What every SQL adapter of provisioning shares: a row or NotFound, upserts, child rows, pages.

Loads for a change take a row lock on PostgreSQL (`for_update`); SQLite serialises writers
with BEGIN IMMEDIATE. Child collections (lines, tasks, assignments) are rewritten on save;
histories (subscription changes, seat transfers) are append-only. Pages load their children
with one query per child table, whatever the page size.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from enum import StrEnum
from typing import Any, TypeVar

from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from libs.platform.errors import NotFound
from libs.platform.pagination import Page, PageRequest, paginate

R = TypeVar("R", bound=SQLModel)
T = TypeVar("T")
E = TypeVar("E", bound=StrEnum)


async def find_row(session: AsyncSession, model: type[R], key: str, *, for_update: bool = False) -> R | None:
    """The row of `model` with this id (locked for a change when asked), or None."""
    stmt = select(model).where(model.id == key)  # type: ignore[attr-defined]
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.exec(stmt)).first()


async def get_row(session: AsyncSession, model: type[R], entity: str, key: str, *, for_update: bool) -> R:
    """The row of `model` with this id, or NotFound naming `entity`."""
    row = await find_row(session, model, key, for_update=for_update)
    if row is None:
        raise NotFound(entity, key)
    return row


def put(session: AsyncSession, model: type[R], row: R | None, values: dict[str, Any]) -> R:
    """`row` with `values` set, or a new row of `model` when there is none."""
    if row is None:
        row = model(**values)
    else:
        for name, value in values.items():
            setattr(row, name, value)
    session.add(row)
    return row


async def upsert(session: AsyncSession, model: type[R], key: Any, values: dict[str, Any]) -> R:
    """Insert or update the row of `model` with this key."""
    return put(session, model, await session.get(model, key), values)


async def children(
    session: AsyncSession, model: type[R], parent_column: Any, parent_ids: Collection[str], order: Any = None
) -> dict[str, list[R]]:
    """The rows of `model` of each parent (one query), in `order` when given."""
    found: dict[str, list[R]] = {parent: [] for parent in parent_ids}
    if not found:
        return found
    stmt = select(model).where(col(parent_column).in_(list(found)))
    if order is not None:
        stmt = stmt.order_by(col(order))
    for row in (await session.exec(stmt)).all():
        found[getattr(row, parent_column.key)].append(row)
    return found


async def rows_page(session: AsyncSession, model: type[R], page: PageRequest, **equal_to: Any) -> Page[R]:
    """A page of rows of `model` by id, kept to the columns equal to the filters (empty: no filter)."""
    stmt = select(model)
    for column, value in equal_to.items():
        if value:
            stmt = stmt.where(getattr(model, column) == value)
    return await paginate(session, stmt, model.id, page, _same)  # type: ignore[attr-defined]


def _same(row: R) -> R:
    return row


def with_data(page: Page[Any], data: Sequence[T]) -> Page[T]:
    """The same page (cursor, has_more) holding `data` instead."""
    return Page[T](data=list(data), next_cursor=page.next_cursor, has_more=page.has_more)


def mapped(page: Page[R], to_domain: Callable[[R], T]) -> Page[T]:
    """A page of rows as domain objects."""
    return with_data(page, [to_domain(row) for row in page.data])


def optional_enum(vocabulary: type[E], value: str | None) -> E | None:
    """A stored word read back as its enum (libs.contracts.vocabulary); None stays None."""
    return None if value is None else vocabulary(value)
