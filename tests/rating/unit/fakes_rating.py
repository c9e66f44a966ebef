"""In-memory repositories of the read model, prices, meters and rated usage over a `RatingStore`
(`tests/rating/unit/fakes.py`), and a stand-in for the prepaid balances. They answer as their SQL
counterparts do (key order, filters, the claim of unrated aggregates).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from libs.platform.errors import Conflict, NotFound
from libs.platform.pagination import Page, PageRequest, encode_cursor
from rating.domain.meters import Meter
from rating.domain.prices import CostBookVersion, PriceVersion
from rating.domain.rated_usage import RatedUsage, UsageSeries
from rating.domain.subscriptions import Account, Subscription
from rating.handlers.entitlements import OpenUsage
from rating.handlers.meters import MeterRepository
from rating.handlers.prepaid import Prepaid
from rating.handlers.prices import PriceReadModel
from rating.handlers.rated_usage import DueSeries, RatedUsageRepository, SeriesKey
from rating.handlers.subscriptions import SubscriptionReadModel

if TYPE_CHECKING:
    from tests.rating.unit.fakes import RatingStore

ZERO = Decimal(0)


class FakeSubscriptionReadModel(SubscriptionReadModel):
    """Accounts and subscriptions in the store; a change bumps the store's generation when the
    unit of work commits (`on_change`), as migration 0010's triggers do in the transaction."""

    def __init__(self, store: RatingStore, on_change: Callable[[], None] = lambda: None) -> None:
        self.store = store
        self.on_change = on_change

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
        self.on_change()

    async def save_subscription(self, subscription: Subscription) -> None:
        self.store.subscriptions[subscription.subscription_id] = subscription
        self.on_change()


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


class FakeMeterRepository(MeterRepository):
    """Meters in the store, by code."""

    def __init__(self, store: RatingStore) -> None:
        self.store = store

    async def add(self, meter: Meter) -> None:
        taken = self.store.meters.get(meter.code)
        if taken is not None and taken.id != meter.id:
            raise Conflict(f"a meter with code {meter.code!r} already exists")
        self.store.meters[meter.code] = replace(meter)

    async def find(self, meter_id: str) -> Meter | None:
        self.store.reads += 1
        found = [m for m in self.store.meters.values() if m.id == meter_id]
        return replace(found[0]) if found else None

    async def by_codes(self, codes: Collection[str]) -> dict[str, Meter]:
        self.store.reads += 1
        return {c: replace(self.store.meters[c]) for c in codes if c in self.store.meters}

    async def page(self, page: PageRequest, *, active: bool | None, product_id: str | None) -> Page[Meter]:
        rows = sorted(
            (
                m
                for m in self.store.meters.values()
                if active in (None, m.active)
                and product_id in (None, m.product_id)
                and (page.after is None or m.id > page.after)
            ),
            key=lambda m: m.id,
        )
        data = rows[: page.limit]
        more = len(rows) > page.limit
        return Page[Meter](data=data, next_cursor=encode_cursor(data[-1].id) if more else None, has_more=more)


class FakeRatedUsageRepository(RatedUsageRepository):
    """Aggregates and rated usage in the store."""

    def __init__(self, store: RatingStore) -> None:
        self.store = store

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


class FakeEntitlementReads:
    """What a check reads, from the store: its generation counts committed read-model changes."""

    def __init__(self, store: RatingStore) -> None:
        self.store = store

    async def subscription_and_account(
        self, subscription_id: str
    ) -> tuple[int | None, tuple[Subscription, Account | None] | None]:
        self.store.reads += 1
        subscription = self.store.subscriptions.get(subscription_id)
        if subscription is None:
            return self.store.generation, None
        return self.store.generation, (subscription, self.store.accounts.get(subscription.account_id))

    async def open_usage(self, *, subscription_id: str, account_id: str, meter: str, on: date) -> OpenUsage:
        self.store.reads += 1
        series = sorted(
            (
                row.series
                for row in self.store.aggregates.values()
                if row.rated_at is None
                and row.series.subscription_id == subscription_id
                and row.series.meter == meter
                and row.series.period_start <= on < row.series.period_end
            ),
            key=lambda s: s.period_start,
        )
        # Balances are the unit of work's `prepaid` stand-in: always asked.
        return OpenUsage(
            self.store.generation, True, tuple((s.period_start, s.period_end, s.quantity) for s in series)
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
