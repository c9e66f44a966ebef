"""Subscriptions on the service's database: the billing facts kept beside each one and its
append-only change history (histories are read for a whole set of subscriptions in one query).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date, datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from libs.contracts.vocabulary import BillingFrequency, BillingTiming, ChargeType, LicenseType
from libs.platform.db import utcnow
from libs.platform.ids import new_id
from libs.platform.pagination import Page, PageRequest, paginate
from provisioning.domain.subscriptions import (
    ChangeKind,
    RenewalKind,
    RenewalPolicy,
    Subscription,
    SubscriptionChange,
    SubscriptionSnapshot,
    SubscriptionState,
    TerminationFee,
)
from provisioning.handlers.records import RecordedChange, StoredSubscription
from provisioning.handlers.unit_of_work import SubscriptionRepository
from provisioning.models import SubscriptionChangeRow, SubscriptionRow
from provisioning.repository.common import find_row, optional_enum, put, rows_page, with_data


def _snapshot_row(prefix: str, row: SubscriptionChangeRow) -> SubscriptionSnapshot:
    return SubscriptionSnapshot(
        SubscriptionState(getattr(row, f"{prefix}_state")),
        getattr(row, f"{prefix}_quantity"),
        getattr(row, f"{prefix}_term_start"),
        getattr(row, f"{prefix}_term_end"),
        row.price_id,
        row.price_version,
    )


def _change_from_row(c: SubscriptionChangeRow) -> SubscriptionChange:
    return SubscriptionChange(
        ChangeKind(c.kind),
        c.effective_date,
        _snapshot_row("before", c),
        _snapshot_row("after", c),
        c.by,
        c.reason,
    )


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
        charge_type=optional_enum(ChargeType, row.charge_type),
        billing_period=optional_enum(BillingFrequency, row.billing_period),
        billing_timing=optional_enum(BillingTiming, row.billing_timing),
        order_line_id=row.order_line_id,
        created_at=row.created_at,
        updated_at=row.updated_at,
        history_saved=len(history),
    )


class SqlSubscriptionRepository(SubscriptionRepository):
    """Subscriptions and their histories in the service's database."""

    def __init__(self, session: AsyncSession) -> None:
        super().__init__()
        self.session = session

    async def _with_history(self, rows: Sequence[SubscriptionRow]) -> list[StoredSubscription]:
        """The subscriptions of `rows` with their histories, read in one query."""
        histories: dict[str, list[SubscriptionChange]] = {row.id: [] for row in rows}
        if rows:
            changes = (
                await self.session.exec(
                    select(SubscriptionChangeRow)
                    .where(col(SubscriptionChangeRow.subscription_id).in_(list(histories)))
                    .order_by(col(SubscriptionChangeRow.subscription_id), col(SubscriptionChangeRow.sequence))
                )
            ).all()
            for c in changes:
                histories[c.subscription_id].append(_change_from_row(c))
        return [_stored_subscription(row, histories[row.id]) for row in rows]

    async def find(self, subscription_id: str, *, for_update: bool = False) -> StoredSubscription | None:
        """The subscription with its history, or None."""
        row = await find_row(self.session, SubscriptionRow, subscription_id, for_update=for_update)
        return (await self._with_history([row]))[0] if row else None

    async def of_account(
        self, account_id: str, states: Collection[SubscriptionState]
    ) -> list[StoredSubscription]:
        """The account's subscriptions in the given states, locked for a change, oldest first."""
        rows = (
            await self.session.exec(
                select(SubscriptionRow)
                .where(
                    SubscriptionRow.account_id == account_id,
                    col(SubscriptionRow.state).in_([s.value for s in states]),
                )
                .order_by(SubscriptionRow.id)
                .with_for_update()
            )
        ).all()
        return await self._with_history(rows)

    async def at_term_end(self, as_of: date, *, after: str, limit: int) -> list[StoredSubscription]:
        """Up to `limit` active subscriptions whose term ended by `as_of`, ids after `after`, locked.

        Two queries per chunk whatever its size: the rows, then all their histories.
        """
        rows = (
            await self.session.exec(
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
        return await self._with_history(rows)

    async def page(
        self,
        page: PageRequest,
        *,
        account_id: str | None,
        state: SubscriptionState | None,
        order_id: str | None,
    ) -> Page[StoredSubscription]:
        """A page of subscriptions by id, with their histories (two queries per page)."""
        rows = await rows_page(
            self.session,
            SubscriptionRow,
            page,
            account_id=account_id,
            state=state.value if state else None,
            order_id=order_id,
        )
        return with_data(rows, await self._with_history(rows.data))

    async def history_page(self, subscription_id: str, page: PageRequest) -> Page[RecordedChange]:
        """A page of one subscription's history, oldest first."""
        stmt = select(SubscriptionChangeRow).where(SubscriptionChangeRow.subscription_id == subscription_id)
        return await paginate(
            self.session,
            stmt,
            SubscriptionChangeRow.id,
            page,
            lambda c: RecordedChange(c.sequence, _change_from_row(c), c.recorded_at),
        )

    async def save(self, stored: StoredSubscription) -> None:
        """Stage a new or changed subscription and its new history entries."""
        await self.save_many([stored])

    async def save_many(self, stored_many: Sequence[StoredSubscription]) -> None:
        """Stage subscriptions and their new history entries, in set statements."""
        now = utcnow()
        ids = [stored.subscription.id for stored in stored_many]
        with self.session.no_autoflush:
            # One read for every row (from the session's identity map where loaded), no flush per row.
            rows = {
                row.id: row
                for row in (
                    await self.session.exec(select(SubscriptionRow).where(col(SubscriptionRow.id).in_(ids)))
                ).all()
            }
        for stored in stored_many:
            sub, fee = stored.subscription, stored.subscription.termination_fee
            stored.created_at = stored.created_at or now
            stored.updated_at = now
            put(
                self.session,
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
        await self.session.flush()
        for stored in stored_many:
            self._add_history(stored, now)
        for stored in stored_many:
            self._staged(stored)

    def _add_history(self, stored: StoredSubscription, now: datetime) -> None:
        sub = stored.subscription
        new_changes = sub.history[stored.history_saved :]
        # History pages are ordered by id: ids made in one millisecond must still sort in sequence.
        ids = sorted(new_id("subchg") for _ in new_changes)
        for offset, change in enumerate(new_changes):
            self.session.add(
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
