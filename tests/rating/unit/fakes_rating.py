"""In-memory adapters for rating's read model, rating, period close and entitlement handlers.

A `RatingStore` holds the state (what the database would); each `FakeRatingUnitOfWork` works
on one store, so a close of several chunks (a unit of work each) sees one world. The fakes
answer as their SQL counterparts do (key order, filters, the claim of unrated aggregates).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from decimal import Decimal

from libs.platform.clock import Clock, FixedClock
from libs.platform.errors import NotFound
from libs.platform.pagination import Page, PageRequest, encode_cursor
from rating.domain.prices import CostBookVersion, PriceVersion
from rating.domain.rated_usage import Meter, RatedUsage, UsageSeries
from rating.domain.subscriptions import Account, Subscription
from rating.handlers.prepaid import Prepaid
from rating.handlers.price_cache import PriceCache
from rating.handlers.prices import PriceReadModel
from rating.handlers.rated_usage import DueSeries, RatedUsageRepository, SeriesKey
from rating.handlers.subscriptions import SubscriptionReadModel
from rating.handlers.unit_of_work import RatingUnitOfWork
from tests.support.fake_unit_of_work import FakeUnitOfWorkBase

ZERO = Decimal(0)


@dataclass
class StoredAggregate:
    """A usage aggregate row."""

    series: UsageSeries
    rated_at: datetime | None = None


@dataclass
class RatingStore:
    """Everything the rating database would hold, for the fakes."""

    accounts: dict[str, Account] = field(default_factory=dict)
    subscriptions: dict[str, Subscription] = field(default_factory=dict)
    prices: dict[tuple[str, int], tuple[PriceVersion, datetime]] = field(default_factory=dict)
    cost_books: dict[tuple[str, int], tuple[CostBookVersion, datetime]] = field(default_factory=dict)
    meters: dict[str, Meter] = field(default_factory=dict)
    aggregates: dict[SeriesKey, StoredAggregate] = field(default_factory=dict)
    rated: dict[str, RatedUsage] = field(default_factory=dict)
    reads: int = 0
    """Store reads (to show what a cache saves)."""
    closing_elsewhere: bool = False
    """Another close holds the close's lock."""

    def add_series(self, series: UsageSeries) -> None:
        """Insert an aggregate row."""
        self.aggregates[series.key] = StoredAggregate(series)


class FakeSubscriptionReadModel(SubscriptionReadModel):
    """Accounts and subscriptions in the store."""

    def __init__(self, store: RatingStore) -> None:
        self.store = store

    async def accounts(self, account_ids: Collection[str]) -> dict[str, Account]:
        self.store.reads += 1
        return {i: self.store.accounts[i] for i in account_ids if i in self.store.accounts}

    async def subscriptions(self, subscription_ids: Collection[str]) -> dict[str, Subscription]:
        self.store.reads += 1
        return {i: self.store.subscriptions[i] for i in subscription_ids if i in self.store.subscriptions}

    async def subscription_and_account(
        self, subscription_id: str
    ) -> tuple[Subscription, Account | None] | None:
        self.store.reads += 1
        subscription = self.store.subscriptions.get(subscription_id)
        if subscription is None:
            return None
        return subscription, self.store.accounts.get(subscription.account_id)

    async def save_account(self, account: Account) -> None:
        self.store.accounts[account.account_id] = account

    async def save_subscription(self, subscription: Subscription) -> None:
        self.store.subscriptions[subscription.subscription_id] = subscription


class FakePriceReadModel(PriceReadModel):
    """Price and cost book versions in the store."""

    def __init__(self, store: RatingStore) -> None:
        self.store = store

    async def price_versions(self, keys: Collection[tuple[str, int]]) -> dict[tuple[str, int], PriceVersion]:
        self.store.reads += 1
        return {k: self.store.prices[k][0] for k in keys if k in self.store.prices}

    async def usage_prices_of(self, product_ids: Collection[str]) -> list[PriceVersion]:
        self.store.reads += 1
        return [v for v, _ in self.store.prices.values() if v.product_id in product_ids and v.is_usage]

    async def cost_book_versions(self, cost_book_ids: Collection[str]) -> list[CostBookVersion]:
        self.store.reads += 1
        return [v for v, _ in self.store.cost_books.values() if v.cost_book_id in cost_book_ids]

    async def save_price_version(self, version: PriceVersion, event_at: datetime) -> bool:
        key = (version.price_id, version.version)
        stored = self.store.prices.get(key)
        if stored is not None and stored[1] > event_at:
            return False
        if stored is not None and stored[0].effective_to is not None:
            version = replace(version, effective_to=stored[0].effective_to)
        self.store.prices[key] = (version, event_at)
        return True

    async def end_price_version(self, price_id: str, version: int, effective_to: date) -> None:
        stored = self.store.prices.get((price_id, version))
        if stored is not None:
            self.store.prices[(price_id, version)] = (
                replace(stored[0], effective_to=effective_to),
                stored[1],
            )

    async def save_cost_book_version(self, version: CostBookVersion, event_at: datetime) -> bool:
        key = (version.cost_book_id, version.version)
        stored = self.store.cost_books.get(key)
        if stored is not None and stored[1] > event_at:
            return False
        self.store.cost_books[key] = (version, event_at)
        return True


