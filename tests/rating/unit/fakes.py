"""The in-memory rating unit of work of every unit test: one `FakeRatingUnitOfWork` holding a fake
of each repository of the port, on a `RatingStore` that holds what the database would.

Units of work on one store see one world (a close of several chunks, a check after a meter
change, a drawdown after a top-up). The fake repositories answer as their SQL counterparts do:
the read model, prices, meters and rated usage in `fakes_rating.py`, balances in
`fakes_balances.py`, support contracts and requests in `fakes_support.py`. Usage ingestion has
no fake: its handlers are tested on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from libs.platform.clock import Clock, FixedClock
from rating.domain.meters import Meter
from rating.domain.prices import CostBookVersion, PriceVersion
from rating.domain.rated_usage import RatedUsage, UsageSeries
from rating.domain.subscriptions import Account, Subscription
from rating.handlers.entitlements import SubscriptionMemory
from rating.handlers.price_cache import PriceCache
from rating.handlers.rated_usage import SeriesKey
from rating.handlers.unit_of_work import RatingUnitOfWork
from tests.rating.unit.fakes_balances import FakeBalanceRepository
from tests.rating.unit.fakes_rating import (
    FakeEntitlementReads,
    FakeMeterRepository,
    FakePrepaid,
    FakePriceReadModel,
    FakeRatedUsageRepository,
    FakeSubscriptionReadModel,
)
from tests.rating.unit.fakes_support import FakeSupportContracts, FakeSupportRequests
from tests.support.fake_unit_of_work import FakeUnitOfWorkBase

DEFAULT_NOW = datetime(2026, 8, 1, 12, tzinfo=UTC)


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
    """By code."""
    aggregates: dict[SeriesKey, StoredAggregate] = field(default_factory=dict)
    rated: dict[str, RatedUsage] = field(default_factory=dict)
    balances: FakeBalanceRepository = field(default_factory=FakeBalanceRepository)
    """Balances and their transactions (the repository keeps them: it is the store's part)."""
    support_contracts: FakeSupportContracts = field(default_factory=FakeSupportContracts)
    support_requests: FakeSupportRequests = field(default_factory=FakeSupportRequests)
    reads: int = 0
    """Store reads (to show what a cache saves)."""
    generation: int = 1
    """The read model's generation: bumped by each committed change of an account or subscription."""
    closing_elsewhere: bool = False
    """Another close holds the close's lock."""

    def add_series(self, series: UsageSeries) -> None:
        """Insert an aggregate row."""
        self.aggregates[series.key] = StoredAggregate(series)

    def bump_generation(self) -> None:
        """A change of the read model was committed."""
        self.generation += 1


class FakeRatingUnitOfWork(FakeUnitOfWorkBase, RatingUnitOfWork):
    """A unit of work on a `RatingStore` (a new one unless given); committed events in `envelopes`.

    `prepaid` stands in for the balances' drawdown and read (`rating.handlers.balances`, which
    the SQL unit of work wires); without it nothing is prepaid.
    """

    producer = "rating"
    balances: FakeBalanceRepository
    support_contracts: FakeSupportContracts
    support_requests: FakeSupportRequests

    def __init__(
        self,
        store: RatingStore | None = None,
        *,
        clock: Clock | None = None,
        price_cache: PriceCache | None = None,
        check_memory: SubscriptionMemory | None = None,
        prepaid: FakePrepaid | None = None,
        actor: str = "test",
    ) -> None:
        self.start_fake(actor, clock or FixedClock(DEFAULT_NOW))
        self.store = store = store if store is not None else RatingStore()
        self.subscriptions = FakeSubscriptionReadModel(
            store, lambda: self.after_commit(store.bump_generation)
        )
        self.entitlement_reads = FakeEntitlementReads(store)
        self.check_memory = check_memory if check_memory is not None else SubscriptionMemory()
        self.prices = FakePriceReadModel(store)
        self.meters = FakeMeterRepository(store)
        self.rated_usage = FakeRatedUsageRepository(store)
        self.balances = store.balances
        self.support_contracts = store.support_contracts
        self.support_requests = store.support_requests
        self.price_cache = price_cache or PriceCache()
        if prepaid is not None:
            self.prepaid = prepaid

    def stage_recorded_events(self) -> None:
        """Nothing: rating's handlers emit their events themselves before committing."""


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
