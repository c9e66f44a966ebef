"""Adapters: the catalog's repository over its own database and its unit of work."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date
from typing import Any, Self, TypeVar

from sqlalchemy import ColumnElement, and_, or_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql import Select
from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from catalog.models import (
    Bundle,
    ContractTemplate,
    CostBook,
    CostBookVersion,
    Discount,
    Price,
    PriceVersion,
    Product,
    Quote,
)
from libs.platform.errors import Conflict, NotFound
from libs.platform.unit_of_work import UnitOfWork

M = TypeVar("M", bound=SQLModel)

ENTITY_NAMES: dict[type[SQLModel], str] = {
    Product: "product",
    Price: "price",
    CostBook: "cost book",
    Bundle: "bundle",
    Discount: "discount",
    ContractTemplate: "contract template",
    Quote: "quote",
}


class CatalogRepository:
    """Loads and stores catalog rows; raises NotFound for unknown ids."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, *rows: SQLModel) -> None:
        """Stage new or changed rows in the current transaction."""
        self.session.add_all(rows)

    async def get(self, model: type[M], entity_id: str) -> M:
        """The row of `model` with this id, or NotFound (404)."""
        row = await self.session.get(model, entity_id)
        if row is None:
            raise NotFound(ENTITY_NAMES.get(model, model.__name__.lower()), entity_id)
        return row

    async def find_many(self, model: type[M], ids: Collection[str]) -> dict[str, M]:
        """The rows of these ids that exist, by id (one query; unknown ids are left out)."""
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return {}
        key = model.id  # type: ignore[attr-defined]
        rows = (await self.session.exec(select(model).where(col(key).in_(wanted)))).all()
        return {row.id: row for row in rows}  # type: ignore[attr-defined]

    async def get_many(self, model: type[M], ids: Sequence[str]) -> dict[str, M]:
        """Rows by id; the first unknown id raises NotFound (404)."""
        wanted = list(dict.fromkeys(ids))
        found = await self.find_many(model, wanted)
        for entity_id in wanted:
            if entity_id not in found:
                raise NotFound(ENTITY_NAMES.get(model, model.__name__.lower()), entity_id)
        return found

    async def sku_taken(self, sku: str) -> bool:
        """True when a product already has this SKU."""
        return (await self.session.exec(select(Product.id).where(Product.sku == sku))).first() is not None

    async def promo_code_taken(self, code: str) -> bool:
        """True when a discount already has this promo code."""
        found = await self.session.exec(select(Discount.id).where(Discount.promo_code == code))
        return found.first() is not None

    async def price_versions(self, price_id: str) -> list[PriceVersion]:
        """Every version of a price, oldest first."""
        stmt = (
            select(PriceVersion).where(PriceVersion.price_id == price_id).order_by(col(PriceVersion.version))
        )
        return list((await self.session.exec(stmt)).all())

    async def cost_book_versions(self, cost_book_id: str) -> list[CostBookVersion]:
        """Every version of a cost book, oldest first."""
        stmt = (
            select(CostBookVersion)
            .where(CostBookVersion.cost_book_id == cost_book_id)
            .order_by(col(CostBookVersion.version))
        )
        return list((await self.session.exec(stmt)).all())

    async def price_versions_in_force(
        self, price_ids: Collection[str], as_of: date
    ) -> dict[str, PriceVersion]:
        """The version of each price in force on `as_of`, by price id (one query)."""
        if not price_ids:
            return {}
        stmt = (
            select(PriceVersion)
            .where(col(PriceVersion.price_id).in_(set(price_ids)), _in_force(PriceVersion, as_of))
            .order_by(col(PriceVersion.price_id), col(PriceVersion.version))
        )
        found: dict[str, PriceVersion] = {}
        for row in (await self.session.exec(stmt)).all():
            found.setdefault(row.price_id, row)
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
                PriceVersion.currency == currency,
                _in_force(PriceVersion, as_of),
            )
            .order_by(col(PriceVersion.price_id), col(PriceVersion.version))
        )
        found: dict[str, PriceVersion] = {}
        for row in (await self.session.exec(stmt)).all():
            found.setdefault(row.product_id, row)
        return found

    async def cost_book_versions_in_force(
        self, cost_book_ids: Collection[str], as_of: date
    ) -> dict[str, CostBookVersion]:
        """The version of each cost book in force on `as_of`, by cost book id (one query)."""
        if not cost_book_ids:
            return {}
        stmt = (
            select(CostBookVersion)
            .where(
                col(CostBookVersion.cost_book_id).in_(set(cost_book_ids)), _in_force(CostBookVersion, as_of)
            )
            .order_by(col(CostBookVersion.cost_book_id), col(CostBookVersion.version))
        )
        found: dict[str, CostBookVersion] = {}
        for row in (await self.session.exec(stmt)).all():
            found.setdefault(row.cost_book_id, row)
        return found


def _in_force(model: type[PriceVersion] | type[CostBookVersion], as_of: date) -> ColumnElement[bool]:
    """Versions whose half-open range [effective_from, effective_to) holds `as_of`."""
    return and_(
        col(model.effective_from) <= as_of,
        or_(col(model.effective_to).is_(None), col(model.effective_to) > as_of),
    )


def latest_price_versions() -> Select[Any]:
    """The latest version of every price (for lists)."""
    return select(PriceVersion).join(
        Price,
        and_(
            col(Price.id) == col(PriceVersion.price_id),
            col(Price.latest_version) == col(PriceVersion.version),
        ),
    )


def latest_cost_book_versions() -> Select[Any]:
    """The latest version of every cost book (for lists)."""
    return select(CostBookVersion).join(
        CostBook,
        and_(
            col(CostBook.id) == col(CostBookVersion.cost_book_id),
            col(CostBook.latest_version) == col(CostBookVersion.version),
        ),
    )


class CatalogUnitOfWork(UnitOfWork):
    """The platform unit of work plus the catalog repository; a unique-key race becomes a 409."""

    catalog: CatalogRepository

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        self.catalog = CatalogRepository(self.session)
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
