"""Collections' requests (from invoicing): suspend or resume an account's subscriptions."""

from __future__ import annotations

from libs.contracts.collections import CollectionsRequest
from libs.platform.periods import local_date
from libs.platform.unit_of_work import UnitOfWork
from provisioning import repository as repo
from provisioning.domain.subscriptions import (
    SubscriptionState,
)
from provisioning.events.subscriptions import subscription_payloads
from provisioning.handlers.common import emit_all, log
from provisioning.models import (
    AccountRow,
)


async def apply_collections_request(*, uow: UnitOfWork, request: CollectionsRequest, suspend: bool) -> int:
    """Suspend (or resume) every active (or suspended) subscription of the account.

    The change takes effect on the account's local date of the request. An unknown account
    changes nothing: collections may know accounts this service never provisioned.
    """
    session = uow.session
    account_row = await session.get(AccountRow, request.account_id)
    if account_row is None:
        log.warning("collections.unknown_account", account_id=request.account_id)
        return 0
    effective = local_date(request.requested_at, account_row.time_zone)
    state = SubscriptionState.ACTIVE if suspend else SubscriptionState.SUSPENDED
    changed = 0
    for stored in await repo.subscriptions_of_account(session, request.account_id, {state}):
        sub = stored.subscription
        if suspend:
            sub.suspend(effective=effective, by="collections", reason=request.reason)
        else:
            sub.resume(effective=effective, by="collections")
        await repo.save_subscription(session, stored)
        uow.audit(
            "subscription.suspended" if suspend else "subscription.resumed",
            "subscription",
            sub.id,
            {"reason": request.reason, "requested_at": request.requested_at.isoformat()},
        )
        emit_all(uow, subscription_payloads(stored), sub.account_id)
        changed += 1
    await uow.commit()
    return changed
