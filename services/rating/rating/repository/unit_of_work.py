"""The rating service's SQL unit of work: the platform's transaction plus a repository per concept."""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Any, Final, Self

from sqlalchemy import event

from libs.platform.unit_of_work import UnitOfWork
from rating.handlers import balances as prepaid_balances
from rating.handlers.entitlements import EntitlementReads, SubscriptionMemory
from rating.handlers.prepaid import PrepaidBalances
from rating.handlers.price_cache import PriceCache
from rating.handlers.unit_of_work import RatingUnitOfWork
from rating.handlers.usage_aggregates import AggregateMemory
from rating.handlers.usage_guides import GuideMemory
from rating.repository.balances import SqlBalanceRepository
from rating.repository.entitlements import SqlEntitlementReads
from rating.repository.meters import SqlMeterRepository
from rating.repository.prices import SqlPriceReadModel
from rating.repository.rated_usage import SqlRatedUsageRepository
from rating.repository.subscriptions import SqlSubscriptionReadModel
from rating.repository.support_contracts import SqlSupportContractRepository
from rating.repository.support_requests import SqlSupportRequestRepository
from rating.repository.usage import SqlUsageRepository
from rating.repository.usage_loads import SqlUsageLoadRepository


class SqlRatingUnitOfWork(UnitOfWork, RatingUnitOfWork):
    """The platform unit of work plus the SQL repositories of each concept."""

    prepaid: PrepaidBalances = prepaid_balances
    """The period close and the checks draw from (and read) the prepaid balances."""

    def __init__(
        self,
        *args: Any,
        price_cache: PriceCache | None = None,
        guide_memory: GuideMemory | None = None,
        entitlement_reads: EntitlementReads | None = None,
        check_memory: SubscriptionMemory | None = None,
        aggregate_memory: AggregateMemory | None = None,
        **kwargs: Any,
    ) -> None:
        self.price_cache = price_cache if price_cache is not None else PriceCache()
        self.guide_memory = guide_memory if guide_memory is not None else GuideMemory()
        self.check_memory = check_memory if check_memory is not None else SubscriptionMemory()
        self.aggregate_memory = aggregate_memory if aggregate_memory is not None else AggregateMemory()
        super().__init__(*args, **kwargs)
        self.entitlement_reads = (
            entitlement_reads if entitlement_reads is not None else SqlEntitlementReads(self.db)
        )

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Call `callback` when the session's transaction commits (the consumer's, or a request's)."""
        event.listen(self.session.sync_session, "after_commit", lambda _session: callback(), once=True)

    def bind_repositories(self) -> None:
        """The SQL repositories of each concept, on this unit of work's session."""
        session = self.session
        self.subscriptions = SqlSubscriptionReadModel(session)
        self.prices = SqlPriceReadModel(session)
        self.rated_usage = SqlRatedUsageRepository(session)
        self.meters = SqlMeterRepository(session)
        self.usage = SqlUsageRepository(session)
        self.support_contracts = SqlSupportContractRepository(session)
        self.support_requests = SqlSupportRequestRepository(session)
        self.balances = SqlBalanceRepository(session)
        self.usage_loads = SqlUsageLoadRepository(session)


class SqlReadOnlyRatingUnitOfWork(SqlRatingUnitOfWork):
    """A unit of work that only reads (entitlement checks): it opens its session, and binds its
    repositories, only when a repository is first used (a cache miss, an account with a prepaid
    balance), never commits, and on SQLite never takes the write lock (a check does not queue
    behind a usage batch). A check answered from memory plus `entitlement_reads` costs no
    ORM session at all (about a tenth of a millisecond of CPU saved a check)."""

    async def __aenter__(self) -> Self:
        self.envelopes = []
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.session is not None:
            await super().__aexit__(exc_type, exc, tb)

    def __getattr__(self, name: str) -> Any:
        # Called only for an attribute not set: the repositories, before the session is open.
        if name.startswith("_") or self.session is not None or name not in _REPOSITORIES:
            raise AttributeError(name)
        self.session = self.db.read_only_sessions()  # on SQLite: never behind a writer
        self.bind_repositories()
        return getattr(self, name)

    async def commit(self) -> None:
        """Refuse: nothing is written through a read-only unit of work."""
        raise RuntimeError("a read-only unit of work never commits")


_REPOSITORIES: Final = frozenset(
    (
        "subscriptions",
        "prices",
        "rated_usage",
        "meters",
        "usage",
        "support_contracts",
        "support_requests",
        "balances",
        "usage_loads",
    )
)
