"""The rating service's SQL unit of work: the platform's transaction plus a repository per concept."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import event

from libs.platform.unit_of_work import UnitOfWork
from rating.handlers import balances as prepaid_balances
from rating.handlers.prepaid import PrepaidBalances
from rating.handlers.price_cache import PriceCache
from rating.handlers.unit_of_work import RatingUnitOfWork
from rating.handlers.usage_aggregates import AggregateMemory
from rating.handlers.usage_guides import GuideMemory
from rating.repository.balances import SqlBalanceRepository
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
        aggregate_memory: AggregateMemory | None = None,
        **kwargs: Any,
    ) -> None:
        self.price_cache = price_cache if price_cache is not None else PriceCache()
        self.guide_memory = guide_memory if guide_memory is not None else GuideMemory()
        self.aggregate_memory = aggregate_memory if aggregate_memory is not None else AggregateMemory()
        super().__init__(*args, **kwargs)

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
