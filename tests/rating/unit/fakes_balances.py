"""The balances repository in memory (part of the `RatingStore` of `tests/rating/unit/fakes.py`)."""

from __future__ import annotations

import copy
from datetime import date

from libs.contracts.balances import BalanceKind
from libs.contracts.balances import BalanceTransactionKind as Kind
from libs.platform.errors import NotFound
from libs.platform.pagination import Page, PageRequest
from rating.domain.balances import Balance, Transaction
from rating.handlers.balances_port import BalanceRepository, RecordedDrawdown


class FakeBalanceRepository(BalanceRepository):
    """Balances kept as copies (what a database would hold), their transactions in a list."""

    def __init__(self) -> None:
        self.stored: dict[str, Balance] = {}
        self.booked: list[Transaction] = []

    async def add(self, balance: Balance) -> None:
        await self.save(balance)

    async def get(self, balance_id: str, *, for_update: bool = False) -> Balance:
        if balance_id not in self.stored:
            raise NotFound("balance", balance_id)
        return self._loaded(self.stored[balance_id])

    async def save(self, balance: Balance) -> None:
        self.booked += balance.new_transactions
        balance.new_transactions.clear()
        balance.touched.clear()
        kept = copy.deepcopy(balance)
        kept.events = []
        self.stored[balance.id] = kept

    async def candidates(
        self, *, account_id: str, subscription_id: str, meter: str, currency: str, for_update: bool
    ) -> list[Balance]:
        return [
            self._loaded(b)
            for b in sorted(self.stored.values(), key=lambda b: b.id)
            if b.account_id == account_id
            and b.closed_on is None
            and b.subscription_id in (subscription_id, None)
            and (
                (b.kind is BalanceKind.UNITS and b.meter == meter)
                or (b.kind is BalanceKind.MONEY and b.currency == currency)
            )
        ]

    async def of_subscription(self, subscription_id: str, *, for_update: bool) -> list[Balance]:
        return [
            self._loaded(b)
            for b in sorted(self.stored.values(), key=lambda b: b.id)
            if b.subscription_id == subscription_id and b.closed_on is None
        ]

    async def drawdowns(self, account_id: str, reference: str) -> list[RecordedDrawdown]:
        return [
            RecordedDrawdown(t, self.stored[t.balance_id].kind)
            for t in self.booked
            if t.account_id == account_id and t.reference == reference and t.kind is Kind.DRAWDOWN
        ]

    async def page(
        self, page: PageRequest, *, account_id: str | None, subscription_id: str | None
    ) -> Page[Balance]:
        found = [
            self._loaded(b)
            for b in sorted(self.stored.values(), key=lambda b: b.id)
            if account_id in (None, b.account_id) and subscription_id in (None, b.subscription_id)
        ]
        return Page[Balance](data=found)

    async def transactions(self, balance_id: str, page: PageRequest) -> Page[Transaction]:
        return Page[Transaction](data=[t for t in self.booked if t.balance_id == balance_id])

    async def recent_transactions(self, balance_id: str, limit: int) -> tuple[list[Transaction], bool]:
        mine = [t for t in self.booked if t.balance_id == balance_id]
        return mine[-limit:], len(mine) > limit

    async def due(self, *, through: date, after: str | None, limit: int, account_id: str | None) -> list[str]:
        return sorted(
            b.id
            for b in self.stored.values()
            if b.closed_on is None
            and b.due_on is not None
            and b.due_on <= through
            and (after is None or b.id > after)
            and account_id in (None, b.account_id)
        )[:limit]

    @staticmethod
    def _loaded(balance: Balance) -> Balance:
        loaded = copy.deepcopy(balance)
        loaded.grants = [g for g in loaded.grants if g.open_quantity > 0]
        return loaded
