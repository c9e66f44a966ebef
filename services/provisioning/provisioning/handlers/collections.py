"""Collections' requests (from invoicing): suspend or resume an account's subscriptions."""

from __future__ import annotations

from libs.contracts.collections import CollectionsRequest
from libs.platform.logging import get_logger
from libs.platform.periods import local_date
from provisioning.domain.subscriptions import SubscriptionState
from provisioning.handlers.unit_of_work import ProvisioningUnitOfWork

log = get_logger("provisioning.handlers")


async def apply_collections_request(
    *, uow: ProvisioningUnitOfWork, request: CollectionsRequest, suspend: bool
) -> int:
    """Suspend (or resume) every active (or suspended) subscription of the account.

    The change takes effect on the account's local date of the request. An unknown account
    changes nothing: collections may know accounts this service never provisioned.
    """
    account = await uow.customers.find_account(request.account_id)
    if account is None:
        log.warning("collections.unknown_account", account_id=request.account_id)
        return 0
    effective = local_date(request.requested_at, account.billing_profile.time_zone)
    state = SubscriptionState.ACTIVE if suspend else SubscriptionState.SUSPENDED
    changed = 0
    for stored in await uow.subscriptions.of_account(request.account_id, {state}):
        sub = stored.subscription
        if suspend:
            sub.suspend(effective=effective, by="collections", reason=request.reason)
        else:
            sub.resume(effective=effective, by="collections")
        await uow.subscriptions.save(stored)
        uow.audit(
            "subscription.suspended" if suspend else "subscription.resumed",
            "subscription",
            sub.id,
            {"reason": request.reason, "requested_at": request.requested_at.isoformat()},
        )
        changed += 1
    await uow.commit()
    return changed
