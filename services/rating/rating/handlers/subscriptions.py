"""The read model of accounts and subscriptions: its port, and the handlers of `provisioning.events`.

account.opened / account.changed keep an account's currency, bill-cycle day, time zone and
parent; every subscription.* event keeps the subscription's state, quantity, pinned price and
term. Each event carries the whole state after the change; an event older than the one last
applied (by `occurred_at`) changes nothing. A committed change bumps the read model's
generation (migration 0010's triggers), which drops what usage ingestion and entitlement checks
keep of it, in every process.
"""

from __future__ import annotations

import abc
from collections.abc import Collection
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from libs.contracts.provisioning import AccountProfile, SubscriptionEvent
from rating.domain.subscriptions import Account, Subscription, supersedes

if TYPE_CHECKING:
    from rating.handlers.unit_of_work import RatingUnitOfWork


class SubscriptionReadModel(abc.ABC):
    """Stored accounts and subscriptions (the port; SQL in `rating.repository.subscriptions`)."""

    @abc.abstractmethod
    async def accounts(self, account_ids: Collection[str]) -> dict[str, Account]:
        """The stored accounts of these ids (unknown ones left out)."""

    @abc.abstractmethod
    async def subscriptions(self, subscription_ids: Collection[str]) -> dict[str, Subscription]:
        """The stored subscriptions of these ids (unknown ones left out)."""

    async def account(self, account_id: str) -> Account | None:
        """The stored account of this id, if rating knows it."""
        return (await self.accounts([account_id])).get(account_id)

    async def subscription(self, subscription_id: str) -> Subscription | None:
        """The stored subscription of this id, if rating knows it."""
        return (await self.subscriptions([subscription_id])).get(subscription_id)

    @abc.abstractmethod
    async def subscription_and_account(
        self, subscription_id: str
    ) -> tuple[Subscription, Account | None] | None:
        """A subscription with its account (one read), or None when the subscription is unknown."""

    @abc.abstractmethod
    async def save_account(self, account: Account) -> None:
        """Insert or replace an account."""

    @abc.abstractmethod
    async def save_subscription(self, subscription: Subscription) -> None:
        """Insert or replace a subscription."""


def account_of(profile: AccountProfile, occurred_at: datetime) -> Account:
    """The stored form of an account event."""
    return Account(
        account_id=profile.account_id,
        customer_id=profile.customer_id,
        parent_account_id=profile.parent_account_id,
        currency=profile.currency,
        bill_cycle_day=profile.bill_cycle_day,
        time_zone=profile.time_zone,
        event_at=occurred_at,
    )


def subscription_of(event: SubscriptionEvent, occurred_at: datetime, event_kind: str) -> Subscription:
    """The stored form of a subscription event."""
    return Subscription(
        subscription_id=event.subscription_id,
        account_id=event.account_id,
        product_id=event.product_id,
        price_id=event.price_id,
        price_version=event.price_version,
        currency=event.currency,
        charge_type=None if event.charge_type is None else event.charge_type.value,
        billing_period=None if event.billing_period is None else event.billing_period.value,
        state=event.state,
        quantity=Decimal(event.quantity),
        term_start=event.term_start,
        term_end=event.term_end,
        effective_date=event.effective_date,
        event_at=occurred_at,
        event_kind=event_kind,
    )


async def apply_account_event(
    *, uow: RatingUnitOfWork, profile: AccountProfile, occurred_at: datetime
) -> bool:
    """Keep the account's billing profile unless a newer event was applied; True when applied."""
    stored = (await uow.subscriptions.accounts([profile.account_id])).get(profile.account_id)
    if not supersedes(occurred_at, None if stored is None else stored.event_at):
        return False
    await uow.subscriptions.save_account(account_of(profile, occurred_at))
    await uow.commit()
    return True


async def apply_subscription_event(
    *, uow: RatingUnitOfWork, event: SubscriptionEvent, occurred_at: datetime, event_kind: str
) -> bool:
    """Keep the subscription's state, quantity, price pin and term unless a newer event was applied."""
    stored = (await uow.subscriptions.subscriptions([event.subscription_id])).get(event.subscription_id)
    if not supersedes(occurred_at, None if stored is None else stored.event_at):
        return False
    await uow.subscriptions.save_subscription(subscription_of(event, occurred_at, event_kind))
    await uow.commit()
    return True
