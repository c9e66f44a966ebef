"""The read model of accounts and subscriptions in SQL: `rating_accounts`, `rating_subscriptions`."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from rating.domain.subscriptions import Account, Subscription
from rating.handlers.subscriptions import SubscriptionReadModel
from rating.models import RatedAccount, RatedSubscription


def account_of(row: RatedAccount) -> Account:
    """The account of a row."""
    return Account(
        account_id=row.account_id,
        customer_id=row.customer_id,
        parent_account_id=row.parent_account_id,
        currency=row.currency,
        bill_cycle_day=row.bill_cycle_day,
        time_zone=row.time_zone,
        event_at=row.event_at,
    )


def subscription_of(row: RatedSubscription) -> Subscription:
    """The subscription of a row."""
    return Subscription(
        subscription_id=row.subscription_id,
        account_id=row.account_id,
        product_id=row.product_id,
        price_id=row.price_id,
        price_version=row.price_version,
        currency=row.currency,
        charge_type=row.charge_type,
        billing_period=row.billing_period,
        state=row.state,
        quantity=row.quantity,
        term_start=row.term_start,
        term_end=row.term_end,
        effective_date=row.effective_date,
        event_at=row.event_at,
        event_kind=row.event_kind,
    )


def _columns(value: Any) -> dict[str, Any]:
    return dict(value.__dict__)


class SqlSubscriptionReadModel(SubscriptionReadModel):
    """Accounts and subscriptions over their two tables."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def accounts(self, account_ids: Collection[str]) -> dict[str, Account]:
        """The stored accounts of these ids."""
        if not account_ids:
            return {}
        stmt = select(RatedAccount).where(col(RatedAccount.account_id).in_(set(account_ids)))
        return {row.account_id: account_of(row) for row in (await self.session.exec(stmt)).all()}

    async def subscriptions(self, subscription_ids: Collection[str]) -> dict[str, Subscription]:
        """The stored subscriptions of these ids."""
        if not subscription_ids:
            return {}
        stmt = select(RatedSubscription).where(
            col(RatedSubscription.subscription_id).in_(set(subscription_ids))
        )
        return {row.subscription_id: subscription_of(row) for row in (await self.session.exec(stmt)).all()}

    async def subscription_and_account(
        self, subscription_id: str
    ) -> tuple[Subscription, Account | None] | None:
        """The subscription with its account, in one read."""
        stmt = (
            select(RatedSubscription, RatedAccount)
            .join(
                RatedAccount, col(RatedAccount.account_id) == col(RatedSubscription.account_id), isouter=True
            )
            .where(col(RatedSubscription.subscription_id) == subscription_id)
        )
        found = (await self.session.exec(stmt)).first()
        if found is None:
            return None
        subscription, account = found
        return subscription_of(subscription), None if account is None else account_of(account)

    async def save_account(self, account: Account) -> None:
        """Insert or replace an account row."""
        await self.session.merge(RatedAccount(**_columns(account)))

    async def save_subscription(self, subscription: Subscription) -> None:
        """Insert or replace a subscription row."""
        await self.session.merge(RatedSubscription(**_columns(subscription)))
