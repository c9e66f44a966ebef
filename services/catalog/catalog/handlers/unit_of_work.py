"""The port of the catalog's handlers: a unit of work holding one repository per concept.

Handlers see only `CatalogUnitOfWork` — its repositories (domain objects in, domain objects
out), the actor, `audit` and `commit`. `bootstrap` builds the SQL one
(`catalog.repository.unit_of_work`); unit tests give handlers an in-memory fake
(`tests/catalog/unit/fakes.py`). What every adapter shares — a missing id is a 404, the
aggregates a unit of work has seen, how their recorded events become contracts — lives here,
so the adapters cannot drift.
"""

from __future__ import annotations

import abc
from collections.abc import Collection, Iterator, Sequence
from datetime import date
from typing import Any, Generic, TypeVar

from catalog.domain.bundles import Bundle
from catalog.domain.common import Aggregate
from catalog.domain.contract_templates import ContractTemplate
from catalog.domain.cost_books import CostBook, CostBookVersion
from catalog.domain.discounts import Discount
from catalog.domain.prices import Price, PriceVersion
from catalog.domain.products import Product
from catalog.domain.quotes import Quote
from catalog.domain.versions import EffectiveDated
from catalog.events import contract_of
from libs.platform.errors import NotFound
from libs.platform.pagination import Page, PageRequest
from libs.platform.unit_of_work_port import UnitOfWorkPort

A = TypeVar("A", bound=Aggregate)
V = TypeVar("V", bound=EffectiveDated)


class Repository(abc.ABC, Generic[A]):
    """Loads and stages one concept's aggregates; remembers those it saw (for their events)."""

    entity: str
    """How an error message names one of these (`product`, `cost book`)."""

    def __init__(self) -> None:
        self.seen: dict[str, A] = {}

    @abc.abstractmethod
    async def _find_many(self, ids: Sequence[str]) -> dict[str, A]:
        """The aggregates of these ids that exist, by id (one query)."""

    @abc.abstractmethod
    def _stage(self, aggregate: A) -> None:
        """Write the aggregate's state into the current transaction."""

    def add(self, aggregate: A) -> None:
        """Stage a new or changed aggregate in this unit of work."""
        self.seen[aggregate.id] = aggregate
        self._stage(aggregate)

    async def find_many(self, ids: Collection[str]) -> dict[str, A]:
        """The aggregates of these ids that exist, by id (unknown ids are left out)."""
        wanted = list(dict.fromkeys(ids))
        found = {i: self.seen[i] for i in wanted if i in self.seen}
        missing = [i for i in wanted if i not in found]
        if missing:
            found.update(self._remember(await self._find_many(missing)))
        return found

    async def get(self, entity_id: str) -> A:
        """The aggregate with this id, or NotFound (404)."""
        found = await self.find_many([entity_id])
        if entity_id not in found:
            raise NotFound(self.entity, entity_id)
        return found[entity_id]

    async def get_many(self, ids: Sequence[str]) -> dict[str, A]:
        """Aggregates by id; the first unknown id raises NotFound (404)."""
        wanted = list(dict.fromkeys(ids))
        found = await self.find_many(wanted)
        for entity_id in wanted:
            if entity_id not in found:
                raise NotFound(self.entity, entity_id)
        return found

    def _remember(self, found: dict[str, A]) -> dict[str, A]:
        # One object per id per unit of work, so no recorded event is lost to a second copy.
        for entity_id, aggregate in found.items():
            found[entity_id] = self.seen.setdefault(entity_id, aggregate)
        return found

    def _remember_page(self, page: Page[A]) -> Page[A]:
        data = list(self._remember({a.id: a for a in page.data}).values())
        return page.model_copy(update={"data": data})


class VersionedRepository(Repository[A], Generic[A, V]):
    """A concept published in effective-dated versions (prices, cost books)."""

    @abc.abstractmethod
    def _stage_version(self, version: V) -> None:
        """Write a version into the current transaction."""

    def add(self, aggregate: A, *versions: V) -> None:
        """Stage the aggregate and its new or changed versions."""
        super().add(aggregate)
        for version in versions:
            self._stage_version(version)

    @abc.abstractmethod
    async def versions(self, owner_id: str) -> list[V]:
        """Every version of one aggregate, oldest first."""

    @abc.abstractmethod
    async def versions_in_force(self, owner_ids: Collection[str], as_of: date) -> dict[str, V]:
        """The version of each aggregate in force on `as_of`, by aggregate id (one query)."""

    @abc.abstractmethod
    async def versions_page(self, owner_id: str, page: PageRequest) -> Page[V]:
        """A page of one aggregate's versions, oldest first."""


