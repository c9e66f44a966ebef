"""What the catalog's SQL repositories share: rows <-> domain objects, set queries, pages, tiers.

Each concept's repository names its table and two mappings (`to_domain`, `to_row`); loading,
staging, filtering and paging are written once here. Rows loaded in a unit of work are kept, so
staging a changed aggregate updates its row instead of querying for it again.
"""

from __future__ import annotations

import abc
import json
from collections.abc import Collection, Sequence
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, and_, or_
from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from catalog.domain.common import Aggregate
from catalog.domain.versions import EffectiveDated
from catalog.handlers.unit_of_work import Repository, VersionedRepository
from libs.platform.money import decimal_out
from libs.platform.pagination import Page, PageRequest, paginate
from libs.pricing import Tier

A = TypeVar("A", bound=Aggregate)
V = TypeVar("V", bound=EffectiveDated)


class SqlRepository(Repository[A]):
    """A repository over one table of the catalog's database."""

    model: type[SQLModel]

    def __init__(self, session: AsyncSession) -> None:
        super().__init__()
        self.session = session
        self.rows: dict[str, Any] = {}

    @abc.abstractmethod
    def to_domain(self, row: Any) -> A:
        """The domain object of a row."""

    @abc.abstractmethod
    def to_row(self, aggregate: A) -> dict[str, Any]:
        """The column values of a domain object."""

    async def _find_many(self, ids: Sequence[str]) -> dict[str, A]:
        found = await self._select(self.model, col(self.model.id).in_(ids))  # type: ignore[attr-defined]
        return {row.id: self._load(row) for row in found}

    def _stage(self, aggregate: A) -> None:
        stage_row(self.session, self.rows, self.model, self.to_row(aggregate))

    def _load(self, row: Any) -> A:
        self.rows[row.id] = row
        return self.to_domain(row)

    async def _select(self, model: type[SQLModel], *where: ColumnElement[bool]) -> list[Any]:
        return list((await self.session.exec(select(model).where(*where))).all())

    async def _exists(self, **equal: Any) -> bool:
        stmt = select(self.model.id).where(*equal_to(self.model, equal))  # type: ignore[attr-defined]
        return (await self.session.exec(stmt)).first() is not None

    async def _page(self, page: PageRequest, **equal: Any) -> Page[A]:
        stmt = select(self.model).where(*equal_to(self.model, equal))
        found = await paginate(self.session, stmt, self.model.id, page, self._load)  # type: ignore[attr-defined]
        return self._remember_page(found)


class SqlVersionedRepository(SqlRepository[A], VersionedRepository[A, V]):
    """A repository over an aggregate's table and its table of effective-dated versions."""

    version_model: type[SQLModel]
    owner_column: str
    """The column of `version_model` naming the aggregate."""

    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session)
        self.version_rows: dict[str, Any] = {}

    @abc.abstractmethod
    def version_to_domain(self, row: Any) -> V:
        """The domain object of a version row."""

    @abc.abstractmethod
    def version_to_row(self, version: V) -> dict[str, Any]:
        """The column values of a version."""

    def _stage_version(self, version: V) -> None:
        stage_row(self.session, self.version_rows, self.version_model, self.version_to_row(version))

    def _load_version(self, row: Any) -> V:
        self.version_rows[row.id] = row
        return self.version_to_domain(row)

    def _owner(self) -> Any:
        return col(getattr(self.version_model, self.owner_column))

    async def versions(self, owner_id: str) -> list[V]:
        """Every version of one aggregate, oldest first."""
        version = col(self.version_model.version)  # type: ignore[attr-defined]
        stmt = select(self.version_model).where(self._owner() == owner_id).order_by(version)
        return [self._load_version(row) for row in (await self.session.exec(stmt)).all()]

    async def versions_in_force(self, owner_ids: Collection[str], as_of: date) -> dict[str, V]:
        """The version of each aggregate in force on `as_of`, by aggregate id (one query)."""
        if not owner_ids:
            return {}
        stmt = (
            select(self.version_model)
            .where(self._owner().in_(set(owner_ids)), in_force(self.version_model, as_of))
            .order_by(self._owner(), col(self.version_model.version))  # type: ignore[attr-defined]
        )
        return self._first_by(await self._exec(stmt), self.owner_column)

    async def versions_page(self, owner_id: str, page: PageRequest) -> Page[V]:
        """A page of one aggregate's versions, ordered by version id."""
        stmt = select(self.version_model).where(self._owner() == owner_id)
        key = self.version_model.id  # type: ignore[attr-defined]
        return await paginate(self.session, stmt, key, page, self._load_version)

    async def _latest_page(self, page: PageRequest, **equal: Any) -> Page[V]:
        """A page of the latest version of every aggregate, ordered by aggregate id (one query)."""
        owner_latest = and_(
            col(self.model.id) == self._owner(),  # type: ignore[attr-defined]
            col(self.model.latest_version) == col(self.version_model.version),  # type: ignore[attr-defined]
        )
        stmt = (
            select(self.version_model)
            .join(self.model, owner_latest)
            .where(*equal_to(self.version_model, equal))
        )
        return await paginate(self.session, stmt, self._owner(), page, self._load_version)

    async def _exec(self, stmt: SelectOfScalar[Any]) -> list[Any]:
        return list((await self.session.exec(stmt)).all())

    def _first_by(self, rows: list[Any], column: str) -> dict[str, V]:
        found: dict[str, V] = {}
        for row in rows:
            if getattr(row, column) not in found:
                found[getattr(row, column)] = self._load_version(row)
        return found


def stage_row(
    session: AsyncSession, rows: dict[str, Any], model: type[SQLModel], values: dict[str, Any]
) -> None:
    """Update the loaded row with these values, or add a new one."""
    row = rows.get(values["id"])
    if row is None:
        row = model(**values)
        rows[values["id"]] = row
        session.add(row)
        return
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)


def equal_to(model: type[SQLModel], equal: dict[str, Any]) -> list[ColumnElement[bool]]:
    """Column filters; a None value means no filter on that column."""
    return [col(getattr(model, name)) == value for name, value in equal.items() if value is not None]


def in_force(model: Any, as_of: date) -> ColumnElement[bool]:
    """Versions whose half-open range [effective_from, effective_to) holds `as_of`."""
    return and_(
        col(model.effective_from) <= as_of,
        or_(col(model.effective_to).is_(None), col(model.effective_to) > as_of),
    )


# Tiers are stored as JSON text with decimal strings, so they stay exact on every backend.


def tiers_json(tiers: Sequence[Tier]) -> str:
    """Tiers as stored."""
    return json.dumps(
        [
            {
                "up_to": None if t.up_to is None else format(decimal_out(t.up_to), "f"),
                "unit_price": format(decimal_out(t.unit_price), "f"),
                "flat_fee": format(decimal_out(t.flat_fee), "f"),
            }
            for t in tiers
        ]
    )


def tiers_of(text: str) -> tuple[Tier, ...]:
    """Tiers from their stored form."""
    return tuple(
        Tier(
            None if t["up_to"] is None else Decimal(t["up_to"]),
            Decimal(t["unit_price"]),
            Decimal(t["flat_fee"]),
        )
        for t in json.loads(text)
    )
