"""Subscription events → `libs.contracts.provisioning` payloads, with the billing facts kept beside
the subscription (currency, unit price, billing period) that consumers need.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from libs.contracts import provisioning as wire
from libs.contracts.envelope import EventPayload
from libs.platform.money import decimal_out, percent_out, unit_price_out
from provisioning.domain import subscriptions as subs
from provisioning.events.common import Outgoing, taken
from provisioning.handlers.records import StoredSubscription
from provisioning.schemas.subscriptions import termination_fee_fields

_SUBSCRIPTION_EVENTS: dict[type[subs.SubscriptionEvent], type[wire.SubscriptionEvent]] = {
    subs.SubscriptionActivated: wire.SubscriptionActivated,
    subs.SubscriptionChanged: wire.SubscriptionChanged,
    subs.SubscriptionSuspended: wire.SubscriptionSuspended,
    subs.SubscriptionResumed: wire.SubscriptionResumed,
    subs.SubscriptionCancelled: wire.SubscriptionCancelled,
    subs.SubscriptionExpired: wire.SubscriptionExpired,
    subs.SubscriptionRenewed: wire.SubscriptionRenewed,
}


def contracts_of(stored: StoredSubscription) -> list[Outgoing]:
    """The contracts of what a subscription recorded, keyed by its account."""
    sub = stored.subscription
    return [(payload, sub.account_id) for payload in subscription_payloads(stored, taken(sub))]


def subscription_payloads(stored: StoredSubscription, events: Iterable[object]) -> Iterator[EventPayload]:
    """The wire events of a subscription's recorded events, with its billing facts."""
    sub = stored.subscription
    for event in events:
        if not isinstance(event, subs.SubscriptionEvent):
            continue
        model = _SUBSCRIPTION_EVENTS.get(type(event))
        if model is None:
            continue
        extra: dict[str, object] = {}
        if isinstance(event, subs.SubscriptionChanged):
            extra = {
                "change": event.change.value,
                "previous_quantity": decimal_out(event.previous_quantity),
                "previous_term_end": event.previous_term_end,
            }
        elif isinstance(event, subs.SubscriptionSuspended):
            extra = {"reason": event.reason}
        elif isinstance(event, subs.SubscriptionRenewed):
            extra = {"previous_term_end": event.previous_term_end}
        elif isinstance(event, subs.SubscriptionCancelled):
            fee = event.termination_fee
            extra = {
                "reason": event.reason,
                "ended_before_term": event.ended_before_term,
                "termination_fee": wire.TerminationFee(**termination_fee_fields(fee)) if fee else None,
            }
        yield model(
            subscription_id=event.subscription_id,
            account_id=event.account_id,
            order_id=sub.order_id,
            product_id=event.product_id,
            price_id=event.price_id,
            price_version=event.price_version,
            currency=stored.currency,
            unit_price=unit_price_out(stored.unit_price),
            discount_percent=percent_out(stored.discount_percent),
            charge_type=stored.charge_type,
            billing_period=stored.billing_period,
            billing_timing=stored.billing_timing,
            quantity=decimal_out(event.quantity),
            commitment_quantity=decimal_out(event.commitment_quantity),
            license_type=event.license_type.value,
            term_start=event.term_start,
            term_end=event.term_end,
            renewal=sub.renewal.kind.value,
            renewal_months=sub.renewal.months,
            state=sub.state.value,
            effective_date=event.effective_date,
            **extra,
        )
