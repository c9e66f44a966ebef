"""The port of balance handlers: the repository they see (SQL in `rating.repository.balances`).

Accounts and subscriptions come from the read model every concept reads (`uow.subscriptions`)."""

from __future__ import annotations

import abc
from dataclasses import dataclass
from datetime import date

from libs.contracts.balances import BalanceKind
from libs.platform.pagination import Page, PageRequest
from rating.domain.balances import Balance, Transaction


@dataclass(frozen=True)
class RecordedDrawdown:
    """A drawdown transaction already booked under a reference, with the kind of its balance."""

    transaction: Transaction
    kind: BalanceKind


class BalanceRepository(abc.ABC):
    """Balances with their open grants and their transactions."""

    @abc.abstractmethod
    async def add(self, balance: Balance) -> None:
        """Stage a new balance with its grants and transactions."""

    @abc.abstractmethod
    async def get(self, balance_id: str, *, for_update: bool = False) -> Balance:
        """The balance with its open grants (locked for a change when asked), or NotFound."""

    @abc.abstractmethod
    async def save(self, balance: Balance) -> None:
        """Stage the balance's changes: totals, touched grants, new transactions (then forgotten)."""

    @abc.abstractmethod
    async def candidates(
        self, *, account_id: str, subscription_id: str, meter: str, currency: str, for_update: bool
    ) -> list[Balance]:
        """Open balances a drawdown may use: units of `meter` and money in `currency`, of the
        subscription or of the account (no subscription), ordered by id."""

    @abc.abstractmethod
    async def of_subscription(self, subscription_id: str, *, for_update: bool) -> list[Balance]:
        """The subscription's open balances, ordered by id."""

    @abc.abstractmethod
    async def drawdowns(self, account_id: str, reference: str) -> list[RecordedDrawdown]:
        """The drawdown transactions booked under `reference` for the account."""

    @abc.abstractmethod
    async def page(
        self, page: PageRequest, *, account_id: str | None, subscription_id: str | None
    ) -> Page[Balance]:
        """A page of balances by id, with their open grants."""

    @abc.abstractmethod
    async def transactions(self, balance_id: str, page: PageRequest) -> Page[Transaction]:
        """A page of a balance's transactions, oldest first."""

    @abc.abstractmethod
    async def recent_transactions(self, balance_id: str, limit: int) -> tuple[list[Transaction], bool]:
        """The latest `limit` transactions oldest first, and whether there are older ones."""

    @abc.abstractmethod
    async def due(self, *, through: date, after: str | None, limit: int, account_id: str | None) -> list[str]:
        """Ids of open balances with something due by `through` (`due_on`), after `after`, by id."""
