"""The rating service's SQL unit of work: the platform's transaction plus a repository per concept."""

from __future__ import annotations

from typing import Self

from libs.platform.unit_of_work import UnitOfWork
from rating.handlers.unit_of_work import RatingUnitOfWork
from rating.repository.meters import SqlMeterRepository
from rating.repository.usage import SqlUsageRepository


class SqlRatingUnitOfWork(UnitOfWork, RatingUnitOfWork):
    """The platform unit of work plus the SQL repositories of each concept."""

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        self.meters = SqlMeterRepository(self.session)
        self.usage = SqlUsageRepository(self.session)
        return self
