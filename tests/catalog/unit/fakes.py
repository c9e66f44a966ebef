"""In-memory adapters for the catalog's handlers: one fake repository per concept and a fake unit of work.

Each fake keeps domain objects in dicts and answers as its SQL counterpart does (ordering,
filters, pages); what every adapter shares (404s, events collected on commit) comes from the
port in `catalog.handlers.unit_of_work`, so the fakes cannot drift from it.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date
from typing import Any, TypeVar

from catalog.domain.bundles import Bundle
from catalog.domain.common import Aggregate
from catalog.domain.contract_templates import ContractTemplate
from catalog.domain.cost_books import CostBook, CostBookVersion
from catalog.domain.discounts import Discount
from catalog.domain.prices import Price, PriceVersion
from catalog.domain.products import Product
from catalog.domain.quotes import Quote
from catalog.domain.versions import is_in_force
from catalog.handlers.unit_of_work import (
    BundleRepository,
    CatalogUnitOfWork,
    ContractTemplateRepository,
    CostBookRepository,
    DiscountRepository,
    PriceRepository,
    ProductRepository,
    QuoteRepository,
    Repository,
    VersionedRepository,
)
from libs.platform.pagination import Page, PageRequest
from tests.support.fake_pages import page_of
from tests.support.fake_unit_of_work import FakeUnitOfWorkBase

A = TypeVar("A", bound=Aggregate)
V = TypeVar("V", PriceVersion, CostBookVersion)
T = TypeVar("T")


class FakeRepository(Repository[A]):
    """Aggregates in a dict by id."""

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[str, A] = {}

    async def _find_many(self, ids: Sequence[str]) -> dict[str, A]:
        return {i: self.items[i] for i in ids if i in self.items}

    def _stage(self, aggregate: A) -> None:
        self.items[aggregate.id] = aggregate

    def all(self) -> list[A]:
        """Every aggregate, by id."""
        return sorted(self.items.values(), key=lambda a: a.id)

    def page_of(self, page: PageRequest, **equal: Any) -> Page[A]:
        return page_of([a for a in self.all() if _matches(a, equal)], lambda a: a.id, page)


class FakeVersionedRepository(FakeRepository[A], VersionedRepository[A, V]):
    """Aggregates and their versions in dicts by id."""

    owner_field: str

    def __init__(self) -> None:
        super().__init__()
        self.version_items: dict[str, V] = {}

    def _stage_version(self, version: V) -> None:
        self.version_items[version.id] = version

    def _owner(self, version: V) -> str:
        return str(getattr(version, self.owner_field))

    def all_versions(self) -> list[V]:
        """Every version, by aggregate and version number."""
        return sorted(self.version_items.values(), key=lambda v: (self._owner(v), v.version))

    async def versions(self, owner_id: str) -> list[V]:
        return [v for v in self.all_versions() if self._owner(v) == owner_id]

    async def versions_in_force(self, owner_ids: Collection[str], as_of: date) -> dict[str, V]:
        found: dict[str, V] = {}
        for version in self.all_versions():
            if self._owner(version) in owner_ids and is_in_force(version, as_of):
                found.setdefault(self._owner(version), version)
        return found

    async def versions_page(self, owner_id: str, page: PageRequest) -> Page[V]:
        versions = sorted(await self.versions(owner_id), key=lambda v: v.id)
        return page_of(versions, lambda v: v.id, page)

    def _latest_page(self, page: PageRequest, **equal: Any) -> Page[V]:
        latest = [
            v
            for v in self.all_versions()
            if self._owner(v) in self.items
            and self.items[self._owner(v)].latest_version == v.version  # type: ignore[attr-defined]
            and _matches(v, equal)
        ]
        return page_of(latest, self._owner, page)


class FakeProductRepository(FakeRepository[Product], ProductRepository):
    async def sku_taken(self, sku: str) -> bool:
        return any(p.sku == sku for p in self.items.values())

    async def page(self, page: PageRequest, *, kind: str | None, active: bool | None) -> Page[Product]:
        return self._page(page, kind=kind, active=active)


class FakePriceRepository(FakeVersionedRepository[Price, PriceVersion], PriceRepository):
    owner_field = "price_id"

    async def product_prices_in_force(
        self, product_ids: Collection[str], currency: str, as_of: date
    ) -> dict[str, PriceVersion]:
        found: dict[str, PriceVersion] = {}
        for version in self.all_versions():
            if (
                version.product_id in product_ids
                and version.currency == currency
                and is_in_force(version, as_of)
            ):
                found.setdefault(version.product_id, version)
        return found

    async def latest_page(
        self, page: PageRequest, *, product_id: str | None, currency: str | None
    ) -> Page[PriceVersion]:
        return self._latest_page(page, product_id=product_id, currency=currency)


class FakeCostBookRepository(FakeVersionedRepository[CostBook, CostBookVersion], CostBookRepository):
    owner_field = "cost_book_id"

    async def latest_page(self, page: PageRequest, *, vendor_id: str | None) -> Page[CostBookVersion]:
        return self._latest_page(page, vendor_id=vendor_id)


class FakeBundleRepository(FakeRepository[Bundle], BundleRepository):
    async def page(self, page: PageRequest) -> Page[Bundle]:
        return self._page(page)


class FakeDiscountRepository(FakeRepository[Discount], DiscountRepository):
    async def by_promo_codes(self, codes: Collection[str]) -> dict[str, Discount]:
        return {d.promo_code: d for d in self.all() if d.promo_code is not None and d.promo_code in codes}

    async def page(self, page: PageRequest, *, promo_code: str | None, active: bool | None) -> Page[Discount]:
        return self._page(page, promo_code=promo_code, active=active)


class FakeContractTemplateRepository(FakeRepository[ContractTemplate], ContractTemplateRepository):
    async def page(self, page: PageRequest) -> Page[ContractTemplate]:
        return self._page(page)


class FakeQuoteRepository(FakeRepository[Quote], QuoteRepository):
    async def page(self, page: PageRequest) -> Page[Quote]:
        return self._page(page)


class FakeCatalogRepository:
    """The catalog's fake storage: one in-memory repository per concept."""

    def __init__(self) -> None:
        self.products = FakeProductRepository()
        self.prices = FakePriceRepository()
        self.cost_books = FakeCostBookRepository()
        self.bundles = FakeBundleRepository()
        self.discounts = FakeDiscountRepository()
        self.contract_templates = FakeContractTemplateRepository()
        self.quotes = FakeQuoteRepository()


def _matches(item: Any, equal: dict[str, Any]) -> bool:
    return all(getattr(item, name) == value for name, value in equal.items() if value is not None)


class FakeCatalogUnitOfWork(FakeUnitOfWorkBase, CatalogUnitOfWork):
    producer = "catalog"

    """A unit of work on the fake repositories: audit records and events count once committed."""

    def __init__(self, repository: FakeCatalogRepository | None = None, *, actor: str = "key:test") -> None:
        storage = repository or FakeCatalogRepository()
        self.products = storage.products
        self.prices = storage.prices
        self.cost_books = storage.cost_books
        self.bundles = storage.bundles
        self.discounts = storage.discounts
        self.contract_templates = storage.contract_templates
        self.quotes = storage.quotes
        self.start_fake(actor)

    def drop_uncommitted(self) -> None:
        """Events of an uncommitted change are dropped with it."""
        list(self.collect_new_events())
