"""Subscriptions, the billing facts kept beside them and their append-only change history."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from libs.platform.db import utcnow
from libs.platform.ids import new_id
from provisioning.domain.subscriptions import (
    ChangeKind,
    LicenseType,
    RenewalKind,
    RenewalPolicy,
    Subscription,
    SubscriptionChange,
    SubscriptionSnapshot,
    SubscriptionState,
    TerminationFee,
)
from provisioning.models import (
    SubscriptionChangeRow,
    SubscriptionRow,
)
from provisioning.repository.common import _put, _row


@dataclass
class StoredSubscription:
    """A subscription with the billing facts kept beside it."""

    subscription: Subscription
    currency: str
    unit_price: Decimal
    discount_percent: Decimal
    charge_type: str | None
    billing_period: str | None
    billing_timing: str | None
    order_line_id: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    history_saved: int = 0


def _snapshot_row(prefix: str, row: SubscriptionChangeRow) -> SubscriptionSnapshot:
    return SubscriptionSnapshot(
        SubscriptionState(getattr(row, f"{prefix}_state")),
        getattr(row, f"{prefix}_quantity"),
        getattr(row, f"{prefix}_term_start"),
        getattr(row, f"{prefix}_term_end"),
        row.price_id,
        row.price_version,
    )


async def _subscriptions_from_rows(
    session: AsyncSession, rows: Sequence[SubscriptionRow]
) -> list[StoredSubscription]:
    """The subscriptions of `rows` with their histories, read in one query."""
    histories: dict[str, list[SubscriptionChange]] = {row.id: [] for row in rows}
    if rows:
        changes = (
            await session.exec(
                select(SubscriptionChangeRow)
                .where(col(SubscriptionChangeRow.subscription_id).in_(list(histories)))
                .order_by(col(SubscriptionChangeRow.subscription_id), col(SubscriptionChangeRow.sequence))
            )
        ).all()
        for c in changes:
            histories[c.subscription_id].append(
                SubscriptionChange(
                    ChangeKind(c.kind),
                    c.effective_date,
                    _snapshot_row("before", c),
                    _snapshot_row("after", c),
                    c.by,
                    c.reason,
                )
            )
    return [_stored_subscription(row, histories[row.id]) for row in rows]


def _stored_subscription(row: SubscriptionRow, history: list[SubscriptionChange]) -> StoredSubscription:
    subscription = Subscription(
        id=row.id,
        account_id=row.account_id,
        product_id=row.product_id,
        price_id=row.price_id,
        price_version=row.price_version,
        quantity=row.quantity,
        license_type=LicenseType(row.license_type),
        term_start=row.term_start,
        term_end=row.term_end,
        commitment_quantity=row.commitment_quantity,
        renewal=RenewalPolicy(RenewalKind(row.renewal_kind), row.renewal_months),
        state=SubscriptionState(row.state),
        order_id=row.order_id,
        termination_fee_price_id=row.termination_fee_price_id,
        termination_fee=(
            TerminationFee(
                row.termination_fee_price_id,
                row.termination_fee_price_version,
                row.termination_fee_amount,
                row.currency,
            )
            if row.termination_fee_price_id
            and row.termination_fee_price_version is not None
            and row.termination_fee_amount is not None
            else None
        ),
        history=history,
    )
    return StoredSubscription(
        subscription,
        currency=row.currency,
        unit_price=row.unit_price,
        discount_percent=row.discount_percent,
        charge_type=row.charge_type,
        billing_period=row.billing_period,
        billing_timing=row.billing_timing,
        order_line_id=row.order_line_id,
        created_at=row.created_at,
        updated_at=row.updated_at,
        history_saved=len(history),
    )


async def get_subscription(
    session: AsyncSession, subscription_id: str, *, for_update: bool = False
) -> StoredSubscription:
    """The subscription with its history, or NotFound."""
    row = await _row(session, SubscriptionRow, "subscription", subscription_id, for_update=for_update)
    return (await _subscriptions_from_rows(session, [row]))[0]


async def subscriptions_of_account(
    session: AsyncSession, account_id: str, states: set[SubscriptionState]
) -> list[StoredSubscription]:
    """The account's subscriptions in the given states, locked for a change, oldest first."""
    rows = (
        await session.exec(
            select(SubscriptionRow)
            .where(
                SubscriptionRow.account_id == account_id,
                col(SubscriptionRow.state).in_([s.value for s in states]),
            )
            .order_by(SubscriptionRow.id)
            .with_for_update()
        )
    ).all()
    return await _subscriptions_from_rows(session, rows)


