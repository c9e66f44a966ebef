"""The port of the catalog's handlers: the unit of work and the repository it holds.

Handlers see only `CatalogUnitOfWork` (a repository, the actor, `audit`, `emit`, `commit`);
`bootstrap` builds the SQL one (`catalog.repository.unit_of_work`), unit tests give handlers an
in-memory fake (`tests/catalog/unit/fakes.py`). What both adapters share — a missing id is a 404,
which version of a price is the latest — lives in the abstract repository, so they cannot drift.
"""

from __future__ import annotations

import abc
from collections.abc import Collection, Sequence
from datetime import date
from types import TracebackType
from typing import Any, Protocol, Self, TypeVar

from sqlmodel import SQLModel

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
from libs.contracts.envelope import Envelope, EventPayload
from libs.platform.errors import NotFound
from libs.platform.pagination import Page, PageRequest

M = TypeVar("M", bound=SQLModel)
V = TypeVar("V", PriceVersion, CostBookVersion)

ENTITY_NAMES: dict[type[SQLModel], str] = {
    Product: "product",
    Price: "price",
    CostBook: "cost book",
    Bundle: "bundle",
    Discount: "discount",
    ContractTemplate: "contract template",
    Quote: "quote",
}

VERSIONED: dict[type[SQLModel], tuple[type[SQLModel], str]] = {
    PriceVersion: (Price, "price_id"),
    CostBookVersion: (CostBook, "cost_book_id"),
}
"""Each version table: the table of the versioned thing and the column naming it."""


def entity_name(model: type[SQLModel]) -> str:
    """How an error message names a row of `model`."""
    return ENTITY_NAMES.get(model, model.__name__.lower())


def owner_of(version: PriceVersion | CostBookVersion) -> str:
    """The id of the price or cost book a version belongs to."""
    return str(getattr(version, VERSIONED[type(version)][1]))


class CatalogRepository(abc.ABC):
    """Loads and stores catalog rows; raises NotFound for unknown ids."""

    @abc.abstractmethod
    def add(self, *rows: SQLModel) -> None:
        """Stage new or changed rows in the current transaction."""

    @abc.abstractmethod
    async def find_many(self, model: type[M], ids: Collection[str]) -> dict[str, M]:
        """The rows of these ids that exist, by id (one query; unknown ids are left out)."""

    @abc.abstractmethod
    async def discounts_by_promo_code(self, codes: Collection[str]) -> dict[str, Discount]:
        """The discounts of these promo codes, by code (one query; unknown codes are left out)."""

    @abc.abstractmethod
    async def exists(self, model: type[SQLModel], **equal: Any) -> bool:
        """True when a row of `model` has these column values."""

    @abc.abstractmethod
    async def versions(self, model: type[V], owner_id: str) -> list[V]:
        """Every version of one price or cost book, oldest first."""

    @abc.abstractmethod
    async def versions_in_force(
        self, model: type[V], owner_ids: Collection[str], as_of: date
    ) -> dict[str, V]:
        """The version of each price or cost book in force on `as_of`, by its id (one query)."""

    @abc.abstractmethod
    async def product_prices_in_force(
        self, product_ids: Collection[str], currency: str, as_of: date
    ) -> dict[str, PriceVersion]:
        """For each product, the version in force on `as_of` of its first price (by id) in `currency`."""

    @abc.abstractmethod
    async def page(self, model: type[M], page: PageRequest, **equal: Any) -> Page[M]:
        """A page of `model` ordered by id; `equal` filters on columns (None = no filter)."""

    @abc.abstractmethod
    async def latest_versions_page(self, model: type[V], page: PageRequest, **equal: Any) -> Page[V]:
        """A page of the latest version of every price or cost book, ordered by its id."""

    async def get(self, model: type[M], entity_id: str) -> M:
        """The row of `model` with this id, or NotFound (404)."""
        found = await self.find_many(model, [entity_id])
        if entity_id not in found:
            raise NotFound(entity_name(model), entity_id)
        return found[entity_id]

    async def get_many(self, model: type[M], ids: Sequence[str]) -> dict[str, M]:
        """Rows by id; the first unknown id raises NotFound (404)."""
        wanted = list(dict.fromkeys(ids))
        found = await self.find_many(model, wanted)
        for entity_id in wanted:
            if entity_id not in found:
                raise NotFound(entity_name(model), entity_id)
        return found


class CatalogUnitOfWork(Protocol):
    """What a handler may do in one use case: read and stage rows, audit, emit, commit once."""

    catalog: CatalogRepository
    actor: str

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def audit(self, action: str, entity_type: str, entity_id: str, changes: dict[str, Any]) -> None:
        """Record who changed what, in this unit of work."""

    def emit(self, payload: EventPayload, *, key: str, causation_id: str | None = None) -> Envelope:
        """Record an event to publish when (and only if) this unit of work commits."""

    async def commit(self) -> None:
        """Commit the staged rows, audit records and events together."""
