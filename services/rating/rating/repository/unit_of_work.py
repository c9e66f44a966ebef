"""The rating service's SQL unit of work: the platform's transaction plus a repository per concept."""

from __future__ import annotations

from typing import Self

from libs.platform.unit_of_work import UnitOfWork
from rating.handlers.balances_port import BalanceRepository
from rating.handlers.unit_of_work import RatingUnitOfWork
from rating.repository.balances import SqlBalanceRepository
from rating.repository.support_contracts import SqlSupportContractRepository
from rating.repository.support_requests import SqlSupportRequestRepository


class SqlRatingUnitOfWork(UnitOfWork, RatingUnitOfWork):
    """The platform unit of work plus the SQL repositories of each concept."""

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        self.support_contracts = SqlSupportContractRepository(self.session)
        self.support_requests = SqlSupportRequestRepository(self.session)
        return self

    @property
    def balances(self) -> BalanceRepository:
        """Prepaid balances on this unit of work's session (a consumer's session too)."""
        return SqlBalanceRepository(self.session)