class FakeRatedUsageRepository(RatedUsageRepository):
    """Aggregates, rated usage and meters in the store."""

    def __init__(self, store: RatingStore) -> None:
        self.store = store

    async def meters(self, codes: Collection[str]) -> dict[str, Meter]:
        self.store.reads += 1
        return {c: self.store.meters[c] for c in codes if c in self.store.meters}

    async def unrated_series(self, *, after: SeriesKey | None, limit: int, ends_by: date) -> list[DueSeries]:
        self.store.reads += 1
        keys = sorted(
            k
            for k, row in self.store.aggregates.items()
            if row.rated_at is None and row.series.period_end <= ends_by and (after is None or k > after)
        )[:limit]
        result = []
        for key in keys:
            series = self.store.aggregates[key].series
            account = self.store.accounts.get(series.account_id)
            result.append(DueSeries(series, None if account is None else account.time_zone))
        return result

    async def lock_for_close(self) -> bool:
        return not self.store.closing_elsewhere

    async def claim(self, keys: Sequence[SeriesKey], rated_at: datetime) -> list[UsageSeries]:
        claimed = []
        for key in keys:
            row = self.store.aggregates.get(key)
            if row is not None and row.rated_at is None:
                row.rated_at = rated_at
                claimed.append(row.series)
        return claimed

    async def add(self, rated: Sequence[RatedUsage]) -> None:
        keys = {(r.subscription_id, r.meter, r.period_start) for r in self.store.rated.values()}
        for row in rated:
            key = (row.subscription_id, row.meter, row.period_start)
            assert key not in keys, f"{key} rated twice"  # the unique constraint
            keys.add(key)
            self.store.rated[row.id] = row

    async def get(self, rated_usage_id: str) -> RatedUsage:
        if rated_usage_id not in self.store.rated:
            raise NotFound("rated usage", rated_usage_id)
        return self.store.rated[rated_usage_id]

    async def page(
        self,
        page: PageRequest,
        *,
        subscription_id: str | None,
        account_id: str | None,
        period_start: date | None,
    ) -> Page[RatedUsage]:
        rows = sorted(
            (
                r
                for r in self.store.rated.values()
                if (subscription_id is None or r.subscription_id == subscription_id)
                and (account_id is None or r.account_id == account_id)
                and (period_start is None or r.period_start == period_start)
                and (page.after is None or r.id > page.after)
            ),
            key=lambda r: r.id,
        )
        data = rows[: page.limit]
        more = len(rows) > page.limit
        return Page[RatedUsage](
            data=data, next_cursor=encode_cursor(data[-1].id) if more else None, has_more=more
        )

    async def open_series(
        self, subscription_id: str, on: date | None, meter: str | None = None
    ) -> list[UsageSeries]:
        self.store.reads += 1
        return sorted(
            (
                row.series
                for row in self.store.aggregates.values()
                if row.rated_at is None
                and row.series.subscription_id == subscription_id
                and (meter is None or row.series.meter == meter)
                and (on is None or row.series.period_start <= on < row.series.period_end)
            ),
            key=lambda s: (s.meter, s.period_start),
        )


@dataclass
class FakePrepaid:
    """Prepaid balances of one meter: units and money, drawn down once per reference."""

    units: Decimal = ZERO
    amount: Decimal = ZERO
    drawdowns: dict[str, Prepaid] = field(default_factory=dict)
    dated: list[date] = field(default_factory=list)

    async def draw_down(
        self,
        uow: object,
        *,
        subscription_id: str,
        account_id: str,
        meter: str,
        currency: str,
        units: Decimal,
        amount: Decimal,
        reference: str,
        on: date,
    ) -> Prepaid:
        if reference in self.drawdowns:
            return self.drawdowns[reference]
        drawn = Prepaid(min(units, self.units), min(amount, self.amount))
        self.units -= drawn.units
        self.amount -= drawn.amount
        self.drawdowns[reference] = drawn
        self.dated.append(on)
        return drawn

    async def available(
        self, uow: object, *, subscription_id: str, account_id: str, meter: str, currency: str, on: date
    ) -> Prepaid:
        return Prepaid(self.units, self.amount)


class FakeRatingUnitOfWork(FakeUnitOfWorkBase, RatingUnitOfWork):
    """A unit of work on a `RatingStore`; committed events in `envelopes`."""

    producer = "rating"

    def __init__(
        self,
        store: RatingStore,
        *,
        clock: Clock | None = None,
        price_cache: PriceCache | None = None,
        prepaid: FakePrepaid | None = None,
        actor: str = "test",
    ) -> None:
        self.start_fake(actor, clock or FixedClock(datetime(2026, 8, 1, 12, tzinfo=UTC)))
        self.store = store
        self.subscriptions = FakeSubscriptionReadModel(store)
        self.prices = FakePriceReadModel(store)
        self.rated_usage = FakeRatedUsageRepository(store)
        self.price_cache = price_cache or PriceCache()
        if prepaid is not None:
            self.prepaid = prepaid
        self._after_commit: list[Callable[[], None]] = []

    def stage_recorded_events(self) -> None:
        """Nothing: rating's handlers emit their events themselves."""

    def after_commit(self, callback: Callable[[], None]) -> None:
        self._after_commit.append(callback)

    async def commit(self) -> None:
        await super().commit()
        callbacks, self._after_commit = self._after_commit, []
        for callback in callbacks:
            callback()


def units_of_work(
    store: RatingStore, **kwargs: object
) -> tuple[Callable[[], FakeRatingUnitOfWork], list[FakeRatingUnitOfWork]]:
    """A factory of units of work on `store` and the list of those it made (their events)."""
    made: list[FakeRatingUnitOfWork] = []

    def factory() -> FakeRatingUnitOfWork:
        uow = FakeRatingUnitOfWork(store, **kwargs)  # type: ignore[arg-type]
        made.append(uow)
        return uow

    return factory, made