class ProductRepository(Repository[Product]):
    """Products."""

    entity = "product"

    @abc.abstractmethod
    async def sku_taken(self, sku: str) -> bool:
        """True when a product has this SKU."""

    @abc.abstractmethod
    async def page(self, page: PageRequest, *, kind: str | None, active: bool | None) -> Page[Product]:
        """A page of products ordered by id, optionally of one kind or activity."""


class PriceRepository(VersionedRepository[Price, PriceVersion]):
    """Prices and their versions."""

    entity = "price"

    @abc.abstractmethod
    async def product_prices_in_force(
        self, product_ids: Collection[str], currency: str, as_of: date
    ) -> dict[str, PriceVersion]:
        """For each product, the version in force on `as_of` of its first price (by id) in `currency`."""

    @abc.abstractmethod
    async def latest_page(
        self, page: PageRequest, *, product_id: str | None, currency: str | None
    ) -> Page[PriceVersion]:
        """A page of the latest version of every price, ordered by price id."""


class CostBookRepository(VersionedRepository[CostBook, CostBookVersion]):
    """Vendor cost books and their versions."""

    entity = "cost book"

    @abc.abstractmethod
    async def latest_page(self, page: PageRequest, *, vendor_id: str | None) -> Page[CostBookVersion]:
        """A page of the latest version of every cost book, ordered by cost book id."""


class BundleRepository(Repository[Bundle]):
    """Bundles."""

    entity = "bundle"

    @abc.abstractmethod
    async def page(self, page: PageRequest) -> Page[Bundle]:
        """A page of bundles ordered by id."""


class DiscountRepository(Repository[Discount]):
    """Discounts and promotions."""

    entity = "discount"

    @abc.abstractmethod
    async def by_promo_codes(self, codes: Collection[str]) -> dict[str, Discount]:
        """The discounts of these promo codes, by code (one query; unknown codes are left out)."""

    @abc.abstractmethod
    async def page(self, page: PageRequest, *, promo_code: str | None, active: bool | None) -> Page[Discount]:
        """A page of discounts ordered by id, optionally the one with a promo code."""


class ContractTemplateRepository(Repository[ContractTemplate]):
    """Support-contract templates."""

    entity = "contract template"

    @abc.abstractmethod
    async def page(self, page: PageRequest) -> Page[ContractTemplate]:
        """A page of templates ordered by id."""


class QuoteRepository(Repository[Quote]):
    """Saved quotes."""

    entity = "quote"

    @abc.abstractmethod
    async def page(self, page: PageRequest) -> Page[Quote]:
        """A page of quotes ordered by id."""


class CatalogUnitOfWork(UnitOfWorkPort):
    """What a handler may do in one use case: use the repositories, audit, commit once.

    On commit the events the aggregates recorded become contract payloads (`catalog.events`)
    in the outbox, in the same transaction as the change.
    """

    products: ProductRepository
    prices: PriceRepository
    cost_books: CostBookRepository
    bundles: BundleRepository
    discounts: DiscountRepository
    contract_templates: ContractTemplateRepository
    quotes: QuoteRepository

    def repositories(self) -> tuple[Repository[Any], ...]:
        """Every repository of this unit of work."""
        return (
            self.products,
            self.prices,
            self.cost_books,
            self.bundles,
            self.discounts,
            self.contract_templates,
            self.quotes,
        )

    def collect_new_events(self) -> Iterator[object]:
        """The domain events recorded by the aggregates seen, oldest first per aggregate (taken once)."""
        for repository in self.repositories():
            for aggregate in repository.seen.values():
                while aggregate.events:
                    yield aggregate.events.pop(0)

    def stage_recorded_events(self) -> None:
        """Turn recorded domain events into contract payloads in the outbox (the one event path)."""
        for payload, key in map(contract_of, self.collect_new_events()):
            self.emit(payload, key=key)
