"""The rating service's SQL unit of work: the platform's transaction plus a repository per concept."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Self

from sqlalchemy import event

from libs.platform.unit_of_work import UnitOfWork
from rating.handlers.price_cache import PriceCache
from rating.handlers.unit_of_work import RatingUnitOfWork
from rating.repository.meters import SqlMeterRepository
from rating.repository.prices import SqlPriceReadModel
from rating.repository.rated_usage import SqlRatedUsageRepository
from rating.repository.subscriptions import SqlSubscriptionReadModel
from rating.repository.usage import SqlUsageRepository


class SqlRatingUnitOfWork(UnitOfWork, RatingUnitOfWork):
    """The platform unit of work plus the SQL repositories of each concept."""

    def __init__(self, *args: Any, price_cache: PriceCache | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.price_cache = price_cache if price_cache is not None else PriceCache()
        if self.session is not None:
            # A consumer's unit of work runs on the consumer's session (inbox, effects, outbox).
            self._bind_repositories()

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        self._bind_repositories()
        return self

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Call `callback` when the session's transaction commits (the consumer's, or a request's)."""
        event.listen(self.session.sync_session, "after_commit", lambda _session: callback(), once=True)

    def _bind_repositories(self) -> None:
        session = self.session
        self.subscriptions = SqlSubscriptionReadModel(session)
        self.prices = SqlPriceReadModel(session)
        self.rated_usage = SqlRatedUsageRepository(session)
        self.meters = SqlMeterRepository(session)
        self.usage = SqlUsageRepository(session)
