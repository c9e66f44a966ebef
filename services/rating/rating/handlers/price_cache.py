"""The in-process cache of what rating prices with: meters, price and cost book versions, and
the price each wanted price resolves to.

Entitlement checks answer from memory plus one read of the store (DESIGN §3.3): the open
period's aggregate, never cached, so usage counts at once (their subscriptions are kept per
read-model generation: `handlers/entitlements.py`). An entry lives `ttl_s` seconds; the
read-model consumer and the meters' handler drop the entries a change touches once it has
committed it (this process at once, other replicas within the TTL). A `PriceBook` is the part
of the cache one use case needs, loaded in a few queries (a period close loads one per chunk of
aggregates, fresh from the store).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Generic, TypeVar

from libs.contracts.vocabulary import PricingModel
from libs.platform.errors import ValidationFailed
from libs.pricing import PriceSpec, rate
from rating.domain.meters import Meter
from rating.domain.prices import CostBookVersion, PriceVersion, price_spec, version_in_force
from rating.domain.rated_usage import PriceWanted, choose_usage_price

if TYPE_CHECKING:
    from rating.handlers.unit_of_work import RatingUnitOfWork

T = TypeVar("T")
MAX_PRICED = 100_000
"""Resolved prices kept before starting afresh (one per price, period start and term length)."""
K = TypeVar("K")


@dataclass(frozen=True)
class _Entry(Generic[T]):
    value: T
    expires: float


@dataclass(frozen=True)
class PricedUsage:
    """The price version that rates a series and its `PriceSpec` for the engine."""

    price: PriceVersion
    spec: PriceSpec


@dataclass(frozen=True)
class Unpriced:
    """Why no price rates a series (yet): the read model lacks a version or a cost book."""

    reason: str


class PriceBook:
    """The prices, product usage prices and cost books one use case needs, loaded together."""

    def __init__(
        self,
        pinned: dict[tuple[str, int], PriceVersion],
        product_prices: dict[str, tuple[PriceVersion, ...]],
        cost_books: dict[str, tuple[CostBookVersion, ...]],
        specs: dict[tuple[object, ...], PriceSpec],
    ) -> None:
        self.pinned = pinned
        self.product_prices = product_prices
        self.cost_books = cost_books
        self._specs = specs

    def choose(self, wanted: PriceWanted) -> PriceVersion | None:
        """The price version `wanted` leads to (None: not in the read model yet)."""
        pinned = None if wanted.pinned is None else self.pinned.get(wanted.pinned)
        return choose_usage_price(wanted, pinned, self.product_prices.get(wanted.product_id, ()))

    def resolve(self, wanted: PriceWanted, months: int | None = None) -> PricedUsage | Unpriced:
        """The price and spec that rate a series, or why there is none (yet)."""
        price = self.choose(wanted)
        if price is None:
            if wanted.pinned is not None and wanted.pinned not in self.pinned:
                return Unpriced(f"price {wanted.pinned[0]} version {wanted.pinned[1]} is not known yet")
            return Unpriced(
                f"no usage price of product {wanted.product_id} in {wanted.currency} "
                f"in force on {wanted.on.isoformat()}"
            )
        book = None
        book_id = price.terms.cost_book_id
        if price.terms.model == PricingModel.COST_PLUS and book_id is not None:
            book = version_in_force(self.cost_books.get(book_id, ()), wanted.on)
            if book is None:
                return Unpriced(f"cost book {book_id} has no version in force on {wanted.on.isoformat()}")
        key = (price.price_id, price.version, book_id, None if book is None else book.version, months)
        spec = self._specs.get(key)
        if spec is None:
            spec = price_spec(price, book, months)
            try:
                rate(spec, Decimal(0))  # validates the spec once, and what only pricing finds out
            except ValidationFailed as exc:
                # The catalog validated the price; what can still fail is this subscription's side
                # (a price per term on a term that is not whole months): the period waits.
                return Unpriced(
                    f"price {price.price_id} version {price.version} cannot rate it: {exc.detail}"
                )
            self._specs[key] = spec
        return PricedUsage(price, spec)


class PriceCache:
    """Meters, price versions and cost books of this process, each kept `ttl_s` seconds."""

    def __init__(self, ttl_s: float = 0.0, now: Callable[[], float] = time.monotonic) -> None:
        self.ttl_s = ttl_s
        self._now = now
        self._meters: dict[str, _Entry[Meter]] = {}
        self._pinned: dict[tuple[str, int], _Entry[PriceVersion]] = {}
        self._product_prices: dict[str, _Entry[tuple[PriceVersion, ...]]] = {}
        self._cost_books: dict[str, _Entry[tuple[CostBookVersion, ...]]] = {}
        self._specs: dict[tuple[object, ...], PriceSpec] = {}
        self._priced: dict[tuple[PriceWanted, int | None], _Entry[PricedUsage]] = {}
        self.loads = 0
        """Store reads made to fill the cache (tests and metrics)."""

    def invalidate(self) -> None:
        """Forget every price, cost book and meter (a catalog change or a meter change was committed)."""
        self._meters.clear()
        self._pinned.clear()
        self._product_prices.clear()
        self._cost_books.clear()
        self._specs.clear()
        self._priced.clear()

    async def priced(
        self, uow: RatingUnitOfWork, wanted: PriceWanted, months: int | None = None
    ) -> PricedUsage | Unpriced:
        """The price and spec `wanted` resolves to (as `PriceBook.resolve`), kept like the versions
        it comes from; an `Unpriced` answer is never kept, so a price received later counts at once."""
        key = (wanted, months)
        entry = self._priced.get(key)
        if entry is not None and entry.expires > self._now():
            return entry.value
        if len(self._priced) >= MAX_PRICED:
            self._priced.clear()
        resolved = (await self.price_book(uow, [wanted])).resolve(wanted, months)
        if isinstance(resolved, PricedUsage):
            self._keep(self._priced, {key: resolved})
        return resolved

    def _fresh(self, entries: dict[K, _Entry[T]], keys: Iterable[K]) -> tuple[dict[K, T], list[K]]:
        now = self._now()
        found: dict[K, T] = {}
        missing: list[K] = []
        for key in dict.fromkeys(keys):
            entry = entries.get(key)
            if entry is not None and entry.expires > now:
                found[key] = entry.value
            else:
                missing.append(key)
        return found, missing

    def _keep(self, entries: dict[K, _Entry[T]], values: dict[K, T]) -> None:
        if self.ttl_s <= 0:
            return
        expires = self._now() + self.ttl_s
        for key, value in values.items():
            entries[key] = _Entry(value, expires)

    async def meters(self, uow: RatingUnitOfWork, codes: Collection[str]) -> dict[str, Meter]:
        """The meters of these codes from the meters concept's repository (unknown ones left out; an
        unknown code is never cached, so a new meter needs no invalidation)."""
        found, missing = self._fresh(self._meters, codes)
        if missing:
            self.loads += 1
            loaded = await uow.meters.by_codes(missing)
            self._keep(self._meters, loaded)
            found.update(loaded)
        return found

    async def price_book(self, uow: RatingUnitOfWork, wanted: Collection[PriceWanted]) -> PriceBook:
        """The versions these wanted prices may resolve to, with the cost books of cost-plus ones."""
        pinned, missing_pins = self._fresh(self._pinned, [w.pinned for w in wanted if w.pinned is not None])
        if missing_pins:
            self.loads += 1
            loaded_pins = await uow.prices.price_versions(missing_pins)
            self._keep(self._pinned, loaded_pins)
            pinned.update(loaded_pins)
        products, missing_products = self._fresh(self._product_prices, [w.product_id for w in wanted])
        if missing_products:
            self.loads += 1
            grouped: dict[str, list[PriceVersion]] = {p: [] for p in missing_products}
            for version in await uow.prices.usage_prices_of(missing_products):
                grouped.setdefault(version.product_id, []).append(version)
            loaded_products = {p: tuple(vs) for p, vs in grouped.items()}
            self._keep(self._product_prices, loaded_products)
            products.update(loaded_products)
        book_ids = {
            v.terms.cost_book_id
            for v in [*pinned.values(), *(v for vs in products.values() for v in vs)]
            if v.terms.model == PricingModel.COST_PLUS and v.terms.cost_book_id is not None
        }
        books, missing_books = self._fresh(self._cost_books, book_ids)
        if missing_books:
            self.loads += 1
            grouped_books: dict[str, list[CostBookVersion]] = {b: [] for b in missing_books}
            for book in await uow.prices.cost_book_versions(missing_books):
                grouped_books.setdefault(book.cost_book_id, []).append(book)
            loaded_books = {b: tuple(vs) for b, vs in grouped_books.items()}
            self._keep(self._cost_books, loaded_books)
            books.update(loaded_books)
        return PriceBook(pinned, products, books, self._specs if self.ttl_s > 0 else {})
