"""The provisioning events rating consumes (accounts, subscriptions, a cancellation), as their
producer sends them, with test defaults: one builder each for the unit and integration tests."""

from __future__ import annotations

from datetime import date
from typing import Any, TypeVar

from libs.contracts import provisioning

E = TypeVar("E", bound=provisioning.SubscriptionEvent)


def account_opened(
    account_id: str = "acct_1",
    *,
    currency: str = "USD",
    bill_cycle_day: int = 1,
    time_zone: str = "UTC",
    model: type[provisioning.AccountProfile] = provisioning.AccountOpened,
) -> provisioning.AccountProfile:
    """`account.opened` (or another account event) of a taxable account billed by email."""
    return model(
        account_id=account_id,
        customer_id="cus_1",
        name="Acme",
        currency=currency,
        bill_cycle_day=bill_cycle_day,
        time_zone=time_zone,
        payment_terms_days=30,
        delivery="email",
        tax=provisioning.TaxInfo(treatment="taxable"),
    )


def subscription_event(
    model: type[E],
    subscription_id: str = "sub_1",
    account_id: str = "acct_1",
    *,
    state: str = "active",
    **fields: Any,
) -> E:
    """A subscription event: seed 001's ringtones (usage, 0.50 each, monthly) from 2026-07-01 for a
    year unless `fields` say otherwise."""
    terms: dict[str, Any] = {
        "product_id": "prod_ringtones",
        "price_id": "price_ringtones",
        "price_version": 1,
        "currency": "USD",
        "unit_price": "0.50",
        "discount_percent": "0",
        "charge_type": "usage",
        "billing_period": "monthly",
        "quantity": "1",
        "commitment_quantity": "0",
        "license_type": "pay_as_you_go",
        "term_start": date(2026, 7, 1),
        "term_end": date(2027, 7, 1),
        "renewal": "expire",
        "effective_date": date(2026, 7, 1),
    }
    terms.update(fields)
    return model(subscription_id=subscription_id, account_id=account_id, state=state, **terms)


def subscription_cancelled(
    subscription_id: str = "sub_1", account_id: str = "acct_1", *, on: date
) -> provisioning.SubscriptionCancelled:
    """`subscription.cancelled` of a 2026 support subscription (150.00), effective `on`, before its end."""
    return subscription_event(
        provisioning.SubscriptionCancelled,
        subscription_id,
        account_id,
        state="cancelled",
        product_id="prod_support",
        price_id="price_support",
        unit_price="150",
        charge_type=None,
        billing_period=None,
        license_type="subscription",
        term_start=date(2026, 1, 1),
        term_end=date(2027, 1, 1),
        effective_date=on,
        ended_before_term=True,
    )