async def subscriptions_at_term_end(
    session: AsyncSession, as_of: date, *, after: str, limit: int
) -> list[StoredSubscription]:
    """Up to `limit` active subscriptions whose term ended by `as_of`, ids after `after`, locked.

    Two queries per chunk whatever its size: the rows, then all their histories.
    """
    rows = (
        await session.exec(
            select(SubscriptionRow)
            .where(
                SubscriptionRow.state == SubscriptionState.ACTIVE.value,
                col(SubscriptionRow.term_end) <= as_of,
                col(SubscriptionRow.id) > after,
            )
            .order_by(SubscriptionRow.id)
            .limit(limit)
            .with_for_update()
        )
    ).all()
    return await _subscriptions_from_rows(session, rows)


async def save_subscription(session: AsyncSession, stored: StoredSubscription) -> None:
    """Insert or update a subscription and append its new history entries."""
    await save_subscriptions(session, [stored])


async def save_subscriptions(session: AsyncSession, stored_many: Sequence[StoredSubscription]) -> None:
    """Insert or update subscriptions and append their new history entries, in set statements."""
    now = utcnow()
    ids = [stored.subscription.id for stored in stored_many]
    with session.no_autoflush:
        # One read for every row (from the session's identity map where loaded), no flush per row.
        rows = {
            row.id: row
            for row in (
                await session.exec(select(SubscriptionRow).where(col(SubscriptionRow.id).in_(ids)))
            ).all()
        }
    for stored in stored_many:
        sub, fee = stored.subscription, stored.subscription.termination_fee
        stored.created_at = stored.created_at or now
        stored.updated_at = now
        _put(
            session,
            SubscriptionRow,
            rows.get(sub.id),
            {
                "id": sub.id,
                "account_id": sub.account_id,
                "order_id": sub.order_id,
                "order_line_id": stored.order_line_id,
                "product_id": sub.product_id,
                "price_id": sub.price_id,
                "price_version": sub.price_version,
                "currency": stored.currency,
                "unit_price": stored.unit_price,
                "discount_percent": stored.discount_percent,
                "charge_type": stored.charge_type,
                "billing_period": stored.billing_period,
                "billing_timing": stored.billing_timing,
                "quantity": sub.quantity,
                "commitment_quantity": sub.commitment_quantity,
                "license_type": sub.license_type.value,
                "term_start": sub.term_start,
                "term_end": sub.term_end,
                "renewal_kind": sub.renewal.kind.value,
                "renewal_months": sub.renewal.months,
                "state": sub.state.value,
                "termination_fee_price_id": sub.termination_fee_price_id,
                "termination_fee_price_version": fee.price_version if fee else None,
                "termination_fee_amount": fee.amount if fee else None,
                "created_at": stored.created_at,
                "updated_at": now,
            },
        )
    # The subscriptions first (the history references them), then every new entry at once.
    await session.flush()
    for stored in stored_many:
        _add_history(session, stored, now)


def _add_history(session: AsyncSession, stored: StoredSubscription, now: datetime) -> None:
    sub = stored.subscription
    new_changes = sub.history[stored.history_saved :]
    # History pages are ordered by id: ids made in one millisecond must still sort in sequence.
    ids = sorted(new_id("subchg") for _ in new_changes)
    for offset, change in enumerate(new_changes):
        session.add(
            SubscriptionChangeRow(
                id=ids[offset],
                subscription_id=sub.id,
                sequence=stored.history_saved + 1 + offset,
                kind=change.kind.value,
                effective_date=change.effective_date,
                by=change.by[:80],
                reason=change.reason,
                before_state=change.before.state.value,
                after_state=change.after.state.value,
                before_quantity=change.before.quantity,
                after_quantity=change.after.quantity,
                before_term_start=change.before.term_start,
                after_term_start=change.after.term_start,
                before_term_end=change.before.term_end,
                after_term_end=change.after.term_end,
                price_id=change.after.price_id,
                price_version=change.after.price_version,
                recorded_at=now,
            )
        )
    stored.history_saved = len(sub.history)
