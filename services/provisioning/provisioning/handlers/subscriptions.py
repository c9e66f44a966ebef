"""Use cases of subscriptions: suspend, resume, cancel, change, and the term-end run."""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

import provisioning.handlers
from libs.platform.errors import Conflict, ValidationFailed
from libs.platform.money import round_money
from libs.platform.pagination import Page, PageRequest, paginate
from libs.platform.unit_of_work import UnitOfWork
from provisioning import repository as repo
from provisioning.catalog_client import (
    CatalogClient,
    CatalogRejected,
    QuoteItem,
)
from provisioning.domain.subscriptions import (
    TerminationFee,
    TermOutcome,
)
from provisioning.events.subscriptions import subscription_payloads
from provisioning.handlers.common import (
    MAX_LINE_QUANTITY,
    commit_change,
    emit_all,
    filtered,
    page_of_aggregates,
)
from provisioning.models import (
    SubscriptionChangeRow,
    SubscriptionRow,
)
from provisioning.repository.common import today
from provisioning.repository.subscriptions import StoredSubscription
from provisioning.schemas.subscriptions import (
    SubscriptionAction,
    SubscriptionChange,
    SubscriptionPublic,
    TermEndsPublic,
    history_entry_public,
    subscription_public,
)


async def _subscription_change(
    uow: UnitOfWork, stored: StoredSubscription, action: str, changes: dict[str, Any]
) -> SubscriptionPublic:
    await repo.save_subscription(uow.session, stored)
    sub = stored.subscription
    payloads = subscription_payloads(stored)
    await commit_change(uow, action, ("subscription", sub.id), changes, payloads, sub.account_id)
    return subscription_public(stored)


async def suspend_subscription(
    *, uow: UnitOfWork, subscription_id: str, command: SubscriptionAction, actor: str
) -> SubscriptionPublic:
    """active → suspended."""
    stored = await repo.get_subscription(uow.session, subscription_id, for_update=True)
    stored.subscription.suspend(effective=command.effective_date or today(), by=actor, reason=command.reason)
    return await _subscription_change(uow, stored, "subscription.suspended", command.model_dump(mode="json"))


async def resume_subscription(
    *, uow: UnitOfWork, subscription_id: str, command: SubscriptionAction, actor: str
) -> SubscriptionPublic:
    """suspended → active."""
    stored = await repo.get_subscription(uow.session, subscription_id, for_update=True)
    stored.subscription.resume(effective=command.effective_date or today(), by=actor)
    return await _subscription_change(uow, stored, "subscription.resumed", command.model_dump(mode="json"))


async def cancel_subscription(
    *,
    uow: UnitOfWork,
    catalog: CatalogClient,
    subscription_id: str,
    command: SubscriptionAction,
    actor: str,
) -> SubscriptionPublic:
    """active or suspended → cancelled from the effective date.

    Ending a committed term early with an agreed fee price charges the fee, quoted by the catalog
    now for the committed quantity (a flat price is one fee, a per-unit price one per committed
    unit), and puts it on `subscription.cancelled` for invoicing to bill.
    """
    stored = await repo.get_subscription(uow.session, subscription_id, for_update=True)
    sub = stored.subscription
    effective = command.effective_date or today()
    fee = await _termination_fee(catalog, stored) if sub.termination_fee_due(effective) else None
    sub.cancel(effective=effective, by=actor, reason=command.reason, termination_fee=fee)
    return await _subscription_change(uow, stored, "subscription.cancelled", command.model_dump(mode="json"))


async def _termination_fee(catalog: CatalogClient, stored: StoredSubscription) -> TerminationFee:
    sub = stored.subscription
    assert sub.termination_fee_price_id is not None
    try:
        quote = await catalog.quote(
            currency=stored.currency,
            as_of=today(),
            items=[QuoteItem(sub.termination_fee_price_id, sub.commitment_quantity)],
        )
    except CatalogRejected as exc:
        raise Conflict(
            f"The termination fee price {sub.termination_fee_price_id!r} cannot be priced: {exc.detail}"
        ) from None
    if len(quote.lines) != 1:
        raise Conflict("The catalog did not price the termination fee")
    quoted = quote.lines[0]
    return TerminationFee(
        price_id=quoted.price_id,
        price_version=quoted.price_version,
        amount=round_money(quoted.net_amount, stored.currency),
        currency=stored.currency,
    )


