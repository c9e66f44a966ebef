"""Balances in SQL: `balances` rows and `balance_transactions` rows <-> domain balances and grants.

A grant is a transaction row of kind grant, top_up or rollover_in whose `open_quantity` says
what is left of it; the column is null once nothing is (so loading a balance's open grants
reads only those, through a partial index). Loads for a change lock the balance rows on
PostgreSQL (`FOR UPDATE`); SQLite serialises writers with BEGIN IMMEDIATE.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from libs.contracts.balances import BalanceKind, RolloverPolicy
from libs.contracts.balances import BalanceTransactionKind as Kind
from libs.platform.errors import NotFound
from libs.platform.pagination import Page, PageRequest, paginate
from rating.domain.balances import GRANT_KINDS, Balance, Grant, Rollover, Transaction
from rating.handlers.balances_port import BalanceRepository, RecordedDrawdown
from rating.models import BalanceRow, BalanceTransactionRow


def _same(row: Any) -> Any:
    return row


def _decimals(text: str) -> tuple[Decimal, ...]:
    return tuple(Decimal(v) for v in json.loads(text))


def _text(values: Sequence[Decimal]) -> str:
    return json.dumps([format(v, "f") for v in values])


def _grant(row: BalanceTransactionRow) -> Grant:
    assert row.open_quantity is not None
    return Grant(
        id=row.id,
        balance_id=row.balance_id,
        kind=Kind(row.kind),
        quantity=row.quantity,
        open_quantity=row.open_quantity,
        unit_price=row.unit_price,
        expires_on=row.expires_on,
        granted_on=row.occurred_on,
    )


def _transaction(row: BalanceTransactionRow) -> Transaction:
    return Transaction(
        id=row.id,
        balance_id=row.balance_id,
        account_id=row.account_id,
        kind=Kind(row.kind),
        quantity=row.quantity,
        on=row.occurred_on,
        created_at=row.created_at,
        unit_price=row.unit_price,
        grant_id=row.grant_id,
        expires_on=row.expires_on,
        reference=row.reference,
        amount=row.amount,
    )


def _balance(row: BalanceRow, grants: list[Grant]) -> Balance:
    return Balance(
        id=row.id,
        account_id=row.account_id,
        subscription_id=row.subscription_id,
        kind=BalanceKind(row.kind),
        currency=row.currency,
        meter=row.meter,
        unit_label=row.unit_label,
        rollover=Rollover(RolloverPolicy(row.rollover_policy), row.rollover_limit),
        thresholds=_decimals(row.thresholds),
        expires_on=row.expires_on,
        period_start=row.period_start,
        created_at=row.created_at,
        updated_at=row.updated_at,
        granted=row.granted,
        used=row.used,
        expired=row.expired,
        refunded=row.refunded,
        rolled_over=row.rolled_over,
        cycle_base=row.cycle_base,
        cycle_used=row.cycle_used,
        crossed=_decimals(row.thresholds_crossed),
        closed_on=row.closed_on,
        closing_on=row.closing_on,
        closing_event_id=row.closing_event_id,
        due_on=row.due_on,
        grants=grants,
    )


def _columns(balance: Balance) -> dict[str, Any]:
    assert balance.due_on is not None, "schedule() the balance before storing it"
    return {
        "id": balance.id,
        "account_id": balance.account_id,
        "subscription_id": balance.subscription_id,
        "kind": balance.kind.value,
        "currency": balance.currency,
        "meter": balance.meter,
        "unit_label": balance.unit_label,
        "rollover_policy": balance.rollover.policy.value,
        "rollover_limit": balance.rollover.limit,
        "thresholds": _text(balance.thresholds),
        "expires_on": balance.expires_on,
        "period_start": balance.period_start,
        "granted": balance.granted,
        "used": balance.used,
        "expired": balance.expired,
        "refunded": balance.refunded,
        "rolled_over": balance.rolled_over,
        "cycle_base": balance.cycle_base,
        "cycle_used": balance.cycle_used,
        "thresholds_crossed": _text(balance.crossed),
        "closed_on": balance.closed_on,
        "closing_on": balance.closing_on,
        "closing_event_id": balance.closing_event_id,
        "due_on": balance.due_on,
        "created_at": balance.created_at,
        "updated_at": balance.updated_at,
    }


def _open(quantity: Decimal) -> Decimal | None:
    return quantity if quantity > 0 else None


class SqlBalanceRepository(BalanceRepository):
    """Balances over the `balances` and `balance_transactions` tables, and the read model."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, balance: Balance) -> None:
        """Insert a new balance, then its transactions (they refer to it)."""
        self.session.add(BalanceRow(**_columns(balance)))
        await self.session.flush()
        self._insert_transactions(balance)
        balance.touched.clear()

    async def get(self, balance_id: str, *, for_update: bool = False) -> Balance:
        """The balance with its open grants (locked for a change when asked), or NotFound."""
        found = await self._load(select(BalanceRow).where(BalanceRow.id == balance_id), for_update)
        if not found:
            raise NotFound("balance", balance_id)
        return found[0]

    async def save(self, balance: Balance) -> None:
        """Write the totals, the touched grants' open quantities and the new transactions."""
        row = await self.session.get(BalanceRow, balance.id)
        assert row is not None, f"balance {balance.id} was not loaded in this session"
        for name, value in _columns(balance).items():
            setattr(row, name, value)
        self.session.add(row)
        new = {t.id for t in balance.new_transactions}
        for grant in balance.touched.values():
            if grant.id not in new:
                grant_row = await self.session.get(BalanceTransactionRow, grant.id)
                assert grant_row is not None
                grant_row.open_quantity = _open(grant.open_quantity)
                self.session.add(grant_row)
        self._insert_transactions(balance)
        balance.touched.clear()

    async def candidates(
        self, *, account_id: str, subscription_id: str, meter: str, currency: str, for_update: bool
    ) -> list[Balance]:
        """Open units balances of `meter` and money balances in `currency`, the subscription's and the
        account's own, by id."""
        stmt = select(BalanceRow).where(
            BalanceRow.account_id == account_id,
            col(BalanceRow.closed_on).is_(None),
            or_(
                col(BalanceRow.subscription_id) == subscription_id, col(BalanceRow.subscription_id).is_(None)
            ),
            or_(
                and_(col(BalanceRow.kind) == BalanceKind.UNITS.value, col(BalanceRow.meter) == meter),
                and_(col(BalanceRow.kind) == BalanceKind.MONEY.value, col(BalanceRow.currency) == currency),
            ),
        )
        return await self._load(stmt, for_update)

    async def of_subscription(self, subscription_id: str, *, for_update: bool) -> list[Balance]:
        """The subscription's open balances, by id."""
        stmt = select(BalanceRow).where(
            BalanceRow.subscription_id == subscription_id, col(BalanceRow.closed_on).is_(None)
        )
        return await self._load(stmt, for_update)

    async def drawdowns(self, account_id: str, reference: str) -> list[RecordedDrawdown]:
        """The drawdown transactions booked under `reference` for the account."""
        stmt = (
            select(BalanceTransactionRow, BalanceRow.kind)
            .join(BalanceRow, col(BalanceRow.id) == col(BalanceTransactionRow.balance_id))
            .where(
                BalanceTransactionRow.account_id == account_id,
                BalanceTransactionRow.reference == reference,
                BalanceTransactionRow.kind == Kind.DRAWDOWN.value,
            )
            .order_by(col(BalanceTransactionRow.id))
        )
        return [
            RecordedDrawdown(_transaction(row), BalanceKind(kind))
            for row, kind in (await self.session.exec(stmt)).all()
        ]

    async def page(
        self, page: PageRequest, *, account_id: str | None, subscription_id: str | None
    ) -> Page[Balance]:
        """A page of balances by id, with their open grants."""
        stmt = select(BalanceRow)
        if account_id is not None:
            stmt = stmt.where(BalanceRow.account_id == account_id)
        if subscription_id is not None:
            stmt = stmt.where(BalanceRow.subscription_id == subscription_id)
        rows: Page[BalanceRow] = await paginate(self.session, stmt, BalanceRow.id, page, _same)
        grants = await self._open_grants([r.id for r in rows.data])
        return Page[Balance](
            data=[_balance(r, grants[r.id]) for r in rows.data],
            next_cursor=rows.next_cursor,
            has_more=rows.has_more,
        )

    async def transactions(self, balance_id: str, page: PageRequest) -> Page[Transaction]:
        """A page of a balance's transactions, oldest first."""
        stmt = select(BalanceTransactionRow).where(BalanceTransactionRow.balance_id == balance_id)
        return await paginate(self.session, stmt, BalanceTransactionRow.id, page, _transaction)

    async def recent_transactions(self, balance_id: str, limit: int) -> tuple[list[Transaction], bool]:
        """The latest `limit` transactions oldest first, and whether there are older ones."""
        stmt = (
            select(BalanceTransactionRow)
            .where(BalanceTransactionRow.balance_id == balance_id)
            .order_by(col(BalanceTransactionRow.id).desc())
            .limit(limit + 1)
        )
        rows = list((await self.session.exec(stmt)).all())
        return [_transaction(r) for r in reversed(rows[:limit])], len(rows) > limit

    async def due(self, *, through: date, after: str | None, limit: int, account_id: str | None) -> list[str]:
        """Ids of open balances with something due by `through`, after `after`, by id."""
        stmt = select(BalanceRow.id).where(
            col(BalanceRow.closed_on).is_(None), col(BalanceRow.due_on) <= through
        )
        if after is not None:
            stmt = stmt.where(col(BalanceRow.id) > after)
        if account_id is not None:
            stmt = stmt.where(BalanceRow.account_id == account_id)
        return list((await self.session.exec(stmt.order_by(col(BalanceRow.id)).limit(limit))).all())

    # -- internals --

    async def _load(self, stmt: Any, for_update: bool) -> list[Balance]:
        stmt = stmt.order_by(col(BalanceRow.id))
        if for_update:
            stmt = stmt.with_for_update().execution_options(populate_existing=True)
        rows = list((await self.session.exec(stmt)).all())
        grants = await self._open_grants([r.id for r in rows])
        return [_balance(r, grants[r.id]) for r in rows]

    async def _open_grants(self, balance_ids: list[str]) -> dict[str, list[Grant]]:
        found: dict[str, list[Grant]] = {b: [] for b in balance_ids}
        if not balance_ids:
            return found
        stmt = (
            select(BalanceTransactionRow)
            .where(
                col(BalanceTransactionRow.balance_id).in_(balance_ids),
                col(BalanceTransactionRow.open_quantity).is_not(None),
            )
            .order_by(col(BalanceTransactionRow.id))
            .execution_options(populate_existing=True)
        )
        for row in (await self.session.exec(stmt)).all():
            found[row.balance_id].append(_grant(row))
        return found

    def _insert_transactions(self, balance: Balance) -> None:
        grants = {g.id: g for g in balance.grants}
        for t in balance.new_transactions:
            self.session.add(
                BalanceTransactionRow(
                    id=t.id,
                    balance_id=t.balance_id,
                    account_id=t.account_id,
                    kind=t.kind.value,
                    quantity=t.quantity,
                    unit_price=t.unit_price,
                    amount=t.amount,
                    grant_id=t.grant_id,
                    open_quantity=_open(grants[t.id].open_quantity) if t.kind in GRANT_KINDS else None,
                    expires_on=t.expires_on,
                    reference=t.reference,
                    occurred_on=t.on,
                    created_at=t.created_at,
                )
            )
        balance.new_transactions.clear()
