"""The catalog's SQL adapters: the repository over the service's database and its unit of work."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from typing import Any, Self

from sqlalchemy import ColumnElement, and_, or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from catalog.handlers.unit_of_work import VERSIONED, CatalogRepository, M, V, entity_name, owner_of
from catalog.models import (
    CostBookVersion,
    Discount,
    PriceVersion,
)
from libs.platform.errors import Conflict, NotFound
from libs.platform.pagination import Page, PageRequest, paginate
from libs.platform.unit_of_work import UnitOfWork


class SqlCatalogRepository(CatalogRepository):
    """The catalog repository over the service's own database."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, *rows: SQLModel) -> None:
        """Stage new or changed rows in the current transaction."""
        self.session.add_all(rows)

    async def get(self, model: type[M], entity_id: str) -> M:
        """The row of `model` with this id, or NotFound (404); rows already loaded cost no query."""
        row = await self.session.get(model, entity_id)
        if row is None:
            raise NotFound(entity_name(model), entity_id)
        return row

    async def find_many(self, model: type[M], ids: Collection[str]) -> dict[str, M]:
        """The rows of these ids that exist, by id (one query; unknown ids are left out)."""
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return {}
        key = model.id  # type: ignore[attr-defined]
        rows = (await self.session.exec(select(model).where(col(key).in_(wanted)))).all()
        return {row.id: row for row in rows}  # type: ignore[attr-defined]

    async def discounts_by_promo_code(self, codes: Collection[str]) -> dict[str, Discount]:
        """The discounts of these promo codes, by code (one query; unknown codes are left out)."""
        if not codes:
            return {}
        stmt = select(Discount).where(col(Discount.promo_code).in_(set(codes)))
        return {row.promo_code: row for row in (await self.session.exec(stmt)).all() if row.promo_code}

    async def exists(self, model: type[SQLModel], **equal: Any) -> bool:
        """True when a row of `model` has these column values."""
        stmt = select(model.id).where(*_equal(model, equal))  # type: ignore[attr-defined]
        return (await self.session.exec(stmt)).first() is not None

    async def versions(self, model: type[V], owner_id: str) -> list[V]:
        """Every version of one price or cost book, oldest first."""
        owner = col(getattr(model, VERSIONED[model][1]))
        stmt = select(model).where(owner == owner_id).order_by(col(model.version))
        return list((await self.session.exec(stmt)).all())

    async def versions_in_force(
        self, model: type[V], owner_ids: Collection[str], as_of: date
    ) -> dict[str, V]:
        """The version of each price or cost book in force on `as_of`, by its id (one query)."""
        if not owner_ids:
            return {}
        owner = col(getattr(model, VERSIONED[model][1]))
        stmt = (
            select(model)
            .where(owner.in_(set(owner_ids)), _in_force(model, as_of))
            .order_by(owner, col(model.version))
        )
        found: dict[str, V] = {}
        for row in (await self.session.exec(stmt)).all():
            found.setdefault(owner_of(row), row)
        return found

    async def product_prices_in_force(
        self, product_ids: Collection[str], currency: str, as_of: date
    ) -> dict[str, PriceVersion]:
        """For each product, the version in force on `as_of` of its first price (by id) in `currency`."""
        if not product_ids:
            return {}
        stmt = (
            select(PriceVersion)
            .where(
                col(PriceVersion.product_id).in_(set(product_ids)),
                col(PriceVersion.currency) == currency,
                _in_force(PriceVersion, as_of),
            )
            .order_by(col(PriceVersion.price_id), col(PriceVersion.version))
        )
        found: dict[str, PriceVersion] = {}
        for row in (await self.session.exec(stmt)).all():
            found.setdefault(row.product_id, row)
        return found

    async def page(self, model: type[M], page: PageRequest, **equal: Any) -> Page[M]:
        """A page of `model` ordered by id; `equal` filters on columns (None = no filter)."""
        stmt = select(model).where(*_equal(model, equal))
        return await paginate(self.session, stmt, model.id, page, _same)  # type: ignore[attr-defined]

    async def latest_versions_page(self, model: type[V], page: PageRequest, **equal: Any) -> Page[V]:
        """A page of the latest version of every price or cost book, ordered by its id."""
        owner_model, owner_column = VERSIONED[model]
        owner = col(getattr(model, owner_column))
        stmt = (
            select(model)
            .join(
                owner_model,
                and_(
                    col(owner_model.id) == owner,  # type: ignore[attr-defined]
                    col(owner_model.latest_version) == col(model.version),  # type: ignore[attr-defined]
                ),
            )
            .where(*_equal(model, equal))
        )
        return await paginate(self.session, stmt, owner, page, _same)


def _same(row: M) -> M:
    return row


def _equal(model: type[SQLModel], equal: dict[str, Any]) -> list[ColumnElement[bool]]:
    return [col(getattr(model, name)) == value for name, value in equal.items() if value is not None]


def _in_force(model: type[PriceVersion] | type[CostBookVersion], as_of: date) -> ColumnElement[bool]:
    """Versions whose half-open range [effective_from, effective_to) holds `as_of`."""
    return and_(
        col(model.effective_from) <= as_of,
        or_(col(model.effective_to).is_(None), col(model.effective_to) > as_of),
    )


class SqlCatalogUnitOfWork(UnitOfWork):
    """The platform unit of work plus the SQL repository; a unique-key race becomes a 409."""

    catalog: CatalogRepository

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        self.catalog = SqlCatalogRepository(self.session)
        return self

    async def commit(self) -> None:
        """Commit; a concurrent change that broke a unique key is reported as a conflict."""
        try:
            await super().commit()
        except IntegrityError:
            await self.rollback()
            raise Conflict(
                "the change conflicts with a concurrent one (a SKU, promo code or version already taken); "
                "read the current state and retry"
            ) from None