async def change_subscription(
    *, uow: UnitOfWork, subscription_id: str, command: SubscriptionChange, actor: str
) -> SubscriptionPublic:
    """Change quantity and/or term end from an effective date (both checked before either applies)."""
    if command.quantity is None and command.term_end is None:
        raise ValidationFailed.single("quantity", "send a new quantity or a new term_end", "required")
    if command.quantity is not None and command.quantity > MAX_LINE_QUANTITY:
        raise ValidationFailed.single("quantity", f"must be at most {MAX_LINE_QUANTITY}")
    stored = await repo.get_subscription(uow.session, subscription_id, for_update=True)
    sub = stored.subscription
    if command.quantity is not None:
        sub.change_quantity(command.quantity, effective=command.effective_date, by=actor)
    if command.term_end is not None:
        sub.change_term(new_term_end=command.term_end, effective=command.effective_date, by=actor)
    return await _subscription_change(uow, stored, "subscription.changed", command.model_dump(mode="json"))


async def get_subscription(*, session: AsyncSession, subscription_id: str) -> SubscriptionPublic:
    """One subscription."""
    return subscription_public(await repo.get_subscription(session, subscription_id))


async def subscription_history(
    *, session: AsyncSession, subscription_id: str, page: PageRequest
) -> Page[Any]:
    """A subscription's change history, oldest first."""
    await repo.get_subscription(session, subscription_id)
    stmt = select(SubscriptionChangeRow).where(SubscriptionChangeRow.subscription_id == subscription_id)
    return await paginate(session, stmt, SubscriptionChangeRow.id, page, history_entry_public)


async def list_subscriptions(
    *,
    session: AsyncSession,
    page: PageRequest,
    account_id: str | None,
    state: str | None,
    order_id: str | None,
) -> Page[Any]:
    """A page of subscriptions."""
    stmt = filtered(SubscriptionRow, account_id=account_id, state=state, order_id=order_id)
    return await page_of_aggregates(
        session,
        stmt,
        SubscriptionRow.id,
        page,
        lambda i: get_subscription(session=session, subscription_id=i),
    )


async def process_term_ends(*, uow: UnitOfWork, as_of: date, actor: str) -> TermEndsPublic:
    """Renew or expire every active subscription whose term ended by `as_of`.

    Works through the due subscriptions a chunk at a time (two reads and a few set writes per
    chunk), each chunk committed on its own with its events, so a long run holds no long lock and
    an interrupted run is finished by running it again; a second run for a date changes nothing.
    """
    session = uow.session
    outcomes: Counter[TermOutcome] = Counter()
    after = ""
    # Read from the package so the chunk size is tuned in one place (tests shrink it).
    limit = provisioning.handlers.TERM_END_CHUNK
    while chunk := await repo.subscriptions_at_term_end(session, as_of, after=after, limit=limit):
        for stored in chunk:
            sub = stored.subscription
            outcome = sub.process_term_ends(as_of=as_of, by=actor)
            if outcome is None:
                continue
            outcomes[outcome] += 1
            uow.audit(
                f"subscription.{outcome.value}",
                "subscription",
                sub.id,
                {"as_of": as_of.isoformat(), "term_end": sub.term_end.isoformat()},
            )
            emit_all(uow, subscription_payloads(stored), sub.account_id)
        await repo.save_subscriptions(session, chunk)
        await uow.commit()
        after = chunk[-1].subscription.id
    return TermEndsPublic(
        as_of=as_of, renewed=outcomes[TermOutcome.RENEWED], expired=outcomes[TermOutcome.EXPIRED]
    )
