"""Use cases of subscriptions: suspend, resume, cancel, change, and the term-end run."""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

import provisioning.handlers
from libs.platform.errors import Conflict, ValidationFailed
from libs.platform.money import round_money
from libs.platform.pagination import Page, PageRequest
from provisioning.catalog_client import CatalogClient, CatalogRejected, QuoteItem
from provisioning.domain.subscriptions import SubscriptionState, TerminationFee, TermOutcome
from provisioning.handlers.common import MAX_LINE_QUANTITY, account_date, commit_change, public_page
from provisioning.handlers.records import StoredSubscription
from provisioning.handlers.unit_of_work import ProvisioningUnitOfWork
from provisioning.schemas.subscriptions import (
    SubscriptionAction,
    SubscriptionChange,
    SubscriptionChangePublic,
    SubscriptionPublic,
    TermEndsPublic,
    history_entry_public,
    subscription_public,
)


async def _subscription_change(
    uow: ProvisioningUnitOfWork, stored: StoredSubscription, action: str, changes: dict[str, Any]
) -> SubscriptionPublic:
    await uow.subscriptions.save(stored)
    sub = stored.subscription
    await commit_change(uow, action, ("subscription", sub.id), changes)
    return subscription_public(stored)


async def suspend_subscription(
    *, uow: ProvisioningUnitOfWork, subscription_id: str, command: SubscriptionAction, actor: str
) -> SubscriptionPublic:
    """active → suspended."""
    stored = await uow.subscriptions.get(subscription_id, for_update=True)
    sub = stored.subscription
    effective = command.effective_date or await account_date(uow, sub.account_id)
    sub.suspend(effective=effective, by=actor, reason=command.reason)
    return await _subscription_change(uow, stored, "subscription.suspended", command.model_dump(mode="json"))


async def resume_subscription(
    *, uow: ProvisioningUnitOfWork, subscription_id: str, command: SubscriptionAction, actor: str
) -> SubscriptionPublic:
    """suspended → active."""
    stored = await uow.subscriptions.get(subscription_id, for_update=True)
    sub = stored.subscription
    sub.resume(effective=command.effective_date or await account_date(uow, sub.account_id), by=actor)
    return await _subscription_change(uow, stored, "subscription.resumed", command.model_dump(mode="json"))


async def cancel_subscription(
    *,
    uow: ProvisioningUnitOfWork,
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
    stored = await uow.subscriptions.get(subscription_id, for_update=True)
    sub = stored.subscription
    today = await account_date(uow, sub.account_id)
    effective = command.effective_date or today
    fee = await _termination_fee(catalog, stored, today) if sub.termination_fee_due(effective) else None
    sub.cancel(effective=effective, by=actor, reason=command.reason, termination_fee=fee)
    return await _subscription_change(uow, stored, "subscription.cancelled", command.model_dump(mode="json"))


async def _termination_fee(catalog: CatalogClient, stored: StoredSubscription, today: date) -> TerminationFee:
    sub = stored.subscription
    assert sub.termination_fee_price_id is not None
    try:
        quote = await catalog.quote(
            currency=stored.currency,
            as_of=today,
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
    *, uow: ProvisioningUnitOfWork, subscription_id: str, command: SubscriptionChange, actor: str
) -> SubscriptionPublic:
    """Change quantity and/or term end from an effective date (both checked before either applies)."""
    if command.quantity is None and command.term_end is None:
        raise ValidationFailed.single("quantity", "send a new quantity or a new term_end", "required")
    if command.quantity is not None and command.quantity > MAX_LINE_QUANTITY:
        raise ValidationFailed.single("quantity", f"must be at most {MAX_LINE_QUANTITY}")
    stored = await uow.subscriptions.get(subscription_id, for_update=True)
    sub = stored.subscription
    if command.quantity is not None:
        sub.change_quantity(command.quantity, effective=command.effective_date, by=actor)
    if command.term_end is not None:
        sub.change_term(new_term_end=command.term_end, effective=command.effective_date, by=actor)
    return await _subscription_change(uow, stored, "subscription.changed", command.model_dump(mode="json"))


async def get_subscription(*, uow: ProvisioningUnitOfWork, subscription_id: str) -> SubscriptionPublic:
    """One subscription."""
    return subscription_public(await uow.subscriptions.get(subscription_id))


async def subscription_history(
    *, uow: ProvisioningUnitOfWork, subscription_id: str, page: PageRequest
) -> Page[SubscriptionChangePublic]:
    """A subscription's change history, oldest first."""
    await uow.subscriptions.get(subscription_id)
    return public_page(await uow.subscriptions.history_page(subscription_id, page), history_entry_public)


async def list_subscriptions(
    *,
    uow: ProvisioningUnitOfWork,
    page: PageRequest,
    account_id: str | None,
    state: SubscriptionState | None,
    order_id: str | None,
) -> Page[SubscriptionPublic]:
    """A page of subscriptions (their histories read for the whole page at once)."""
    subscriptions = await uow.subscriptions.page(page, account_id=account_id, state=state, order_id=order_id)
    return public_page(subscriptions, subscription_public)


async def process_term_ends(*, uow: ProvisioningUnitOfWork, as_of: date, actor: str) -> TermEndsPublic:
    """Renew or expire every active subscription whose term ended by `as_of`.

    Works through the due subscriptions a chunk at a time (two reads and a few set writes per
    chunk), each chunk committed on its own with its events, so a long run holds no long lock and
    an interrupted run is finished by running it again; a second run for a date changes nothing.
    """
    outcomes: Counter[TermOutcome] = Counter()
    after = ""
    # Read from the package so the chunk size is tuned in one place (tests shrink it).
    limit = provisioning.handlers.TERM_END_CHUNK
    while chunk := await uow.subscriptions.at_term_end(as_of, after=after, limit=limit):
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
        await uow.subscriptions.save_many(chunk)
        await uow.commit()
        after = chunk[-1].subscription.id
    return TermEndsPublic(
        as_of=as_of, renewed=outcomes[TermOutcome.RENEWED], expired=outcomes[TermOutcome.EXPIRED]
    )
