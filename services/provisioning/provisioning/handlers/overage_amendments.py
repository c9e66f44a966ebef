"""Licenses kept after a vendor overage (`overage.licenses_kept`, seed 000): the customer keeps the
extra users, so the subscription's quantity rises to the tenant's user count — an upgrade from the
account's local date of the decision, billed (prorated) by invoicing from `subscription.changed`.

A decision for a subscription this service does not know, or that is no longer active, or that
already holds the quantity (a decision repeated), changes nothing and is logged.
"""

from __future__ import annotations

from libs.contracts.overage import OverageLicensesKept
from libs.platform.logging import get_logger
from libs.platform.periods import local_date
from provisioning.domain.subscriptions import SubscriptionState
from provisioning.handlers.unit_of_work import ProvisioningUnitOfWork

log = get_logger("provisioning.handlers")

OVERAGE_ACTOR = "overage"


async def apply_licenses_kept(*, uow: ProvisioningUnitOfWork, decision: OverageLicensesKept) -> bool:
    """Raise the subscription to the licenses kept; whether it changed (committed)."""
    stored = await uow.subscriptions.find(decision.subscription_id, for_update=True)
    if stored is None:
        log.warning("overage.unknown_subscription", subscription_id=decision.subscription_id)
        return False
    sub = stored.subscription
    if sub.state is not SubscriptionState.ACTIVE or sub.quantity >= decision.new_quantity:
        log.info(
            "overage.licenses_kept_ignored",
            subscription_id=sub.id,
            state=sub.state.value,
            quantity=str(sub.quantity),
            kept=str(decision.new_quantity),
        )
        return False
    account = await uow.customers.find_account(sub.account_id)
    zone = account.billing_profile.time_zone if account is not None else "UTC"
    effective = max(local_date(decision.decided_at, zone), sub.term_start)
    sub.change_quantity(decision.new_quantity, effective=effective, by=OVERAGE_ACTOR)
    await uow.subscriptions.save(stored)
    uow.audit(
        "subscription.changed",
        "subscription",
        sub.id,
        {
            "quantity": str(decision.new_quantity),
            "effective_date": effective.isoformat(),
            "overage_case_id": decision.case_id,
            "reason": "licenses kept after a vendor overage",
        },
    )
    await uow.commit()
    return True
